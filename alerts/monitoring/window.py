"""Where the alert window ends and how long it is.

The rules read the posts published in a window that ends at `now` (a live crawl: what happened lately) or at the
newest post in the index (`data`: an import, a back-fill or the demo, whose posts are older than the clock). Its
length is `AlertConfig.baseline_days` (campaigns look over all of it; surges compare the last `window_hours` with
it; near-duplicates look at the last `window_hours`), so the default window is the one the rules always used.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from core.durations import parse_duration
from indexer.base import HitStore, SearchQuery, SortOrder

MAX_WINDOW = timedelta(days=3660)  # ten years: beyond that a typo, not a window


class Anchor(StrEnum):
    now = "now"  # the window ends at the clock
    data = "data"  # the window ends at the newest post in the index


ANCHOR_NAMES_ZH = {Anchor.now: "截至现在", Anchor.data: "截至最新数据"}


def parse_window(text: str) -> timedelta:
    """A window length such as 7d, 36h or 90m; ValueError when it is not one or is out of range."""
    length = timedelta(seconds=parse_duration(text))
    if not timedelta(hours=1) <= length <= MAX_WINDOW:
        raise ValueError(f"window {text!r} must be between 1h and {MAX_WINDOW.days}d")
    return length


def format_window(length: timedelta) -> str:
    """The shortest of 7d / 36h / 90m that says `length` exactly (what the console's control shows back)."""
    seconds = int(length.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_anchor(text: str) -> Anchor:
    try:
        return Anchor(text)
    except ValueError:
        raise ValueError(f"anchor {text!r}: use one of {', '.join(a.value for a in Anchor)}") from None


def newest_post_time(store: HitStore, now: datetime) -> datetime | None:
    """The newest `published_at` in the index not after `now` (a post stamped in the future is clock skew, and
    would move the window past every real post); None for an empty index."""
    result = store.search(SearchQuery(until=now, sort=SortOrder.newest, limit=1))
    if not result.hits:
        return None
    return result.hits[0].post.published_at


def window_end(anchor: Anchor, store: HitStore, now: datetime) -> datetime:
    """Where the window ends: `now`, or the newest post's time (still `now` when the index has none)."""
    if anchor is Anchor.data:
        return newest_post_time(store, now) or now
    return now
