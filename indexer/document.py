"""One Hit as the flat fields both backends index, so they sort and filter on identical values."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from core.records import Hit
from indexer.segment import dictionary_fingerprint, index_fields, normalise

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Posts without a publication time sort after every dated post and never match a date range.
MISSING_TS = -(2**62)
# The same for oldest-first sorting, where undated posts also come last.
MISSING_TS_LAST = 2**62


def to_micros(value: datetime | None) -> int:
    if value is None:
        return MISSING_TS
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def searchable_text(hit: Hit) -> str:
    """What words and phrases are matched against: title, text and hashtags."""
    post = hit.post
    parts = [post.title or "", post.text, " ".join(post.hashtags)]
    return "\n".join(p for p in parts if p)


def exact_values(*values: str | None) -> list[str]:
    """Values of a free exact-match field (author, contact) as indexed and as queried: normalised, deduplicated."""
    return list(dict.fromkeys(v for v in (normalise(x).strip() for x in values if x) if v))


def hit_fields(hit: Hit) -> dict[str, Any]:
    post, verdict = hit.post, hit.verdict
    words, chars = index_fields(searchable_text(hit))
    return {
        "key": hit.key,
        "words": words,
        "chars": chars,
        "platform": post.platform.value,
        "category": verdict.category.value if verdict.category else "",
        "status": hit.status.value,
        "label": verdict.label.value,
        "author_id": post.author_id or "",
        "author": exact_values(post.author_id, post.author_name),
        "contact": exact_values(*(c.value for c in verdict.contacts)),
        "kind": post.kind.value,
        "score": float(verdict.score),
        "published_ts": to_micros(post.published_at),
        "oldest_ts": to_micros(post.published_at) if post.published_at else MISSING_TS_LAST,
        "first_seen_ts": to_micros(hit.first_seen),
        "day": post.published_at.strftime("%Y-%m-%d") if post.published_at else "",
        "segmenter": dictionary_fingerprint(),  # which dictionary segmented `words` (see stale_segmentation)
    }
