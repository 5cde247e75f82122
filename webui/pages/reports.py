"""Report batches: build, send, preview, download."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from alerts.takedown.formats import FORMATS
from casebook import ReportBatch as Batch
from core.records import HitStatus, Platform
from indexer.base import SearchQuery
from webui.app import PREVIEW_CSP, Console, display_name
from webui.auth import check_csrf
from webui.pages.common import BATCH_ID, con, file_inside, need_user, parse_score, render

router = APIRouter()


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
    return _reports(request, flash=request.session.pop("flash", None))


def _reports(
    request: Request,
    *,
    status_code: int = 200,
    flash: str | None = None,
    error: str = "",
    form: BuildForm | None = None,
) -> Response:
    """The reports page; after a refused build, with the message and the analyst's inputs as she typed them."""
    c = con(request)
    ready = c.store.search(SearchQuery(statuses=(HitStatus.confirmed,), labels=("lead_gen",), limit=0, facets=True))
    batches = [(b, _outcome(c, b), *_delivery_state(c, b)) for b in c.casebook.list_batches(limit=100)]
    return render(
        request,
        "reports.html",
        status_code=status_code,
        ready=ready,
        batches=batches,
        min_score=c.settings.report_min_score,
        flash=flash,
        error=error,
        form=form or BuildForm(),
    )


@dataclass(frozen=True)
class BuildForm:
    """The batch form's inputs, kept as typed so a refused one comes back filled in."""

    platform: str = ""
    include_unreviewed: bool = False
    min_score: str = ""


def _check_build_form(form: BuildForm) -> tuple[float | None, str]:
    """The form's score threshold, or the message that says what to fix (shown above the kept form)."""
    if form.platform and form.platform not in Platform.__members__:
        return None, "未知平台，请从列表中选择"
    try:
        return parse_score(form.min_score), ""
    except ValueError:
        return None, "置信度阈值无效：请填写 0 到 1 之间的数，如 0.8；留空则用默认值"


@router.get("/reports/plan")
def reports_plan(
    request: Request,
    user: str = Depends(need_user),
    platform: str = "",
    include_unreviewed: str = "",
    min_score: str = "",
) -> Response:
    """What a build would batch, before anything is written: items, counts per category and platform, how many
    no person reviewed; the analyst unticks items to leave them out of this build."""
    from alerts.takedown.workflow import plan_reports

    c = con(request)
    form = BuildForm(platform, bool(include_unreviewed), min_score[:50])
    score, error = _check_build_form(form)
    if error:
        return _reports(request, status_code=400, error=error, form=form)
    plan = plan_reports(
        settings=c.settings,
        store=c.store,
        casebook=c.casebook,
        platform=platform or None,
        include_unreviewed=bool(include_unreviewed),
        min_score=score,
    )
    return render(
        request,
        "reports_plan.html",
        plan=plan,
        by_platform=plan.counts("platform"),
        by_category=plan.counts("category"),
        platform=platform,
        include_unreviewed=include_unreviewed,
        min_score=min_score,
    )


@router.post("/reports/build")
def reports_build(
    request: Request,
    user: str = Depends(need_user),
    csrf: str = Form(""),
    platform: str = Form(""),
    include_unreviewed: str = Form(""),
    min_score: str = Form(""),
    offered: list[str] = Form([]),
    keys: list[str] = Form([]),
) -> Response:
    """Build the batches; from the preview, only the items still ticked (`keys` among `offered`)."""
    check_csrf(request, csrf)
    from alerts.takedown.workflow import write_reports

    c = con(request)
    form = BuildForm(platform, bool(include_unreviewed), min_score[:50])
    score, error = _check_build_form(form)
    if error:
        return _reports(request, status_code=400, error=error, form=form)
    only = set(keys) & set(offered) if offered else None
    if only is not None and not only:
        request.session["flash"] = "所有条目都已移除，未生成批次"
        return RedirectResponse("/reports", status_code=303)
    with c.report_lock:
        outcome = write_reports(
            settings=c.settings,
            store=c.store,
            platform=platform or None,
            include_unreviewed=bool(include_unreviewed),
            min_score=score,
            out_dir=c.settings.reports_dir,
            only=only,
        )
        removed = sorted(set(offered) - set(keys))
        if removed:
            c.casebook.audit(user, "report:removed_from_preview", "", {"keys": removed[:500], "count": len(removed)})
        for batch_id in outcome.batches:  # write_reports recorded each batch in the casebook; audit who asked
            row = c.casebook.get_batch(batch_id)
            items, plat = (len(row.item_keys), row.platform) if row else (0, "")
            c.casebook.audit(user, "report:build", "", {"batch_id": batch_id, "items": items, "platform": plat})
    unreviewed = f"（其中 {outcome.unreviewed} 条未经人工审核）" if outcome.unreviewed else ""
    request.session["flash"] = (
        f"已生成 {len(outcome.batches)} 个批次，共 {outcome.items} 条{unreviewed}，发送成功后计为已举报"
        if outcome.batches
        else "没有可举报的新内容"
    )
    return RedirectResponse("/reports", status_code=303)


def _known_batch(c: Console, batch_id: str) -> Batch:
    batch = c.casebook.get_batch(batch_id) if BATCH_ID.match(batch_id) else None
    if batch is None:
        raise HTTPException(404, "没有这个批次")
    return batch


def outbox_dir(c: Console) -> Path:
    return c.settings.state_dir / "outbox"


def deliver(c: Console, batch: Batch) -> tuple[str, str]:
    """Stage the batch and, when the console has a channel, make one attempt: the workflow's one delivery path."""
    from alerts.takedown.workflow import deliver_batch

    result = deliver_batch(c.settings, c.casebook, batch.id, c.delivery_channel)
    if result.sent:  # the index's copy follows the casebook: these items are reported now
        c.store.set_status(batch.item_keys, HitStatus.delivered, report_id=batch.id)
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
    if batch.status == "superseded":
        raise HTTPException(409, "该批次已被取代（有条目被重新打开），其余条目将进入新批次，不能发送")
    state, note = deliver(c, batch)
    c.casebook.audit(user, "report:send", note, {"batch_id": batch_id, "state": state})
    request.session["flash"] = f"{batch_id}：{display_name(state, 'delivery_state', 'batch_status')}"
    return RedirectResponse("/reports", status_code=303)


@router.get("/reports/preview/{batch_id}")
def report_preview(request: Request, batch_id: str, user: str = Depends(need_user)) -> Response:
    c = con(request)
    _known_batch(c, batch_id)
    path = file_inside(FORMATS["html"].path(c.settings.reports_dir, batch_id), c.settings.reports_dir)
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
    path = file_inside(fmt.path(c.settings.reports_dir, batch_id), c.settings.reports_dir)
    if path is None:
        raise HTTPException(404, "报告文件不存在")
    return FileResponse(path, filename=path.name, media_type=fmt.mime, content_disposition_type="attachment")
