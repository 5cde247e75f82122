"""Posts, verdicts and hits for tests: one place that knows how to make a valid record with sensible defaults.

Every argument is a keyword with a default, so a test names only what it is about. Slang and contact spans are
found in the text when it holds them (offsets that point at nothing would hide bugs in highlighting and reports).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from core.records import (
    Category,
    ContactMatch,
    Evidence,
    Hit,
    HitStatus,
    Label,
    ModelInfo,
    Platform,
    Post,
    SlangMatch,
    Verdict,
)

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
MODEL = ModelInfo(name="test", version="1")
LEAD_TEXT = "停息挂账找我，专业协商，V信 abc123，评论区扣1"


def make_post(
    post_id: str = "p1",
    text: str = LEAD_TEXT,
    *,
    platform: Platform | str = "douyin",
    url: str | None = None,
    author_id: str | None = "u1",
    author_name: str | None = None,
    published_at: datetime | None = T0 - timedelta(days=1),
    fetched_at: datetime = T0,
    **fields: Any,
) -> Post:
    name = platform.value if isinstance(platform, Platform) else platform
    return Post(
        platform=name,
        post_id=post_id,
        text=text,
        url=url if url is not None else f"https://www.{name}.com/video/{post_id}",
        author_id=author_id,
        author_name=author_name,
        published_at=published_at,
        fetched_at=fetched_at,
        **fields,
    )


def _span(text: str, surface: str) -> tuple[int, int]:
    at = text.find(surface)
    return (at, at + len(surface)) if at >= 0 else (0, len(surface))


def slang_in(text: str, surface: str, canonical: str | None = None, category: Category | None = None) -> SlangMatch:
    start, end = _span(text, surface)
    return SlangMatch(surface=surface, canonical=canonical or surface, start=start, end=end, category=category)


def contact_in(text: str, value: str, type: str = "wechat") -> ContactMatch:
    start, end = _span(text, value)
    return ContactMatch(type=type, value=value, start=start, end=end)


def make_verdict(
    *,
    label: Label = Label.lead_gen,
    score: float | None = None,
    category: Category | None = Category.stop_interest,
    slang: Iterable[SlangMatch] = (),
    contacts: Iterable[ContactMatch] = (),
    model: ModelInfo = MODEL,
) -> Verdict:
    """A verdict; a benign one never carries a category, and its score defaults low."""
    lead = label is Label.lead_gen
    return Verdict(
        label=label,
        score=score if score is not None else (0.95 if lead else 0.05),
        category=category if lead else None,
        slang=tuple(slang),
        contacts=tuple(contacts),
        model=model,
    )


def make_hit(
    post: Post | None = None,
    verdict: Verdict | None = None,
    *,
    status: HitStatus = HitStatus.new,
    evidence: Iterable[Evidence] = (),
    first_seen: datetime | None = None,
    report_ids: Iterable[str] = (),
    **post_fields: Any,
) -> Hit:
    """A hit of `post` (or of a post made from `post_fields`) judged by `verdict` (a lead_gen one by default)."""
    post = post or make_post(**post_fields)
    return Hit(
        post=post,
        verdict=verdict or make_verdict(),
        status=status,
        evidence=tuple(evidence),
        first_seen=first_seen or post.fetched_at,
        report_ids=tuple(report_ids),
    )
