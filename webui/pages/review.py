"""The review queue: leases, decisions (one for a whole near-identical cluster), undo, reopen, skips."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from alerts.takedown.workflow import reopen_hit
from core.records import (
    CATEGORY_NAMES_ZH,
    DISMISS_REASON_NAMES_ZH,
    REOPENABLE,
    STATUS_NAMES_ZH,
    Category,
    DismissReason,
    Hit,
    HitStatus,
    IllegalTransition,
    PostKind,
)
from indexer.base import SearchQuery, SortOrder
from webui import related
from webui.app import Console, display_name
from webui.auth import check_csrf
from webui.pages.common import con, evidence_rows, get_hit, need_user, render, safe_next, shown_category

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
        return None, f"这条已处理（{STATUS_NAMES_ZH[hit.status]}）。"
    holder = c.casebook.lease_holder(hit.key)
    if holder not in (None, user):
        return None, f"这条正由 {holder} 审核。"
    return hit, None


@router.get("/review")
def review_page(request: Request, key: str = "", user: str = Depends(need_user)) -> Response:
    c = con(request)
    hit, notice = _shown(c, user, key)
    reopen_key = key if notice and key and c.casebook.state(key) in REOPENABLE else None
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
        cluster=related.review_cluster(c.store, hit, c.casebook.leased_by_others(user)) if hit else [],
        flash=request.session.pop("flash", None),
        remaining=_remaining(c, user, _skipped(request)),
        parent=_parent(c, hit) if hit else None,
        undo=request.session.get("undo"),
        reopen_key=reopen_key,
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
    reason_code: str = Form(""),
    category: str = Form(""),
    also: list[str] = Form([]),
    cluster: str = Form(""),
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
    if hit.status is not HitStatus.new:  # the index's copy already moved on; the casebook's check follows
        raise HTTPException(409, f"这条已处理（{display_name(hit.status, 'hit_status')}）")
    code: str | None = None
    if action == "confirm":
        status = HitStatus.confirmed
        chosen = category or (hit.verdict.category.value if hit.verdict.category else None)
    elif action == "dismiss":
        if reason_code and reason_code not in DismissReason.__members__:
            raise HTTPException(400, "未知排除理由")
        if not reason_code and not reason:
            raise HTTPException(400, "排除必须选择或填写理由")
        if reason_code == DismissReason.other.value and not reason:
            raise HTTPException(400, "选择“其他”时请填写说明")
        status, chosen, code = HitStatus.dismissed, None, reason_code or DismissReason.other.value
    else:
        raise HTTPException(400, "未知操作")
    # The cluster the page showed, checked again here: only near-identical copies still new and not leased by
    # someone else are decided with this one (a posted key is never trusted as a member on its own say).
    members: list[Hit] = []
    if cluster and also:
        offered = set(also)
        members = [
            h for h in related.review_cluster(c.store, hit, c.casebook.leased_by_others(user)) if h.key in offered
        ]
    decided: list[str] = []
    # Casebook first (who/what/when/why), then the index: a crash in between leaves a decision the index can
    # be re-synced from, never a status change nobody can account for.
    try:
        c.casebook.decide(
            key,
            user,
            status,
            reason=reason,
            reason_code=code,
            category_from=before,
            category_to=chosen,
            text=hit.post.text,
        )
    except IllegalTransition as exc:
        raise HTTPException(409, f"这条已处理（{STATUS_NAMES_ZH[exc.current]}）") from exc
    decided.append(key)
    for member in members:
        try:
            c.casebook.decide(
                member.key,
                user,
                status,
                reason=f"{reason}（与 {key} 近似，同簇决定）".lstrip(),
                reason_code=code,
                category_from=shown_category(c, member),
                category_to=chosen if chosen else None,
                text=member.post.text,
            )
        except IllegalTransition:
            continue  # decided by someone else meanwhile: theirs stands
        decided.append(member.key)
    c.store.set_status(decided, status)
    c.casebook.release(key, user)
    what = (
        f"已确认为「{CATEGORY_NAMES_ZH[Category(chosen)] if chosen else '未分类'}」"
        if status is HitStatus.confirmed
        else f"已排除（{DISMISS_REASON_NAMES_ZH[DismissReason(code or DismissReason.other)]}）"
    )
    extra = f"，连同 {len(decided) - 1} 条近似内容" if len(decided) > 1 else ""
    request.session["flash"] = f"{what}：{key}{extra}"
    request.session["undo"] = {"keys": decided, "label": f"{what}{extra}"}
    return _to_next(request, c, user)


def _reopen_all(c: Console, keys: list[str], user: str, reason: str) -> list[str]:
    """Reopen each key that can be; returns the ones reopened (a delivered one is refused and left alone)."""
    done = []
    for key in keys:
        try:
            reopen_hit(settings=c.settings, store=c.store, casebook=c.casebook, key=key, analyst=user, reason=reason)
        except IllegalTransition:
            continue
        done.append(key)
    return done


@router.post("/review/undo")
def review_undo(request: Request, user: str = Depends(need_user), csrf: str = Form("")) -> Response:
    """Take back the analyst's last decision (all of a cluster decided at once): an audited reopen; the item
    comes back claimed by the same analyst."""
    check_csrf(request, csrf)
    c = con(request)
    last = request.session.pop("undo", None)
    if not last or not last.get("keys"):
        raise HTTPException(409, "没有可撤销的决定")
    # Only what still stands on this analyst's word: a copy someone reopened or re-decided since is left alone.
    who = c.casebook.reviewed_by([k for k in last["keys"] if isinstance(k, str)])
    keys = [k for k, by in who.items() if by is not None and by.analyst == user]
    if not keys:
        request.session["flash"] = "上一个决定已被改动，未撤销"
        return RedirectResponse("/review", status_code=303)
    done = _reopen_all(c, keys, user, "撤销（undo）")
    if done:
        c.casebook.claim(done[0], user, c.lease_minutes)
    request.session["flash"] = f"已撤销：{', '.join(done)}" if done else "已送达合作方的内容无法撤销"
    target = f"/review?{urlencode({'key': done[0]})}" if done else "/review"
    return RedirectResponse(target, status_code=303)


@router.post("/review/reopen")
def review_reopen(
    request: Request,
    user: str = Depends(need_user),
    csrf: str = Form(""),
    key: str = Form(...),
    reason: str = Form(""),
    back: str = Form(""),
) -> Response:
    """Reopen one decision with a reason (from the hit page or the review page)."""
    check_csrf(request, csrf)
    c = con(request)
    get_hit(c, key)
    reason = reason.strip()[:2000]
    if not reason:
        raise HTTPException(400, "重新打开必须填写理由")
    try:
        done = reopen_hit(settings=c.settings, store=c.store, casebook=c.casebook, key=key, analyst=user, reason=reason)
    except IllegalTransition as exc:
        raise HTTPException(409, f"无法重新打开：{exc}") from exc
    note = (
        f"；批次 {', '.join(done.superseded)} 已撤回，其余 {len(done.others)} 条待重新生成批次"
        if done.superseded
        else ""
    )
    request.session["flash"] = f"已重新打开：{key}{note}"
    return RedirectResponse(safe_next(back or f"/hit?{urlencode({'key': key})}"), status_code=303)


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
