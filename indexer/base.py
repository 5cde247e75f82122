"""The HitStore interface and the query model shared by every backend (tantivy, Elasticsearch).

The CLI, the web UI and reports speak only this; they never know which backend is underneath.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from enum import StrEnum
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from core.records import Category, Hit, HitStatus, Platform, UtcDatetime
from indexer.query import Node, Phrase, Words, conjoin, parse_query
from indexer.segment import char_tokens, query_words


class SortOrder(StrEnum):
    relevance = "relevance"
    newest = "newest"  # by published_at, then key
    oldest = "oldest"  # by published_at ascending, then key (undated posts last)
    score = "score"  # by verdict score, then key
    first_seen = "first_seen"  # oldest first seen first (review queue)


class SearchQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    # The query language (indexer/query.py): words (AND), OR, NOT/-word, parentheses, "phrases", field:value.
    text: str = ""
    words: tuple[str, ...] = ()  # plain words that must all occur, never read as query syntax
    phrase: str | None = None  # exact phrase, per character
    platforms: tuple[Platform, ...] = ()
    categories: tuple[Category, ...] = ()
    statuses: tuple[HitStatus, ...] = ()
    labels: tuple[str, ...] = ()  # lead_gen / benign; empty = any
    author_id: str | None = None
    since: UtcDatetime | None = None  # published_at >= since
    until: UtcDatetime | None = None  # published_at < until
    min_score: float | None = None
    max_score: float | None = None
    sort: SortOrder = SortOrder.relevance
    limit: int = Field(default=20, ge=0, le=10_000)
    offset: int = Field(default=0, ge=0)
    facets: bool = False  # also count by category, platform and day

    def tree(self) -> Node | None:
        """The text, words and phrase as one query tree (QueryError when the text cannot be read)."""
        parts: list[Node | None] = [parse_query(self.text) if self.text.strip() else None]
        for word in self.words:
            found = tuple(dict.fromkeys(query_words(word)))
            parts.append(Words(word, found) if found else None)
        if self.phrase and (tokens := tuple(char_tokens(self.phrase))):
            parts.append(Phrase(self.phrase, tokens))
        return conjoin(parts)


class SearchResult(BaseModel):
    total: int
    hits: list[Hit]
    by_category: dict[str, int] = Field(default_factory=dict)
    by_platform: dict[str, int] = Field(default_factory=dict)
    by_day: dict[str, int] = Field(default_factory=dict)  # "YYYY-MM-DD" (UTC, published_at) -> count


@runtime_checkable
class HitStore(Protocol):
    """A searchable store of Hits keyed by `platform:post_id`; upserts are idempotent."""

    def upsert(self, hits: Iterable[Hit]) -> int:
        """Insert or replace hits by key; returns how many were written. Commits before returning."""
        ...

    def get(self, key: str) -> Hit | None: ...

    def get_many(self, keys: Sequence[str]) -> list[Hit]: ...

    def keys(self) -> set[str]:
        """Every key in the store (used to skip already-classified posts)."""
        ...

    def set_status(self, keys: Sequence[str], status: HitStatus, report_id: str | None = None) -> int:
        """Partial update of status (and report ids); returns how many hits changed."""
        ...

    def search(self, query: SearchQuery) -> SearchResult: ...

    def count(self) -> int: ...

    def close(self) -> None: ...


def iter_hits(store: HitStore, query: SearchQuery, page: int = 1000) -> Iterator[Hit]:
    """Every hit matching a query, paged so memory stays flat."""
    offset = 0
    while True:
        result = store.search(query.model_copy(update={"limit": page, "offset": offset, "facets": False}))
        yield from result.hits
        offset += len(result.hits)
        if not result.hits or offset >= result.total:
            return
