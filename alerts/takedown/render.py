"""Render a ReportBatch for a partner: XLSX (Chinese headers), JSON, self-contained HTML and the evidence zip.

Nothing rendered names a file on our side: evidence is named by its member in the evidence zip. The batch id is on
every file (XLSX column, print header and properties; HTML header and footer; JSON top level; zip comment).

Crawled text is hostile. In XLSX every text cell is stripped of the control characters XML forbids, prefixed with
an apostrophe when it starts like a formula (= + - @ tab CR), stored as a string and cut to Excel's 32767-character
cell limit. In HTML every value goes through jinja2 autoescape and links are only ever http(s) or to an item on the
same page; images are our own JPEG thumbnails (never the crawled file's bytes, never SVG). Every file is
written to a temp file and renamed, so a crash leaves the previous report or none, never half of one.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from PIL import Image

from alerts.takedown.bundle import atomic_path, atomic_write_bytes
from alerts.takedown.report import EvidenceFile, ReportBatch, ReportItem, clean_text, format_time
from core.files import defuse_formula
from core.labels import zh
from core.records import EvidenceKind

XLSX_HEADERS: tuple[str, ...] = (
    # The partner's template, in this exact order.
    "序号", "平台", "链接", "作品ID", "账号ID", "账号昵称", "违规类型", "违规描述", "发现时间", "截图", "举报单位", "联系人",
    # Extra detail a partner can use for its own statement of reasons.
    "违规文本", "联系方式", "引流话术", "命中词", "置信度", "审核状态", "SHA-256",
    "条目编号", "内容类型", "发布时间", "取证时间", "审核人", "审核时间", "处理要求", "批次编号",
)  # fmt: skip
# Characters wide, by header; long texts wrap within their width.
XLSX_WIDTHS: dict[str, int] = {
    "序号": 6, "平台": 10, "链接": 40, "作品ID": 20, "账号ID": 18, "账号昵称": 16, "违规类型": 20, "违规描述": 60,
    "发现时间": 26, "截图": 44, "举报单位": 18, "联系人": 30, "违规文本": 60, "联系方式": 30, "引流话术": 20,
    "命中词": 30, "置信度": 8, "审核状态": 40, "SHA-256": 50, "条目编号": 32, "内容类型": 10, "发布时间": 26,
    "取证时间": 26, "审核人": 14, "审核时间": 26, "处理要求": 14, "批次编号": 30,
}  # fmt: skip
EXCEL_CELL_LIMIT = 32767
HTML_FULL_TEXT_LIMIT = 5000  # longer posts show the excerpt in HTML; the full text is in JSON and XLSX
# Images in the HTML are thumbnails (the full files are in the zip only), each embedded once however many items cite
# it, within a budget that keeps the file openable in a mail client whatever the batch size.
THUMBNAIL_BOX = (360, 640)
THUMBNAIL_QUALITY = 70
HTML_THUMBNAILS_BUDGET = 3 << 20  # encoded bytes embedded per HTML file; later images are named, not shown
SOURCE_IMAGE_LIMIT = 32 << 20  # bigger files are not decoded for a thumbnail
_TRUNCATED = "…[已截断，全文见JSON]"
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif"}  # never SVG: it can carry script

_env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# `{{ value|zh('vocabulary') }}`: the partner reads Chinese names (core/labels.py), never our English values.
_env.filters["zh"] = lambda value, vocabulary: zh(vocabulary, value)


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


def _screenshots(item: ReportItem) -> list[EvidenceFile]:
    """The item's pictures, its marked crop first: a partner sees which comment is meant before the whole page."""
    crops = [ev for ev in item.evidence if ev.kind == EvidenceKind.item_crop]
    return crops + [ev for ev in item.evidence if ev.kind == EvidenceKind.screenshot]


def _shown_pictures(item: ReportItem) -> list[EvidenceFile]:
    """What the HTML shows: the marked crop when there is one (the whole page stays in the zip), else the page."""
    crops = [ev for ev in item.evidence if ev.kind == EvidenceKind.item_crop]
    return crops or _screenshots(item)


def contacts_text(item: ReportItem) -> str:
    return "\n".join(f"{c.type_name}: {c.value}" for c in item.contacts)


def _row(batch: ReportBatch, item: ReportItem) -> list[object]:
    terms = "；".join(f"{t.surface}={t.meaning}" for t in item.detection.matched_terms)
    hashes = "\n".join(f"{ev.path}: {ev.sha256}" for ev in item.evidence)
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
        "\n".join(ev.path for ev in _screenshots(item)) or "无",
        batch.notifier.organisation,
        f"{batch.notifier.person} <{batch.notifier.contact}>",
        item.text,
        contacts_text(item) or "无",
        "；".join(item.calls_to_action) or "无",
        terms,
        item.detection.score,
        review.statement,
        hashes,
        item.item_id,
        item.content_type_name,
        format_time(item.published_at),
        format_time(item.captured_at),
        review.reviewer or ("" if review.reviewed else "未经人工审核"),
        format_time(review.reviewed_at),
        item.requested_action,
        batch.batch_id,
    ]


def _write_cell(ws: Worksheet, row: int, column: int, value: object, wrap: Alignment) -> None:
    cell = ws.cell(row=row, column=column)
    if isinstance(value, int | float) and not isinstance(value, bool):
        cell.value = value
        return
    cell.value = safe_cell_text(value)
    cell.data_type = "s"  # openpyxl would otherwise read a leading "=" as a formula
    cell.alignment = wrap


def batch_summary(batch: ReportBatch) -> list[tuple[str, str]]:
    """The batch's facts a partner reads first, the same in every format that shows a summary."""
    threshold = f"{batch.min_score:g}" if batch.min_score is not None else "不适用（仅含人工审核确认的条目）"
    return [
        ("批次编号", batch.batch_id),
        ("平台", batch.platform_name),
        ("生成时间", format_time(batch.created_at)),
        ("条目数", str(len(batch.items))),
        ("已人工审核确认", str(batch.reviewed_count)),
        ("未经人工审核（自动纳入）", str(batch.unreviewed_count)),
        ("自动纳入的置信度阈值", threshold),
        ("举报单位", f"{batch.notifier.organisation}（{batch.notifier.person}，{batch.notifier.contact}）"),
    ]


def write_xlsx(batch: ReportBatch, path: Path, package_dir: str | None = None) -> Path:
    """The partner's sheet; screenshots link to their files in the evidence zip unpacked beside the sheet into
    `package_dir` (a folder name, relative)."""
    wb = Workbook()
    wb.properties.title = batch.batch_id
    ws = wb.active
    ws.title = "举报清单"
    ws.append(list(XLSX_HEADERS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")
    link_font = Font(color="0563C1", underline="single")
    shot_col = XLSX_HEADERS.index("截图") + 1
    for r, item in enumerate(batch.items, start=2):
        for c, value in enumerate(_row(batch, item), start=1):
            _write_cell(ws, r, c, value, wrap)
        url = item.content_url
        if url.startswith(("https://", "http://")) and len(url) < 2000:
            ws.cell(row=r, column=3).hyperlink = url  # only http(s): never javascript:, file: or data:
        shots = _screenshots(item)
        if shots and package_dir:
            # Our own member name under the unpacked zip's folder: relative, so it opens wherever both are saved.
            cell = ws.cell(row=r, column=shot_col)
            cell.hyperlink = f"{package_dir}/{shots[0].path}"
            cell.font = link_font
    for i, header in enumerate(XLSX_HEADERS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = XLSX_WIDTHS[header]
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(XLSX_HEADERS))}{len(batch.items) + 1}"
    ws.print_title_rows = "1:1"
    # The batch id on every printed page, top and bottom.
    ws.oddHeader.center.text = f"违规内容举报 {batch.batch_id}"
    ws.oddFooter.center.text = f"{batch.batch_id} 第 &P 页，共 &N 页"

    info = wb.create_sheet("批次信息")
    for label, value in batch_summary(batch):
        info.append([label, safe_cell_text(value)])
    if package_dir:
        info.append(["截图链接", safe_cell_text(f"指向证据包解压到本表同一文件夹下的 {package_dir}/ 中的文件")])
    info.column_dimensions["A"].width = 26
    info.column_dimensions["B"].width = 80
    info.oddHeader.center.text = f"违规内容举报 {batch.batch_id}"
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


def write_json(batch: ReportBatch, path: Path) -> Path:
    return atomic_write_bytes(path, batch.model_dump_json(indent=2).encode("utf-8"))


def thumbnail_data_uri(source: str | None) -> str | None:
    """A downscaled JPEG of an image file as a data: URI, or None (missing, not an image, too big, undecodable)."""
    path = Path(source) if source else None
    if path is None or path.suffix.lower() not in _IMAGE_SUFFIXES or not path.is_file():
        return None
    if path.stat().st_size > SOURCE_IMAGE_LIMIT:
        return None
    try:
        with Image.open(path) as img:
            img.thumbnail(THUMBNAIL_BOX)
            rgb = img.convert("RGB")
        out = io.BytesIO()
        rgb.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


class _Thumbnails:
    """Each image's thumbnail embedded once: the first item citing a file shows it, later ones link back to it."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.first_at: dict[str, str] = {}  # member name -> item_id that shows it

    def show(self, member: str, source: str | None, item_id: str) -> dict[str, str | None]:
        if member in self.first_at:
            return {"name": member, "uri": None, "see": self.first_at[member]}
        uri = thumbnail_data_uri(source)
        if uri is not None and len(uri) > self.budget:
            uri = None
        if uri is not None:
            self.budget -= len(uri)
            self.first_at[member] = item_id
        return {"name": member, "uri": uri, "see": None}


def render_html(batch: ReportBatch, bundle_name: str | None = None, bundle_sha256: str | None = None) -> str:
    items = []
    thumbs = _Thumbnails(HTML_THUMBNAILS_BUDGET)
    for item in batch.items:
        shots = [dict(thumbs.show(ev.path, ev.source, item.item_id), sha256=ev.sha256) for ev in _shown_pictures(item)]
        ocr = [(t, thumbs.show(t.path, t.source, item.item_id) if t.path else None) for t in item.image_text]
        items.append(
            {
                "item": item,
                "link": item.content_url if item.content_url.startswith(("https://", "http://")) else None,
                "full_text": item.text if len(item.text) <= HTML_FULL_TEXT_LIMIT else None,
                "text_len": len(item.text),
                "shots": shots,
                "ocr": ocr,
                "first_seen": format_time(item.first_seen),
                "published": format_time(item.published_at),
                "captured": format_time(item.captured_at),
            }
        )
    return _env.get_template("report.html").render(
        batch=batch,
        items=items,
        summary=batch_summary(batch),
        bundle_name=bundle_name,
        bundle_sha256=bundle_sha256,
    )
