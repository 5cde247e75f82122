"""Per-day trend of lead-generation hits by category or platform: how many were first seen (fetched), confirmed by
an analyst and taken down (found removed at re-check) on each day.

First seen comes from the index (`Hit.first_seen`); confirmed and taken down come from the casebook, the owner of
reviews and re-checks (`first_confirmations`, `first_removals`), never from the index's copy of a hit's status,
which moves on (reported, delivered...) after the fact. Days are Beijing calendar days, as the analysts read them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum

from casebook import Casebook, DatedOutcome
from core.platforms import PLATFORMS
from core.records import CATEGORY_NAMES_ZH, Category, Hit, utcnow
from indexer.base import HitStore, SearchQuery, iter_hits

BEIJING = timezone(timedelta(hours=8))
UNKNOWN = "unknown"  # a hit with no category, or one the index no longer holds
UNKNOWN_ZH = "未分类"
MAX_DAYS = 366


class TrendBy(StrEnum):
    category = "category"
    platform = "platform"


class Measure(StrEnum):
    first_seen = "first_seen"
    confirmed = "confirmed"
    taken_down = "taken_down"


MEASURE_NAMES_ZH = {Measure.first_seen: "首次发现", Measure.confirmed: "确认", Measure.taken_down: "下架"}


@dataclass(frozen=True)
class TrendRow:
    day: date
    group: str  # category slug or platform name (or "unknown")
    first_seen: int = 0
    confirmed: int = 0
    taken_down: int = 0


@dataclass(frozen=True)
class Trend:
    by: TrendBy
    days: tuple[date, ...]  # oldest first, every day of the period (days with nothing included)
    rows: tuple[TrendRow, ...]  # (day, group) pairs with at least one count, by day then group
    totals: dict[date, TrendRow] = field(default_factory=dict)  # per day, every group summed (group "")

    def max_daily(self) -> int:
        return max((max(r.first_seen, r.confirmed, r.taken_down) for r in self.totals.values()), default=0)


def group_name_zh(by: TrendBy, group: str) -> str:
    """The Chinese name of a category or platform (the registries own them)."""
    if group == UNKNOWN:
        return UNKNOWN_ZH
    if by is TrendBy.category:
        return CATEGORY_NAMES_ZH[Category(group)]
    spec = PLATFORMS.get(group)
    return spec.name_zh if spec else group


def _day(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def _group(by: TrendBy, hit: Hit | None, key: str, category: str | None = None) -> str:
    if by is TrendBy.platform:
        return hit.post.platform.value if hit else key.split(":", 1)[0] or UNKNOWN
    if category and category in Category.__members__:
        return category  # the analyst's category wins over the model's
    if hit is not None and hit.verdict.category is not None:
        return hit.verdict.category.value
    return UNKNOWN


def count_trend(
    hits: Iterable[Hit],
    confirmations: Iterable[DatedOutcome],
    removals: Iterable[DatedOutcome],
    *,
    by: TrendBy,
    days: int,
    today: date,
) -> Trend:
    """Count the `days` Beijing days ending `today`. `hits` are the lead-gen hits (first seen, and the category or
    platform of the keys the casebook names); an outcome whose hit is not among them still counts, as `unknown`
    category or under its key's platform."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    period = tuple(today - timedelta(days=n) for n in range(days - 1, -1, -1))
    first = period[0]
    by_key = {h.key: h for h in hits}
    counts: dict[Measure, Counter[tuple[date, str]]] = {m: Counter() for m in Measure}
    for hit in by_key.values():
        day = _day(hit.first_seen)
        if first <= day <= today:
            counts[Measure.first_seen][(day, _group(by, hit, hit.key))] += 1
    for measure, outcomes in ((Measure.confirmed, confirmations), (Measure.taken_down, removals)):
        for outcome in outcomes:
            day = _day(outcome.at)
            if first <= day <= today:
                counts[measure][(day, _group(by, by_key.get(outcome.key), outcome.key, outcome.category))] += 1
    pairs = sorted(set().union(*(c.keys() for c in counts.values())))
    rows = tuple(TrendRow(day, group, *(counts[m][(day, group)] for m in Measure)) for day, group in pairs)
    totals = {
        day: TrendRow(day, "", *(sum(n for (d, _), n in counts[m].items() if d == day) for m in Measure))
        for day in period
    }
    return Trend(by=by, days=period, rows=rows, totals=totals)


def read_trend(store: HitStore, casebook: Casebook, *, by: TrendBy, days: int, now: datetime | None = None) -> Trend:
    """The trend over the `days` Beijing days ending today, read from the index and the casebook."""
    today = _day(now or utcnow())
    since = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), BEIJING)
    confirmations = casebook.first_confirmations(since)
    removals = casebook.first_removals(since)
    hits = {h.key: h for h in iter_hits(store, SearchQuery(labels=("lead_gen",)))}
    missing = [o.key for o in (*confirmations, *removals) if o.key not in hits]
    hits.update({h.key: h for h in store.get_many(_unique(missing))})
    return count_trend(hits.values(), confirmations, removals, by=by, days=days, today=today)


def _unique(keys: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(keys))
