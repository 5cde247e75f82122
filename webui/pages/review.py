"""The review queue: leases, decisions, skips."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from core.records import Category, Hit, HitStatus, PostKind
from indexer.base import SearchQuery, SortOrder
from webui.app import Console, display_name
from webui.auth import check_csrf
from webui.pages.common import con, evidence_rows, get_hit, need_user, render, shown_category

router = APIRouter()


def _queue(c: Console, limit: int, offset: int = 0) -> SearchQuery:
    """What the review queue is: new lead-generation hits at or above the review threshold, oldest first."""
    return SearchQuery(
        statuses=(HitStatus.new,),
        labels=("lead_gen",),
        min_score=c.review_min_score,
        sort=SortOrder.first_seen,
        limit=limit,
        offset=offset,
    )


def _in_queue(c: Console, hit: Hit) -> bool:
    return hit.status is HitStatus.new and hit.verdict.is_hit and hit.verdict.score >= c.review_min_score


def _remaining(c: Console, user: str, skip: set[str]) -> int:
    """How many items this analyst could still be given (the one on screen included): the queue, less what other
    analysts hold and what this one skipped."""
    total = c.store.search(_queue(c, limit=0)).total
    excluded = c.casebook.leased_by_others(user) | skip
    if excluded:
        total -= sum(1 for hit in c.store.get_many(sorted(excluded)) if _in_queue(c, hit))
    return max(0, total)


def _parent(c: Console, hit: Hit) -> Hit | None:
    """The post a comment answers (the classifier read it for the comment's category), when it is indexed."""
    if hit.post.kind is not PostKind.comment or not hit.post.parent_key:
        return None
    return c.store.get(hit.post.parent_key)


def _next_for(c: Console, user: str, skip: set[str]) -> Hit | None:
    """Claim and return the analyst's next item: their own unexpired lease first, then the oldest free one."""
    mine = c.casebook.my_lease(user)
    if mine and mine not in skip:
        hit = c.store.get(mine)
        if hit is not None and hit.status is HitStatus.new:
            c.casebook.claim(mine, user, c.lease_minutes)
            return hit
        c.casebook.release(mine, user)
    taken = c.casebook.leased_by_others(user)
    offset = 0
    while offset < 2000:
        result = c.store.search(_queue(c, limit=50, offset=offset))
        for hit in result.hits:
            if hit.key in taken or hit.key in skip:
                continue
            if c.casebook.claim(hit.key, user, c.lease_minutes):
                return hit
        offset += len(result.hits)
        if not result.hits or offset >= result.total:
            break
    return None


def _skipped(request: Request) -> set[str]:
    return set(request.session.get("skipped", []))


def _shown(c: Console, user: str, key: str) -> tuple[Hit | None, str | None]:
    """What GET /review shows, read-only (a GET never claims): the item asked for, else the analyst's own lease."""
    if not key:
        mine = c.casebook.my_lease(user)
        hit = c.store.get(mine) if mine else None
        return (hit, None) if hit is not None and hit.status is HitStatus.new else (None, None)
    hit = get_hit(c, key)
    if hit.status is not HitStatus.new:
        return None, f"这条已处理（{hit.status.value}）。"
    holder = c.casebook.lease_holder(hit.key)
    if holder not in (None, user):
        return None, f"这条正由 {holder} 审核。"
    return hit, None


@router.get("/review")
def review_page(request: Request, key: str = "", user: str = Depends(need_user)) -> Response:
    c = con(request)
    hit, notice = _shown(c, user, key)
    return render(
        request,
        "review.html",
        hit=hit,
        mine=hit is not None and c.casebook.lease_holder(hit.key) == user,
        notice=notice,
        category=shown_category(c, hit) if hit else None,
        threshold=c.review_min_score,
        lease_minutes=c.lease_minutes,
        evidence=evidence_rows(c, hit) if hit else [],
        flash=request.session.pop("flash", None),
        remaining=_remaining(c, user, _skipped(request)),
        parent=_parent(c, hit) if hit else None,
    )


def _to_next(request: Request, c: Console, user: str) -> Response:
    hit = _next_for(c, user, _skipped(request))
    if hit is None:
        request.session["flash"] = "队列已清空：没有待审核的内容（或都已被其他分析员领取）。"
    return RedirectResponse("/review", status_code=303)


@router.post("/review/next")
def review_next(request: Request, user: str = Depends(need_user), csrf: str = Form("")) -> Response:
    check_csrf(request, csrf)
    return _to_next(request, con(request), user)


@router.post("/review/claim")
def review_claim(
    request: Request, user: str = Depends(need_user), csrf: str = Form(""), key: str = Form(...)
) -> Response:
    check_csrf(request, csrf)
    c = con(request)
    hit = get_hit(c, key)
    if hit.status is HitStatus.new and not c.casebook.claim(hit.key, user, c.lease_minutes):
        request.session["flash"] = f"这条正由 {c.casebook.lease_holder(hit.key)} 审核，已为你分配下一条。"
        return _to_next(request, c, user)
    return RedirectResponse(f"/review?{urlencode({'key': key})}", status_code=303)


@router.post("/review/decide")
def review_decide(
    request: Request,
    user: str = Depends(need_user),
    csrf: str = Form(""),
    key: str = Form(...),
    action: str = Form(...),
    reason: str = Form(""),
    category: str = Form(""),
) -> Response:
    check_csrf(request, csrf)
    c = con(request)
    hit = get_hit(c, key)
    holder = c.casebook.lease_holder(key)
    if holder not in (None, user) or (holder is None and not c.casebook.claim(key, user, c.lease_minutes)):
        raise HTTPException(409, f"这条正由 {holder} 审核")
    if category and category not in Category.__members__:
        raise HTTPException(400, "未知类别")
    reason = reason.strip()[:2000]
    before = shown_category(c, hit)
    if action == "category":
        if not category:
            raise HTTPException(400, "请选择类别")
        c.casebook.record_review(
            key, user, "category", reason=reason, category_from=before, category_to=category, text=hit.post.text
        )
        request.session["flash"] = f"类别已改为 {display_name(category, 'category')}"
        return RedirectResponse(f"/review?{urlencode({'key': key})}", status_code=303)
    if hit.status is not HitStatus.new:
        raise HTTPException(409, f"这条已处理（{display_name(hit.status, 'hit_status')}）")
    if action == "confirm":
        status = HitStatus.confirmed
        chosen = category or (hit.verdict.category.value if hit.verdict.category else None)
    elif action == "dismiss":
        if not reason:
            raise HTTPException(400, "排除必须填写理由")
        status, chosen = HitStatus.dismissed, None
    else:
        raise HTTPException(400, "未知操作")
    # Casebook first (who/what/when/why), then the index: a crash in between leaves a decision the index can
    # be re-synced from, never a status change nobody can account for.
    c.casebook.record_review(
        key, user, status.value, reason=reason, category_from=before, category_to=chosen, text=hit.post.text
    )
    c.store.set_status([key], status)
    c.casebook.release(key, user)
    request.session["flash"] = f"已{'确认' if status is HitStatus.confirmed else '排除'}：{key}"
    return _to_next(request, c, user)


@router.post("/review/skip")
def review_skip(
    request: Request, user: str = Depends(need_user), csrf: str = Form(""), key: str = Form(...)
) -> Response:
    check_csrf(request, csrf)
    c = con(request)
    c.casebook.release(key, user)
    skipped = [*[k for k in request.session.get("skipped", []) if k != key][-199:], key]
    request.session["skipped"] = skipped
    c.casebook.audit(user, "review:skip", "", {"hit_key": key})
    return _to_next(request, c, user)
