"""A search as the analyst typed it (strings), and the one way it becomes a SearchQuery.

The console's form, the CLI's options and saved searches are all a `SearchForm`, so the same inputs give the same
hits and the same count everywhere. By default only lead generation is searched (posts judged benign only with
`include_benign`, a `label` choice, or `label:` in the query). Bad input raises `FormError` naming the input.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from core.records import Label
from indexer.base import SearchQuery, SortOrder
from indexer.query import And, FieldIs, Node, Not, Or, QueryError, QueryField, field_values, parse_query
from indexer.segment import normalise
from indexer.when import parse_when

SORTS = ("relevance", "newest", "oldest", "score", "first_seen")


class FormError(ValueError):
    """One input the search cannot use; `field` is the input's name (q, since, min_score, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def resolve(field: QueryField, value: str) -> str:
    """A slug or Chinese name of a closed field's value as its slug (ValueError listing the choices)."""
    table = field_values()[field]
    slug = table.get(normalise(value.strip()))
    if slug is None:
        raise ValueError(f"{value!r} 不是可用的取值（可用：{'、'.join(dict.fromkeys(table.values()))}）")
    return slug


def _names_label(node: Node | None) -> bool:
    """Whether the query asks about the label itself (then the lead-generation default steps aside)."""
    if isinstance(node, FieldIs):
        return node.field is QueryField.label
    if isinstance(node, Not):
        return _names_label(node.child)
    if isinstance(node, And | Or):
        return any(_names_label(c) for c in node.children)
    return False


def _score(name: str, value: str) -> float | None:
    if not value.strip():
        return None
    try:
        score = float(value)
    except ValueError:
        raise FormError(name, f"置信度 {value!r} 不是数字：请填 0 到 1 之间的数，如 0.8") from None
    if not 0.0 <= score <= 1.0:
        raise FormError(name, f"置信度 {value} 超出范围：请填 0 到 1 之间的数（如 0.95，不是 95）")
    return score


class SearchForm(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    q: str = ""
    platform: str = ""  # slugs or Chinese names, comma-separated
    category: str = ""
    status: str = ""
    label: str = ""  # lead_gen | benign | "" (the default: lead generation unless include_benign)
    include_benign: bool = False
    min_score: str = ""
    max_score: str = ""
    since: str = ""  # 7d, 24h, 2w, a date or a datetime (indexer/when.py)
    until: str = ""
    sort: str = "relevance"

    def params(self) -> dict[str, Any]:
        """The inputs that differ from the defaults (for links, saved searches and CSV download URLs)."""
        return self.model_dump(exclude_defaults=True)

    def canonical(self) -> SearchForm:
        """The same search with platform, category and status written as slugs (what the console's selects show);
        values that do not resolve are left as typed, for `to_query` to report."""
        update = {}
        for name, field in (("platform", QueryField.platform), ("category", QueryField.category),
                            ("status", QueryField.status)):  # fmt: skip
            try:
                update[name] = ",".join(self._values(name, field))
            except FormError:
                continue
        return self.model_copy(update=update)

    def _values(self, name: str, field: QueryField) -> tuple[str, ...]:
        raw = [v for v in getattr(self, name).replace("，", ",").split(",") if v.strip()]
        try:
            return tuple(dict.fromkeys(resolve(field, v) for v in raw))
        except ValueError as exc:
            raise FormError(name, f"{name}: {exc}") from None

    def to_query(
        self, *, limit: int = 20, offset: int = 0, facets: bool = False, now: datetime | None = None
    ) -> SearchQuery:
        try:
            tree = parse_query(self.q)
        except QueryError as exc:
            raise FormError("q", str(exc)) from exc
        labels: tuple[str, ...] = ("lead_gen",)
        if self.label:
            labels = self._values("label", QueryField.label)
        elif self.include_benign or _names_label(tree):
            labels = ()
        if self.sort not in SORTS:
            raise FormError("sort", f"排序 {self.sort!r} 不可用（可用：{'、'.join(SORTS)}）")
        try:
            since = parse_when(self.since, now=now)
        except ValueError as exc:
            raise FormError("since", f"起始时间：{exc}") from None
        try:
            until = parse_when(self.until, now=now, end=True)
        except ValueError as exc:
            raise FormError("until", f"截止时间：{exc}") from None
        if since and until and since >= until:
            raise FormError("until", "截止时间早于起始时间")
        return SearchQuery(
            text=self.q,
            platforms=self._values("platform", QueryField.platform),  # type: ignore[arg-type]
            categories=self._values("category", QueryField.category),  # type: ignore[arg-type]
            statuses=self._values("status", QueryField.status),  # type: ignore[arg-type]
            labels=tuple(Label(v).value for v in labels),
            min_score=_score("min_score", self.min_score),
            max_score=_score("max_score", self.max_score),
            since=since,
            until=until,
            sort=SortOrder(self.sort),
            limit=limit,
            offset=offset,
            facets=facets,
        )
