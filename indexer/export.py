"""A search result as rows analysts read: the CLI's table, JSON lines and CSV, and the console's CSV download.

One column list for every output, so a CSV from the console and one from the CLI have the same header. Crawled
text is hostile: CSV cells never start like a spreadsheet formula, and control characters are dropped.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from core.files import defuse_formula
from core.platforms import name_zh
from core.records import CATEGORY_NAMES_ZH, STATUS_NAMES_ZH, Hit
from indexer.when import BEIJING


@dataclass(frozen=True)
class Column:
    name: str  # JSON key and CSV header
    title: str  # the table's heading


COLUMNS: tuple[Column, ...] = (
    Column("key", "编号"),
    Column("platform", "平台"),
    Column("published_at", "发布时间"),
    Column("score", "置信度"),
    Column("category", "类别"),
    Column("status", "状态"),
    Column("author", "作者"),
    Column("url", "链接"),
    Column("text", "内容"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def row(hit: Hit) -> dict[str, str]:
    """One hit as strings: Chinese names for platform, category and status, Beijing time, the whole text."""
    post, verdict = hit.post, hit.verdict
    return {
        "key": hit.key,
        "platform": name_zh(post.platform.value),
        "published_at": post.published_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if post.published_at else "",
        "score": f"{verdict.score:.2f}",
        "category": CATEGORY_NAMES_ZH.get(verdict.category, verdict.category.value) if verdict.category else "",
        "status": STATUS_NAMES_ZH.get(hit.status, hit.status.value),
        "author": post.author_name or post.author_id or "",
        "url": post.url,
        "text": _CONTROL.sub("", " ".join(filter(None, [post.title or "", post.text])).strip()),
    }


def snippet(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(width - 1, 1)] + "…"


def csv_lines(hits: Iterable[Hit], *, bom: bool = False) -> Iterator[str]:
    """The CSV text, header first, a line at a time (a UTF-8 BOM first when Excel will open it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([c.name for c in COLUMNS])
    yield ("\ufeff" if bom else "") + flush()
    for hit in hits:
        values = row(hit)
        writer.writerow([defuse_formula(_CONTROL.sub("", values[c.name])) for c in COLUMNS])
        yield flush()
