"""The embedded HitStore: a tantivy index on local disk (the default when no Elasticsearch is configured).

Fields: `words` (jieba search-mode words, whitespace-tokenised), `chars` (one token per Han character, with
positions, for exact phrases), raw fast fields for filters and facets, numeric fast fields for ranges and sorts,
and the Hit itself as stored JSON bytes.

Writes take tantivy's own writer lock (one writer per index across processes) for the duration of one call and
commit before returning; tantivy's meta.json makes a commit atomic, so a process killed mid-write leaves the last
committed state, which reopens cleanly.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import tantivy

from core.records import Hit, HitStatus
from indexer.base import SearchQuery, SearchResult, SortOrder
from indexer.document import MISSING_TS, hit_fields, to_micros
from indexer.query import And, FieldIs, Node, Not, Phrase, Words, scores
from indexer.segment import dictionary_fingerprint, query_words

log = logging.getLogger(__name__)

# 2: author, contact and kind became fields (the query language's author:, contact:, kind:); oldest_ts.
SCHEMA_VERSION = 2
_RAW_FIELDS = ("key", "platform", "category", "status", "label", "author_id", "day", "segmenter", "kind")
_MULTI_FIELDS = ("author", "contact")  # raw, one value each
_FACET_SIZE = 100_000


def _count(result: tantivy.SearchResult) -> int:
    # `count` exists at runtime (search(count=True)) but is missing from the binding's type stubs.
    return int(result.count)  # type: ignore[attr-defined]


class IndexLockedError(RuntimeError):
    """Another writer (usually another process) holds this index's writer lock."""


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    for name in _RAW_FIELDS:
        sb.add_text_field(name, stored=False, fast=True, tokenizer_name="raw", index_option="basic")
    for name in _MULTI_FIELDS:
        sb.add_text_field(name, stored=False, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("words", stored=False, tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("chars", stored=False, tokenizer_name="whitespace", index_option="position")
    sb.add_float_field("score", indexed=True, fast=True)
    sb.add_integer_field("published_ts", indexed=True, fast=True)
    sb.add_integer_field("first_seen_ts", indexed=True, fast=True)
    sb.add_integer_field("oldest_ts", indexed=True, fast=True)
    sb.add_integer_field("schema_version", stored=True)
    sb.add_bytes_field("hit", stored=True)
    return sb.build()


class TantivyHitStore:
    """HitStore over a tantivy index directory (created when missing)."""

    def __init__(self, path: str | Path, *, writer_heap: int = 128_000_000, lock_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.schema = build_schema()
        self._writer_heap = writer_heap
        self._lock_timeout = lock_timeout
        self._write_lock = threading.Lock()
        try:
            self._index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        except ValueError as exc:
            if "schema" not in str(exc).lower():
                raise
            self._index = self._migrate()
        if self.stale_segmentation:
            log.warning(
                "%s was indexed with another segmentation dictionary (the lexicon changed); "
                "rebuild it (qingyuan index --reindex) so new terms are found in old posts",
                self.path,
            )

    def _migrate(self) -> tantivy.Index:
        """Rebuild an index written under an older schema from the hits it stores (they are whole Hits).

        One process rebuilds at a time (a lock file beside the index); one that waited finds the work done."""
        with self.path.with_name(self.path.name + ".upgrade.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return tantivy.Index(self.schema, path=str(self.path), reuse=True)
            except ValueError as exc:
                if "schema" not in str(exc).lower():
                    raise
            return self._rebuild()

    def _rebuild(self) -> tantivy.Index:
        old = tantivy.Index.open(str(self.path))
        searcher = old.searcher()
        n = int(searcher.num_docs)
        hits = [
            self._load(searcher, address)
            for _, address in searcher.search(tantivy.Query.all_query(), limit=max(n, 1)).hits
        ]
        fresh = self.path.with_name(self.path.name + ".migrating")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        self._index = tantivy.Index(self.schema, path=str(fresh))
        self._write(hits)
        retired = self.path.with_name(self.path.name + ".retired")
        shutil.rmtree(retired, ignore_errors=True)
        self.path.rename(retired)
        fresh.rename(self.path)
        shutil.rmtree(retired, ignore_errors=True)
        log.warning("%s was rebuilt for index schema %d (%d hits)", self.path, SCHEMA_VERSION, len(hits))
        return tantivy.Index(self.schema, path=str(self.path), reuse=True)

    @property
    def stale_segmentation(self) -> bool:
        """True when some documents were segmented with another dictionary than the current one."""
        current = tantivy.Query.term_query(self.schema, "segmenter", dictionary_fingerprint())
        older = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, tantivy.Query.all_query()), (tantivy.Occur.MustNot, current)]
        )
        return _count(self._searcher().search(older, limit=1, count=True)) > 0

    def __repr__(self) -> str:
        return f"TantivyHitStore({str(self.path)!r})"

    # -- writing ---------------------------------------------------------------------------------------------

    def _writer(self) -> tantivy.IndexWriter:
        deadline = time.monotonic() + self._lock_timeout
        delay = 0.05
        while True:
            try:
                return self._index.writer(self._writer_heap, 1)
            except ValueError as exc:
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    if "lock" in str(exc).lower():
                        raise IndexLockedError(f"{self.path} is locked by another writer") from exc
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def _document(self, hit: Hit) -> tantivy.Document:
        fields = hit_fields(hit)
        doc = tantivy.Document()
        for name in _RAW_FIELDS:
            if fields[name]:
                doc.add_text(name, fields[name])
        for name in _MULTI_FIELDS:
            for value in fields[name]:
                doc.add_text(name, value)
        doc.add_text("words", fields["words"])
        doc.add_text("chars", fields["chars"])
        doc.add_float("score", fields["score"])
        doc.add_integer("published_ts", fields["published_ts"])
        doc.add_integer("first_seen_ts", fields["first_seen_ts"])
        doc.add_integer("oldest_ts", fields["oldest_ts"])
        doc.add_integer("schema_version", SCHEMA_VERSION)
        doc.add_bytes("hit", hit.model_dump_json().encode("utf-8"))
        return doc

    def _write(self, hits: Iterable[Hit]) -> int:
        with self._write_lock:
            writer = self._writer()
            n = 0
            try:
                for hit in hits:
                    writer.delete_documents_by_term("key", hit.key)
                    writer.add_document(self._document(hit))
                    n += 1
                writer.commit()
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()  # releases the writer lock and finishes merges
            self._index.reload()
            return n

    def upsert(self, hits: Iterable[Hit]) -> int:
        return self._write(hits)

    def set_status(self, keys: Sequence[str], status: HitStatus, report_id: str | None = None) -> int:
        changed: list[Hit] = []
        for hit in self.get_many(list(dict.fromkeys(keys))):
            report_ids = hit.report_ids
            if report_id and report_id not in report_ids:
                report_ids = (*report_ids, report_id)
            if hit.status is status and report_ids == hit.report_ids:
                continue
            changed.append(hit.model_copy(update={"status": status, "report_ids": report_ids}))
        if changed:
            self._write(changed)
        return len(changed)

    # -- reading ---------------------------------------------------------------------------------------------

    def _searcher(self) -> tantivy.Searcher:
        self._index.reload()  # see commits made by other processes
        return self._index.searcher()

    @staticmethod
    def _load(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> Hit:
        raw = searcher.doc(address).get_first("hit")
        if raw is None:
            raise ValueError("document without a stored hit (index written by another program?)")
        return Hit.model_validate_json(bytes(raw))

    def _key_query(self, keys: Sequence[str]) -> tantivy.Query:
        return tantivy.Query.term_set_query(self.schema, "key", list(keys))

    def get(self, key: str) -> Hit | None:
        found = self.get_many([key])
        return found[0] if found else None

    def get_many(self, keys: Sequence[str]) -> list[Hit]:
        if not keys:
            return []
        searcher = self._searcher()
        by_key: dict[str, Hit] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 1000):
            chunk = unique[start : start + 1000]
            result = searcher.search(self._key_query(chunk), limit=len(chunk), count=False)
            for _, address in result.hits:
                hit = self._load(searcher, address)
                by_key[hit.key] = hit
        return [by_key[k] for k in keys if k in by_key]

    def keys(self) -> set[str]:
        # One key-ordered collection: the order key *is* the key, read from the fast field, no stored docs.
        searcher = self._searcher()
        n = int(searcher.num_docs)
        if n == 0:
            return set()
        result = searcher.search(
            tantivy.Query.all_query(), limit=n, count=False, order_by_field="key", order=tantivy.Order.Asc
        )
        return {key for key, _ in result.hits}

    def count(self) -> int:
        return int(self._searcher().num_docs)

    def close(self) -> None:
        # Nothing is held between calls; the writer lock is released after every write.
        return None

    # -- search ----------------------------------------------------------------------------------------------

    def _filter(self, clauses: list[tantivy.Query], field: str, values: Sequence[Any]) -> None:
        values = [getattr(v, "value", v) for v in values]
        if values:
            clauses.append(tantivy.Query.term_set_query(self.schema, field, values))

    def _range(self, field: str, ftype: tantivy.FieldType, lo: Any, hi: Any, incl_hi: bool = True) -> tantivy.Query:
        return tantivy.Query.range_query(self.schema, field, ftype, lo, hi, True, incl_hi)

    def build_query(self, query: SearchQuery) -> tuple[tantivy.Query, bool]:
        """The tantivy query for a SearchQuery, and whether it has scoring (text) clauses."""
        tree = query.tree()
        filters: list[tantivy.Query] = []
        self._filter(filters, "platform", query.platforms)
        self._filter(filters, "category", query.categories)
        self._filter(filters, "status", query.statuses)
        self._filter(filters, "label", query.labels)
        if query.author_id:
            filters.append(tantivy.Query.term_query(self.schema, "author_id", query.author_id))
        if query.min_score is not None or query.max_score is not None:
            lo = query.min_score if query.min_score is not None else -1.0
            hi = query.max_score if query.max_score is not None else 2.0
            filters.append(self._range("score", tantivy.FieldType.Float, float(lo), float(hi)))
        if query.since is not None or query.until is not None:
            lo = to_micros(query.since) if query.since is not None else MISSING_TS + 1
            if query.until is not None:
                filters.append(
                    self._range("published_ts", tantivy.FieldType.Integer, lo, to_micros(query.until), incl_hi=False)
                )
            else:
                filters.append(self._range("published_ts", tantivy.FieldType.Integer, lo, 2**62))
        clauses = [(tantivy.Occur.Must, self.translate(tree))] if tree is not None else []
        # Filters do not score (as in Elasticsearch's filter context).
        clauses += [(tantivy.Occur.Must, tantivy.Query.const_score_query(q, 0.0)) for q in filters]
        if not clauses:
            return tantivy.Query.all_query(), False
        return tantivy.Query.boolean_query(clauses), scores(tree)

    def translate(self, node: Node) -> tantivy.Query:
        """One query-language tree node as a tantivy query (the Elasticsearch store mirrors this clause by clause)."""
        if isinstance(node, Words):
            terms = [tantivy.Query.term_query(self.schema, "words", w) for w in node.words]
            return (
                terms[0] if len(terms) == 1 else tantivy.Query.boolean_query([(tantivy.Occur.Must, t) for t in terms])
            )
        if isinstance(node, Phrase):
            if len(node.tokens) == 1:
                return tantivy.Query.term_query(self.schema, "chars", node.tokens[0])
            words_or_offsets: list[str | tuple[int, str]] = list(node.tokens)
            return tantivy.Query.phrase_query(self.schema, "chars", words_or_offsets)
        if isinstance(node, FieldIs):
            return tantivy.Query.term_query(self.schema, node.field.value, node.value)
        if isinstance(node, Not):
            # A query of only MustNot matches nothing in tantivy: exclude from everything, as ES's must_not does.
            return tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, tantivy.Query.all_query()), (tantivy.Occur.MustNot, self.translate(node.child))]
            )
        occur = tantivy.Occur.Must if isinstance(node, And) else tantivy.Occur.Should
        return tantivy.Query.boolean_query([(occur, self.translate(c)) for c in node.children])

    def search(self, query: SearchQuery) -> SearchResult:
        searcher = self._searcher()
        tq, scored = self.build_query(query)
        sort = query.sort
        if sort is SortOrder.relevance and not scored:
            sort = SortOrder.newest  # nothing to rank by: newest first
        # tantivy panics on limit=0: count with a one-document collector instead.
        total = _count(searcher.search(tq, limit=1, count=True)) if query.limit == 0 else None
        addresses: list[tantivy.DocAddress] = []
        if query.limit > 0:
            if sort is SortOrder.relevance:
                result = searcher.search(tq, limit=query.limit, offset=query.offset, count=True)
                total = _count(result)
                hits = [(score, self._load(searcher, addr)) for score, addr in result.hits]
                # Equal scores: key order, as in Elasticsearch's secondary sort.
                hits.sort(key=lambda pair: (-round(pair[0], 5), pair[1].key))
                page = [h for _, h in hits]
            else:
                field, desc = {
                    SortOrder.newest: ("published_ts", True),
                    SortOrder.oldest: ("oldest_ts", False),
                    SortOrder.score: ("score", True),
                    SortOrder.first_seen: ("first_seen_ts", False),
                }[sort]
                total, addresses = self._sorted(searcher, tq, field, desc, query.offset, query.limit)
                page = [self._load(searcher, addr) for addr in addresses]
        else:
            page = []
        out = SearchResult(total=total or 0, hits=page)
        if query.facets:
            self._facets(searcher, tq, out)
        return out

    def _sorted(
        self, searcher: tantivy.Searcher, tq: tantivy.Query, field: str, desc: bool, offset: int, limit: int
    ) -> tuple[int, list[tantivy.DocAddress]]:
        """The page [offset, offset+limit) by (field, then key ascending).

        tantivy orders by one fast field, so equal values come back in no particular order. One extra document
        shows whether the last value continues past the page; only groups of equal values that touch the page
        are re-read in key order (usually none).
        """
        order = tantivy.Order.Desc if desc else tantivy.Order.Asc
        ftype = tantivy.FieldType.Float if field == "score" else tantivy.FieldType.Integer
        n = offset + limit
        result = searcher.search(tq, limit=n + 1, count=True, order_by_field=field, order=order)
        total = _count(result)
        fetched = result.hits
        if not fetched:
            return total, []
        beyond = fetched[n][0] if len(fetched) > n else None  # value of the first document after the page
        fetched = fetched[:n]
        groups: dict[Any, list[tantivy.DocAddress]] = {}
        for value, address in fetched:  # dicts keep insertion order: already in field order
            groups.setdefault(value, []).append(address)
        ordered: list[tantivy.DocAddress] = []
        for value, members in groups.items():
            first = len(ordered)
            open_ended = len(fetched) == n and value == beyond  # more documents share this value
            if first + len(members) <= offset and not open_ended:
                ordered.extend(members)  # wholly before the page: its inner order does not matter
                continue
            if len(members) == 1 and not open_ended:
                ordered.extend(members)
                continue
            tie = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, tq), (tantivy.Occur.Must, self._range(field, ftype, value, value))]
            )
            want = n - first if open_ended else len(members)
            tied = searcher.search(tie, limit=want, count=False, order_by_field="key", order=tantivy.Order.Asc)
            ordered.extend(addr for _, addr in tied.hits)
        return total, ordered[offset:n]

    def _facets(self, searcher: tantivy.Searcher, tq: tantivy.Query, out: SearchResult) -> None:
        aggs = {name: {"terms": {"field": name, "size": _FACET_SIZE}} for name in ("category", "platform", "day")}
        result = searcher.aggregate(tq, aggs)
        for name, target in (("category", out.by_category), ("platform", out.by_platform), ("day", out.by_day)):
            for bucket in result.get(name, {}).get("buckets", []):
                if bucket["key"]:
                    target[str(bucket["key"])] = int(bucket["doc_count"])

    # -- extras beyond the HitStore protocol -------------------------------------------------------------------

    def iter_hits(self, query: SearchQuery | None = None, batch: int = 1000) -> Iterator[Hit]:
        """Every hit matching `query` (default: all), in the query's sort order, page by page."""
        query = query or SearchQuery(sort=SortOrder.first_seen)
        offset = 0
        while True:
            page = self.search(query.model_copy(update={"offset": offset, "limit": batch, "facets": False}))
            yield from page.hits
            if len(page.hits) < batch:
                return
            offset += batch

    def delete(self, keys: Sequence[str]) -> int:
        present = [h.key for h in self.get_many(keys)]
        if not present:
            return 0
        with self._write_lock:
            writer = self._writer()
            try:
                for key in present:
                    writer.delete_documents_by_term("key", key)
                writer.commit()
            finally:
                writer.wait_merging_threads()
            self._index.reload()
        return len(present)


__all__ = ["IndexLockedError", "TantivyHitStore", "build_schema", "query_words"]
