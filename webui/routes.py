"""Page handlers: login, search, hit, review queue, evidence files, reports, audit log.

Handlers are thin: they parse the form, call the store / casebook / pipeline, and render a template. Every POST
checks the CSRF token first; every page but /login needs a signed-in analyst.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from alerts.takedown.formats import FORMATS
from casebook import ReportBatch as Batch
from core.evidence import inside, sha256_file
from core.records import Category, Hit, HitStatus, Platform
from indexer.base import SearchQuery, SortOrder
from webui import related
from webui.app import PREVIEW_CSP, Console, LoginRequired
from webui.auth import authenticate, check_csrf, csrf_token, current_user, sign_in, sign_out
from webui.highlight import query_terms

router = APIRouter()
PAGE_SIZE = 20
MAX_PAGE = 500  # offset cap: deep paging is what filters are for
_BATCH_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,120}$")
_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


def con(request: Request) -> Console:
    return request.app.state.console  # type: ignore[no-any-return]


def need_user(request: Request) -> str:
    user = current_user(request)
    if not user:
        raise LoginRequired()
    return user


def render(request: Request, template: str, status_code: int = 200, **ctx: Any) -> Response:
    ctx.update(user=current_user(request), csrf=csrf_token(request), path=request.url.path)
    return request.app.state.templates.TemplateResponse(request, template, ctx, status_code=status_code)  # type: ignore[no-any-return]


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths: never "//evil" or "https://evil".
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/search"


# ---------------------------------------------------------------- login


@router.get("/")
def index() -> Response:
    return RedirectResponse("/search", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "/search") -> Response:
    return render(request, "login.html", next=_safe_next(next), error=None)


@router.post("/login")
def login(
    request: Request,
    name: str = Form(""),
    password: str = Form(""),
    next: str = Form("/search"),
    csrf: str = Form(""),
) -> Response:
    check_csrf(request, csrf)
    c = con(request)
    name = name.strip()[:64]
    address = request.client.host if request.client else "?"
    if not c.throttle.admit(name or "?", address):
        c.casebook.audit(name or "?", "login:throttled", "", {"address": address})
        return render(request, "login.html", status_code=429, next=_safe_next(next), error="失败次数过多，请稍后再试")
    if not authenticate(c.casebook, name, password):
        c.casebook.audit(name or "?", "login:failed", "", {"address": address})
        return render(request, "login.html", status_code=401, next=_safe_next(next), error="用户名或密码错误")
    c.throttle.succeeded(name, address)
    sign_in(request, name)
    c.casebook.audit(name, "login", "", {"address": address})
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: str = Form(""), user: str = Depends(need_user)) -> Response:
    check_csrf(request, csrf)
    con(request).casebook.audit(user, "logout", "", {})
    sign_out(request)
    return RedirectResponse("/login", status_code=303)


# ---------------------------------------------------------------- search


def _parse_date(value: str, *, end: bool = False) -> datetime | None:
    if not value:
        return None
    day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone(timedelta(hours=8)))
    return (day + timedelta(days=1) if end else day).astimezone(timezone.utc)


def _parse_score(value: str) -> float | None:
    if not value.strip():
        return None
    score = float(value)
    if not 0.0 <= score <= 1.0:
        raise ValueError("score out of range")
    return score


@router.get("/search")
def search(
    request: Request,
    user: str = Depends(need_user),
    q: str = "",
    platform: str = "",
    category: str = "",
    status: str = "",
    label: str = "",
    min_score: str = "",
    max_score: str = "",
    since: str = "",
    until: str = "",
    sort: str = "relevance",
    page: int = Query(1, ge=1, le=MAX_PAGE),
) -> Response:
    c = con(request)
    error = None
    form = dict(q=q, platform=platform, category=category, status=status, label=label, min_score=min_score,
                max_score=max_score, since=since, until=until, sort=sort)  # fmt: skip
    try:
        query = SearchQuery(
            text=q[:500],
            platforms=(Platform(platform),) if platform else (),
            categories=(Category(category),) if category else (),
            statuses=(HitStatus(status),) if status else (),
            labels=(label,) if label in ("lead_gen", "benign") else (),
            min_score=_parse_score(min_score),
            max_score=_parse_score(max_score),
            since=_parse_date(since),
            until=_parse_date(until, end=True),
            sort=SortOrder(sort) if sort in SortOrder.__members__ else SortOrder.relevance,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            facets=True,
        )
        result = c.store.search(query)
    except ValueError as exc:
        error = f"筛选条件无效：{exc}"
        result = None
    pages = max(1, -(-(result.total if result else 0) // PAGE_SIZE))

    def link(**change: Any) -> str:
        params = {k: v for k, v in {**form, "page": page, **change}.items() if v not in ("", None)}
        if "page" not in change:
            params.pop("page", None)
        return "/search?" + urlencode(params)

    days = sorted((result.by_day if result else {}).items())[-31:]
    return render(
        request,
        "search.html",
        form=form,
        result=result,
        error=error,
        terms=query_terms(q),
        page=page,
        pages=min(pages, MAX_PAGE),
        link=link,
        days=days,
        day_max=max((n for _, n in days), default=1),
    )


# ---------------------------------------------------------------- hit page


def _inside(path: Path, base: Path) -> Path | None:
    """The real path of `path` if it is a file inside `base` (symlinks resolved), else None."""
    real = inside(path, base)
    return real if real is not None and real.is_file() else None


def _evidence_rows(c: Console, hit: Hit) -> list[dict[str, Any]]:
    rows = []
    for ev in hit.evidence:
        base = c.settings.raw_dir if ev.kind == "raw_response" else c.settings.evidence_dir
        path = Path(ev.path) if Path(ev.path).is_absolute() else base / ev.path
        real = _inside(path, base)
        url = None
        current = None
        if real is not None:
            rel = real.relative_to(base.resolve()).as_posix()
            prefix = "/raw/" if ev.kind == "raw_response" else "/evidence/"
            url = prefix + rel
            current = sha256_file(real) if real.stat().st_size < (64 << 20) else None
        rows.append(
            {
                "kind": ev.kind,
                "name": Path(ev.path).name,
                "sha256": ev.sha256,
                "captured_at": ev.captured_at,
                "url": url,
                "image": url is not None and ev.kind == "screenshot" and path.suffix.lower() in _IMAGE_TYPES,
                "intact": None if current is None else current == ev.sha256,
            }
        )
    return rows


def _category(c: Console, hit: Hit) -> str | None:
    """The analysts' category when they changed it, else the model's."""
    return c.casebook.current_category(hit.key) or (hit.verdict.category.value if hit.verdict.category else None)


def _get_hit(c: Console, key: str) -> Hit:
    hit = c.store.get(key) if key else None
    if hit is None:
        raise HTTPException(404, "没有这条记录")
    return hit


@router.get("/hit")
def hit_page(request: Request, key: str = "", user: str = Depends(need_user)) -> Response:
    c = con(request)
    hit = _get_hit(c, key)
    reviews = list(reversed(c.casebook.list_reviews(hit.key)))
    return render(
        request,
        "hit.html",
        hit=hit,
        evidence=_evidence_rows(c, hit),
        reviews=reviews,
        category=_category(c, hit),
        same_author=related.by_author(c.store, hit),
        same_contacts=related.by_contacts(c.store, hit),
        near_dups=related.near_duplicates(c.store, hit),
        holder=c.casebook.lease_holder(hit.key),
    )


@router.get("/evidence/{rel:path}")
def evidence_file(request: Request, rel: str, user: str = Depends(need_user)) -> Response:
    base = con(request).settings.evidence_dir
    real = _inside(base / rel, base)
    if real is None or real.suffix.lower() not in _IMAGE_TYPES:
        raise HTTPException(404, "文件不存在")
    return FileResponse(real, media_type=_IMAGE_TYPES[real.suffix.lower()])


@router.get("/raw/{rel:path}")
def raw_file(request: Request, rel: str, user: str = Depends(need_user)) -> Response:
    base = con(request).settings.raw_dir
    real = _inside(base / rel, base)
    if real is None:
        raise HTTPException(404, "文件不存在")
    # A raw response is the platform's page (hostile HTML/JS): shown as plain text in a sandbox, never rendered.
    response = FileResponse(real, media_type="text/plain; charset=utf-8")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# ---------------------------------------------------------------- review queue


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
        result = c.store.search(
            SearchQuery(
                statuses=(HitStatus.new,),
                labels=("lead_gen",),
                min_score=c.review_min_score,
                sort=SortOrder.first_seen,
                limit=50,
                offset=offset,
            )
        )
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
    hit = _get_hit(c, key)
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
        category=_category(c, hit) if hit else None,
        threshold=c.review_min_score,
        lease_minutes=c.lease_minutes,
        evidence=_evidence_rows(c, hit) if hit else [],
        flash=request.session.pop("flash", None),
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
    hit = _get_hit(c, key)
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
    hit = _get_hit(c, key)
    holder = c.casebook.lease_holder(key)
    if holder not in (None, user) or (holder is None and not c.casebook.claim(key, user, c.lease_minutes)):
        raise HTTPException(409, f"这条正由 {holder} 审核")
    if category and category not in Category.__members__:
        raise HTTPException(400, "未知类别")
    reason = reason.strip()[:2000]
    before = _category(c, hit)
    if action == "category":
        if not category:
            raise HTTPException(400, "请选择类别")
        c.casebook.record_review(
            key, user, "category", reason=reason, category_from=before, category_to=category, text=hit.post.text
        )
        request.session["flash"] = f"类别已改为 {category}"
        return RedirectResponse(f"/review?{urlencode({'key': key})}", status_code=303)
    if hit.status is not HitStatus.new:
        raise HTTPException(409, f"这条已处理（{hit.status.value}）")
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


# ---------------------------------------------------------------- reports


def _outcome(c: Console, batch: Batch) -> dict[str, int]:
    """Where the batch's items stand now (reported, removed, still_up ...), from the index."""
    counts: dict[str, int] = {}
    for hit in c.store.get_many(batch.item_keys):
        counts[hit.status.value] = counts.get(hit.status.value, 0) + 1
    return counts


def _delivery_state(c: Console, batch: Batch) -> tuple[str, str]:
    """The newest delivery state and its note: the outbox's per-channel state wins over the casebook's rows."""
    try:
        from alerts.takedown.delivery import Outbox

        channels = Outbox(outbox_dir(c)).load_state(batch.id).get("channels", {})
    except (ImportError, OSError, ValueError):
        channels = {}
    if channels:
        name, entry = sorted(channels.items())[-1]
        note = entry.get("response") or (entry["attempts"][-1].get("detail") if entry.get("attempts") else "")
        return str(entry.get("state", "")), f"{name}: {note or ''}"
    rows = c.casebook.list_deliveries(batch.id)
    if rows:
        return rows[-1].state, f"{rows[-1].channel}: {rows[-1].response}"
    return batch.status, ""


@router.get("/reports")
def reports_page(request: Request, user: str = Depends(need_user)) -> Response:
    c = con(request)
    ready = c.store.search(SearchQuery(statuses=(HitStatus.confirmed,), labels=("lead_gen",), limit=0, facets=True))
    batches = [(b, _outcome(c, b), *_delivery_state(c, b)) for b in c.casebook.list_batches(limit=100)]
    return render(
        request,
        "reports.html",
        ready=ready,
        batches=batches,
        min_score=c.settings.report_min_score,
        flash=request.session.pop("flash", None),
    )


@router.post("/reports/build")
def reports_build(
    request: Request,
    user: str = Depends(need_user),
    csrf: str = Form(""),
    platform: str = Form(""),
    include_unreviewed: str = Form(""),
    min_score: str = Form(""),
) -> Response:
    check_csrf(request, csrf)
    from alerts.takedown.workflow import write_reports

    c = con(request)
    if platform and platform not in Platform.__members__:
        raise HTTPException(400, "未知平台")
    try:
        score = _parse_score(min_score)
    except ValueError as exc:
        raise HTTPException(400, "置信度阈值无效") from exc
    with c.report_lock:
        outcome = write_reports(
            settings=c.settings,
            store=c.store,
            platform=platform or None,
            include_unreviewed=bool(include_unreviewed),
            min_score=score,
            out_dir=c.settings.reports_dir,
        )
        for batch_id in outcome.batches:  # write_reports recorded each batch in the casebook; audit who asked
            row = c.casebook.get_batch(batch_id)
            items, plat = (len(row.item_keys), row.platform) if row else (0, "")
            c.casebook.audit(user, "report:build", "", {"batch_id": batch_id, "items": items, "platform": plat})
    request.session["flash"] = (
        f"已生成 {len(outcome.batches)} 个批次，共 {outcome.items} 条" if outcome.batches else "没有可举报的新内容"
    )
    return RedirectResponse("/reports", status_code=303)


def _known_batch(c: Console, batch_id: str) -> Batch:
    batch = c.casebook.get_batch(batch_id) if _BATCH_ID.match(batch_id) else None
    if batch is None:
        raise HTTPException(404, "没有这个批次")
    return batch


def outbox_dir(c: Console) -> Path:
    return c.settings.state_dir / "outbox"


def deliver(c: Console, batch: Batch) -> tuple[str, str]:
    """Stage the batch and, when the console has a channel, make one attempt: the workflow's one delivery path."""
    from alerts.takedown.workflow import deliver_batch

    result = deliver_batch(c.settings, c.casebook, batch.id, c.delivery_channel)
    if c.delivery_channel is None:
        return "queued", "已放入发件箱，等待定时投递任务发送"
    if result.state.value == "failed":
        return "failed", "发送失败，已留在发件箱，稍后自动重试"
    return result.state.value, result.detail or ""


@router.post("/reports/send")
def reports_send(
    request: Request, user: str = Depends(need_user), csrf: str = Form(""), batch_id: str = Form(...)
) -> Response:
    check_csrf(request, csrf)
    c = con(request)
    batch = _known_batch(c, batch_id)
    state, note = deliver(c, batch)
    c.casebook.audit(user, "report:send", note, {"batch_id": batch_id, "state": state})
    request.session["flash"] = f"{batch_id}：{state}"
    return RedirectResponse("/reports", status_code=303)


@router.get("/reports/preview/{batch_id}")
def report_preview(request: Request, batch_id: str, user: str = Depends(need_user)) -> Response:
    c = con(request)
    _known_batch(c, batch_id)
    path = _inside(FORMATS["html"].path(c.settings.reports_dir, batch_id), c.settings.reports_dir)
    if path is None:
        raise HTTPException(404, "报告文件不存在")
    response = FileResponse(path, media_type=f"{FORMATS['html'].mime}; charset=utf-8")
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    return response


@router.get("/reports/file/{batch_id}/{kind}")
def report_file(request: Request, batch_id: str, kind: str, user: str = Depends(need_user)) -> Response:
    c = con(request)
    _known_batch(c, batch_id)
    fmt = FORMATS.get(kind)
    if fmt is None or not fmt.downloadable:
        raise HTTPException(404, "未知文件")
    path = _inside(fmt.path(c.settings.reports_dir, batch_id), c.settings.reports_dir)
    if path is None:
        raise HTTPException(404, "报告文件不存在")
    return FileResponse(path, filename=path.name, media_type=fmt.mime, content_disposition_type="attachment")


# ---------------------------------------------------------------- audit


@router.get("/audit")
def audit_page(request: Request, user: str = Depends(need_user), target: str = "") -> Response:
    entries = con(request).casebook.list_audit(limit=200, target=target or None)
    return render(request, "audit.html", entries=entries, target=target)
