"""Render a ReportBatch for a partner: XLSX (Chinese headers), JSON, self-contained HTML and the evidence zip.

Crawled text is hostile. In XLSX every text cell is stripped of the control characters XML forbids, prefixed with
an apostrophe when it starts like a formula (= + - @ tab CR), stored as a string and cut to Excel's 32767-character
cell limit. In HTML every value goes through jinja2 autoescape and links are only ever http(s). Every file is
written to a temp file and renamed, so a crash leaves the previous report or none, never half of one.
"""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill

from alerts.takedown.bundle import atomic_path, atomic_write_bytes, evidence_name
from alerts.takedown.report import BEIJING, ReportBatch, ReportItem, clean_text
from core.files import defuse_formula

XLSX_HEADERS: tuple[str, ...] = (
    # The partner's template, in this exact order.
    "序号", "平台", "链接", "作品ID", "账号ID", "账号昵称", "违规类型", "违规描述", "发现时间", "截图", "举报单位", "联系人",
    # Extra detail a partner can use for its own statement of reasons.
    "违规文本", "联系方式", "命中词", "置信度", "SHA-256",
    "条目编号", "内容类型", "发布时间", "取证时间", "审核人", "审核时间", "处理要求",
)  # fmt: skip
EXCEL_CELL_LIMIT = 32767
HTML_FULL_TEXT_LIMIT = 5000  # longer posts show the excerpt in HTML; the full text is in JSON and XLSX
HTML_IMAGE_LIMIT = 8 << 20  # bigger screenshots stay in the zip only, to keep the HTML openable
HTML_IMAGES_BUDGET = 40 << 20  # raw bytes embedded per HTML file; later screenshots are referenced to the zip
_TRUNCATED = "…[已截断，全文见JSON]"
_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}

_env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def safe_cell_text(value: object) -> str:
    """Text that is safe as an XLSX string cell: legal XML, not a formula, within Excel's length limit."""
    text = ILLEGAL_CHARACTERS_RE.sub("", clean_text("" if value is None else str(value)))
    text = defuse_formula(text)
    if _utf16_len(text) > EXCEL_CELL_LIMIT:  # Excel counts UTF-16 code units
        keep = EXCEL_CELL_LIMIT - len(_TRUNCATED)
        text = text[:keep]
        while _utf16_len(text) > keep:
            text = text[:-1]
        text += _TRUNCATED
    return text


def format_time(moment: datetime | None) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S +08:00") if moment else ""


def _screenshot_names(item: ReportItem) -> list[str]:
    return [
        evidence_name(item, i, ev) + ("" if Path(ev.path).is_file() else "（文件缺失）")
        for i, ev in enumerate(item.evidence, start=1)
        if ev.kind == "screenshot"
    ]


def _row(batch: ReportBatch, item: ReportItem) -> list[object]:
    terms = "；".join(f"{t.surface}={t.meaning}" for t in item.detection.matched_terms)
    hashes = "\n".join(f"{evidence_name(item, i, ev)}: {ev.sha256}" for i, ev in enumerate(item.evidence, start=1))
    review = item.review
    return [
        item.seq,
        item.platform_name,
        item.content_url,
        item.content_id,
        item.account_id or "",
        item.account_name or "",
        item.category_name,
        item.explanation,
        format_time(item.first_seen),
        "\n".join(_screenshot_names(item)) or "无",
        batch.notifier.organisation,
        f"{batch.notifier.person} <{batch.notifier.contact}>",
        item.text,
        "\n".join(f"{c.type}: {c.value}" for c in item.contacts),
        terms,
        item.detection.score,
        hashes,
        item.item_id,
        item.content_type_name,
        format_time(item.published_at),
        format_time(item.captured_at),
        review.reviewer or ("已人工确认" if review.reviewed else "未人工审核"),
        format_time(review.reviewed_at),
        item.requested_action,
    ]


def write_xlsx(batch: ReportBatch, path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "举报清单"
    ws.append(list(XLSX_HEADERS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")
    for r, item in enumerate(batch.items, start=2):
        for c, value in enumerate(_row(batch, item), start=1):
            cell = ws.cell(row=r, column=c)
            if isinstance(value, int | float) and not isinstance(value, bool):
                cell.value = value
                continue
            cell.value = safe_cell_text(value)
            cell.data_type = "s"  # openpyxl would otherwise read a leading "=" as a formula
            cell.alignment = wrap
        url = item.content_url
        if url.startswith(("https://", "http://")) and len(url) < 2000:
            ws.cell(row=r, column=3).hyperlink = url  # only http(s): never javascript:, file: or data:
    for col, width in zip("ABCDEFGHIJKLMNOPQRSTUVWX", (6, 10, 40, 20, 18, 16, 20, 60, 22, 30, 18, 30,
                                                       60, 30, 30, 8, 50, 28, 10, 22, 22, 14, 22, 14), strict=True):  # fmt: skip
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


def write_json(batch: ReportBatch, path: Path) -> Path:
    return atomic_write_bytes(path, batch.model_dump_json(indent=2).encode("utf-8"))


def _image_data_uri(path: Path, budget: list[int]) -> str | None:
    mime = _IMAGE_TYPES.get(path.suffix.lower())  # never SVG: it can carry script
    if not mime or not path.is_file():
        return None
    size = path.stat().st_size
    if size > HTML_IMAGE_LIMIT or size > budget[0]:
        return None
    budget[0] -= size
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_html(batch: ReportBatch, bundle_name: str | None = None, bundle_sha256: str | None = None) -> str:
    items = []
    budget = [HTML_IMAGES_BUDGET]
    for item in batch.items:
        shots = []
        for i, ev in enumerate(item.evidence, start=1):
            if ev.kind == "screenshot":
                shots.append({"name": evidence_name(item, i, ev), "sha256": ev.sha256,
                              "uri": _image_data_uri(Path(ev.path), budget)})  # fmt: skip
        items.append(
            {
                "item": item,
                "link": item.content_url if item.content_url.startswith(("https://", "http://")) else None,
                "full_text": item.text if len(item.text) <= HTML_FULL_TEXT_LIMIT else None,
                "text_len": len(item.text),
                "shots": shots,
                # Images kept from OCR, embedded like screenshots (the report's CSP allows data: images only).
                "ocr": [(t, _image_data_uri(Path(t.path), budget) if t.path else None) for t in item.image_text],
                "files": [(evidence_name(item, i, ev), ev) for i, ev in enumerate(item.evidence, start=1)],
                "first_seen": format_time(item.first_seen),
                "published": format_time(item.published_at),
                "captured": format_time(item.captured_at),
                "reviewed_at": format_time(item.review.reviewed_at),
            }
        )
    return _env.get_template("report.html").render(
        batch=batch,
        items=items,
        created=format_time(batch.created_at),
        bundle_name=bundle_name,
        bundle_sha256=bundle_sha256,
    )
