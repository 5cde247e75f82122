"""The Elasticsearch HitStore: an index template, versioned indices (`<alias>-v1`, `-v2`, ...) behind an alias.

Chinese analysis plugins cannot be installed, so jieba runs in Python: `words` holds the same search-mode
words as the embedded index (whitespace analyzer) and `chars` one token per Han character (standard analyzer)
for exact phrases. Documents are written with `streaming_bulk` (ids = hit keys, so writes are idempotent,
retried with back-off on 429), the alias is refreshed after every write so reads see it, status changes are
partial updates, deep pages use `search_after`, facets are aggregations. `reindex()` builds the next version
and moves the alias atomically. The API key is never logged or shown in repr.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from elasticsearch import Elasticsearch, NotFoundError, helpers
from elasticsearch.helpers import BulkIndexError

from core.records import Hit, HitStatus
from indexer.base import SearchQuery, SearchResult, SortOrder
from indexer.document import MISSING_TS, hit_fields, to_micros
from indexer.query import And, FieldIs, Node, Not, Phrase, Words, scores
from indexer.segment import dictionary_fingerprint

log = logging.getLogger(__name__)

MAX_WINDOW = 10_000  # index.max_result_window: deeper pages go through search_after
_FACET_SIZE = 10_000

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "key": {"type": "keyword"},
        "words": {"type": "text", "analyzer": "whitespace", "similarity": "BM25"},
        "chars": {"type": "text", "analyzer": "standard"},
        "platform": {"type": "keyword"},
        "category": {"type": "keyword"},
        "status": {"type": "keyword"},
        "label": {"type": "keyword"},
        "author_id": {"type": "keyword"},
        "author": {"type": "keyword"},
        "contact": {"type": "keyword"},
        "kind": {"type": "keyword"},
        "day": {"type": "keyword"},
        "segmenter": {"type": "keyword"},
        "score": {"type": "double"},
        "published_ts": {"type": "long"},
        "first_seen_ts": {"type": "long"},
        "oldest_ts": {"type": "long"},
        "published_at": {"type": "date"},
        "first_seen": {"type": "date"},
        "hit": {"type": "object", "enabled": False},  # kept in _source, not indexed
    },
}

_STATUS_SCRIPT = """
boolean changed = false;
if (ctx._source.status != params.status) { ctx._source.status = params.status; changed = true; }
ctx._source.hit.status = params.status;
if (params.report_id != null) {
  if (ctx._source.hit.report_ids == null) { ctx._source.hit.report_ids = new ArrayList(); }
  if (!ctx._source.hit.report_ids.contains(params.report_id)) {
    ctx._source.hit.report_ids.add(params.report_id); changed = true;
  }
}
if (!changed) { ctx.op = 'noop'; }
"""


def redact_url(url: str) -> str:
    """The URL without any user:password part, for logs and repr."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class ElasticHitStore:
    """HitStore on an Elasticsearch 8.x cluster; `index_alias` is what readers and writers address."""

    def __init__(
        self,
        url: str,
        index_alias: str = "qingyuan-hits",
        api_key: str | None = None,
        ca_certs: str | Path | None = None,
        *,
        shards: int = 1,
        replicas: int = 0,
        request_timeout: float = 30.0,
        max_retries: int = 5,
        initial_backoff: float = 1.0,
        client: Elasticsearch | None = None,
    ) -> None:
        self.url = url
        self.alias = index_alias
        self.shards, self.replicas = shards, replicas
        self.max_retries, self.initial_backoff = max_retries, initial_backoff
        self.max_window = MAX_WINDOW  # pages reaching beyond this use search_after
        kwargs: dict[str, Any] = {"request_timeout": request_timeout, "retry_on_timeout": True, "max_retries": 3}
        if api_key:
            kwargs["api_key"] = api_key
        if ca_certs:
            kwargs["ca_certs"] = str(ca_certs)
        self.es = client or Elasticsearch(url, **kwargs)
        self.ensure_index()
        if self.stale_segmentation:
            log.warning(
                "%s holds posts segmented with another dictionary (the lexicon changed); "
                "rebuild it (qingyuan index --reindex) so new terms are found in old posts",
                self.alias,
            )

    def __repr__(self) -> str:
        return f"ElasticHitStore({redact_url(self.url)!r}, {self.alias!r})"

    # -- index lifecycle ---------------------------------------------------------------------------------------

    def index_name(self, version: int) -> str:
        return f"{self.alias}-v{version}"

    def put_template(self) -> None:
        self.es.indices.put_index_template(
            name=f"{self.alias}-template",
            index_patterns=[f"{self.alias}-v*"],
            template={
                "settings": {"number_of_shards": self.shards, "number_of_replicas": self.replicas},
                "mappings": MAPPINGS,
            },
            priority=100,
        )

    def ensure_index(self) -> str:
        """Create the template and `<alias>-v1` behind the alias unless the alias exists; returns the index."""
        self.put_template()
        current = self.current_index()
        if current:
            self._add_missing_fields(current)
            return current
        name = self.index_name(1)
        if not self.es.indices.exists(index=name):
            self.es.indices.create(index=name, aliases={self.alias: {"is_write_index": True}})
        else:
            self.es.indices.put_alias(index=name, name=self.alias, is_write_index=True)
        self.es.cluster.health(index=name, wait_for_status="yellow", timeout="30s")
        log.info("created %s behind alias %s on %s", name, self.alias, redact_url(self.url))
        return name

    def _add_missing_fields(self, index: str) -> None:
        """An index made before a field existed gets it in its mapping, and its documents are written again."""
        mapping = self.es.indices.get_mapping(index=index).body[index]["mappings"].get("properties", {})
        missing = {name: spec for name, spec in MAPPINGS["properties"].items() if name not in mapping}
        if not missing:
            return
        self.es.indices.put_mapping(index=index, properties=missing)
        written = self.upsert(self.iter_hits())
        log.warning("%s gained fields %s; %d hits written again", index, ", ".join(sorted(missing)), written)

    def current_index(self) -> str | None:
        try:
            found = self.es.indices.get_alias(name=self.alias)
        except NotFoundError:
            return None
        names = sorted(found.body.keys())
        return names[-1] if names else None

    def current_version(self) -> int:
        current = self.current_index()
        return int(current.rsplit("-v", 1)[1]) if current else 0

    def reindex(self, new_version: int | None = None, delete_old: bool = False) -> str:
        """Copy every document into `<alias>-v<new_version>` (current mapping) and swap the alias atomically."""
        old = self.current_index()
        new_version = new_version or self.current_version() + 1
        new = self.index_name(new_version)
        if new == old:
            raise ValueError(f"{new} is already behind {self.alias}")
        self.put_template()
        if self.es.indices.exists(index=new):
            self.es.indices.delete(index=new)
        self.es.indices.create(index=new)
        self.es.cluster.health(index=new, wait_for_status="yellow", timeout="30s")
        if old:
            self.es.reindex(source={"index": old}, dest={"index": new}, wait_for_completion=True, refresh=True)
        actions: list[dict[str, Any]] = [{"add": {"index": new, "alias": self.alias, "is_write_index": True}}]
        if old:
            actions.insert(0, {"remove": {"index": old, "alias": self.alias}})
        self.es.indices.update_aliases(actions=actions)
        if old and delete_old:
            self.es.indices.delete(index=old)
        log.info("reindexed %s -> %s behind %s", old, new, self.alias)
        return new

    def drop(self) -> None:
        """Delete every version behind the alias and the template (tests, benchmarks)."""
        # Wildcard deletes are refused by default (action.destructive_requires_name): delete by name.
        names = sorted(self.es.indices.get(index=f"{self.alias}-v*", allow_no_indices=True).body)
        if names:
            self.es.indices.delete(index=",".join(names))
        try:
            self.es.indices.delete_index_template(name=f"{self.alias}-template")
        except NotFoundError:
            pass

    # -- writing -----------------------------------------------------------------------------------------------

    @staticmethod
    def _source(hit: Hit) -> dict[str, Any]:
        fields = hit_fields(hit)
        for name in ("category", "author_id", "day"):
            if not fields[name]:
                fields[name] = None
        fields["published_at"] = hit.post.published_at.isoformat() if hit.post.published_at else None
        fields["first_seen"] = hit.first_seen.isoformat()
        fields["hit"] = hit.model_dump(mode="json")
        return fields

    @property
    def stale_segmentation(self) -> bool:
        """True when some documents were segmented with another dictionary than the current one."""
        query = {"bool": {"must_not": [{"term": {"segmenter": dictionary_fingerprint()}}]}}
        return int(self.es.count(index=self.alias, query=query)["count"]) > 0

    def refresh(self) -> None:
        self.es.indices.refresh(index=self.alias)

    def upsert(self, hits: Iterable[Hit], chunk_size: int = 1000) -> int:
        """Bulk-index hits (id = key). Segmentation runs in a producer thread so it overlaps the bulk requests."""
        stop = threading.Event()
        failure: list[BaseException] = []
        pending: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=2 * chunk_size)

        def produce() -> None:
            try:
                for hit in hits:
                    action = {"_op_type": "index", "_index": self.alias, "_id": hit.key, "_source": self._source(hit)}
                    while not stop.is_set():
                        try:
                            pending.put(action, timeout=0.2)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
            except BaseException as exc:  # surfaced in the caller's thread below
                failure.append(exc)
            finally:
                while not stop.is_set():
                    try:
                        pending.put(None, timeout=0.2)
                        break
                    except queue.Full:
                        continue

        def consume() -> Iterator[dict[str, Any]]:
            while (action := pending.get()) is not None:
                yield action

        producer = threading.Thread(target=produce, name="es-upsert-segment", daemon=True)
        producer.start()
        n = 0
        failed: list[dict[str, Any]] = []
        try:
            # raise_on_error=False: with True the helper raises on the first rejected item before its own
            # 429 retry loop sees it, so rejected documents would never be retried.
            for ok, item in helpers.streaming_bulk(
                self.es,
                consume(),
                chunk_size=chunk_size,
                max_retries=self.max_retries,
                initial_backoff=self.initial_backoff,
                raise_on_error=False,
            ):
                if ok:
                    n += 1
                else:
                    failed.append(item)
        finally:
            stop.set()
            producer.join()
            self.refresh()  # whatever was written is visible, even after a failure
        if failure:
            raise failure[0]
        if failed:
            first: dict[str, Any] = next(iter(failed[0].values()), {})
            log.error("%d hits failed to index; first: %s %s", len(failed), first.get("_id"), first.get("error"))
            raise BulkIndexError(f"{len(failed)} hit(s) failed to index", failed)
        return n

    def set_status(self, keys: Sequence[str], status: HitStatus, report_id: str | None = None) -> int:
        unique = list(dict.fromkeys(keys))
        changed = 0
        for start in range(0, len(unique), 10_000):
            response = self.es.update_by_query(
                index=self.alias,
                query={"terms": {"key": unique[start : start + 10_000]}},
                script={
                    "source": _STATUS_SCRIPT,
                    "lang": "painless",
                    "params": {"status": status.value, "report_id": report_id},
                },
                refresh=True,
                conflicts="proceed",
                slices=1,
            )
            changed += int(response["updated"])
        return changed

    def delete(self, keys: Sequence[str]) -> int:
        response = self.es.delete_by_query(index=self.alias, query={"terms": {"key": list(keys)}}, refresh=True)
        return int(response["deleted"])

    # -- reading -----------------------------------------------------------------------------------------------

    @staticmethod
    def _hit(source: dict[str, Any]) -> Hit:
        return Hit.model_validate(source["hit"])

    def get(self, key: str) -> Hit | None:
        try:
            doc = self.es.get(index=self.alias, id=key, source_includes=["hit"])
        except NotFoundError:
            return None
        return self._hit(doc["_source"])

    def get_many(self, keys: Sequence[str]) -> list[Hit]:
        if not keys:
            return []
        found: dict[str, Hit] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 1000):
            response = self.es.mget(index=self.alias, ids=unique[start : start + 1000], source_includes=["hit"])
            for doc in response["docs"]:
                if doc.get("found"):
                    found[doc["_id"]] = self._hit(doc["_source"])
        return [found[k] for k in keys if k in found]

    def keys(self) -> set[str]:
        out: set[str] = set()
        after: list[Any] | None = None
        while True:
            response = self.es.search(
                index=self.alias,
                query={"match_all": {}},
                size=self.max_window,
                sort=[{"key": "asc"}],
                source=False,
                search_after=after,
            )
            page = response["hits"]["hits"]
            out.update(h["_id"] for h in page)
            if len(page) < self.max_window:
                return out
            after = page[-1]["sort"]

    def count(self) -> int:
        return int(self.es.count(index=self.alias)["count"])

    def close(self) -> None:
        self.es.close()

    # -- search ------------------------------------------------------------------------------------------------

    @staticmethod
    def build_query(query: SearchQuery) -> tuple[dict[str, Any], bool]:
        """The ES query for a SearchQuery, and whether it has scoring (text) clauses."""
        tree = query.tree()
        must: list[dict[str, Any]] = [translate(tree)] if tree is not None else []
        flt: list[dict[str, Any]] = []
        for field, values in (
            ("platform", query.platforms),
            ("category", query.categories),
            ("status", query.statuses),
            ("label", query.labels),
        ):
            if values:
                flt.append({"terms": {field: [getattr(v, "value", v) for v in values]}})
        if query.author_id:
            flt.append({"term": {"author_id": query.author_id}})
        score_range: dict[str, float] = {}
        if query.min_score is not None:
            score_range["gte"] = query.min_score
        if query.max_score is not None:
            score_range["lte"] = query.max_score
        if score_range:
            flt.append({"range": {"score": score_range}})
        if query.since is not None or query.until is not None:
            ts_range: dict[str, int] = {"gte": to_micros(query.since) if query.since else MISSING_TS + 1}
            if query.until is not None:
                ts_range["lt"] = to_micros(query.until)
            flt.append({"range": {"published_ts": ts_range}})
        if not must and not flt:
            return {"match_all": {}}, False
        return {"bool": {"must": must, "filter": flt}}, scores(tree)

    @staticmethod
    def _sort(sort: SortOrder) -> list[Any]:
        specs: dict[SortOrder, list[Any]] = {
            SortOrder.relevance: ["_score", {"key": "asc"}],
            SortOrder.newest: [{"published_ts": "desc"}, {"key": "asc"}],
            SortOrder.oldest: [{"oldest_ts": "asc"}, {"key": "asc"}],
            SortOrder.score: [{"score": "desc"}, {"key": "asc"}],
            SortOrder.first_seen: [{"first_seen_ts": "asc"}, {"key": "asc"}],
        }
        return specs[sort]

    def search(self, query: SearchQuery) -> SearchResult:
        es_query, scored = self.build_query(query)
        sort = query.sort
        if sort is SortOrder.relevance and not scored:
            sort = SortOrder.newest
        aggs = None
        if query.facets:
            aggs = {name: {"terms": {"field": name, "size": _FACET_SIZE}} for name in ("category", "platform", "day")}
        common: dict[str, Any] = {"index": self.alias, "query": es_query, "track_total_hits": True}
        sort_spec = self._sort(sort)
        if query.offset + query.limit <= self.max_window:
            response = self.es.search(
                **common, sort=sort_spec, from_=query.offset, size=query.limit, aggs=aggs, source_includes=["hit"]
            )
            docs = response["hits"]["hits"]
        else:
            response, docs = self._deep_page(common, sort_spec, query.offset, query.limit, aggs)
        out = SearchResult(total=int(response["hits"]["total"]["value"]), hits=[self._hit(d["_source"]) for d in docs])
        if aggs:
            for name, target in (("category", out.by_category), ("platform", out.by_platform), ("day", out.by_day)):
                for bucket in response["aggregations"][name]["buckets"]:
                    target[str(bucket["key"])] = int(bucket["doc_count"])
        return out

    def _deep_page(
        self, common: dict[str, Any], sort_spec: list[Any], offset: int, limit: int, aggs: dict[str, Any] | None
    ) -> tuple[Any, list[dict[str, Any]]]:
        """Skip `offset` documents with search_after (no source), then fetch the page."""
        after: list[Any] | None = None
        skipped = 0
        first: Any = None
        while skipped < offset:
            size = min(self.max_window, offset - skipped)
            response = self.es.search(
                **common,
                sort=sort_spec,
                size=size,
                source=False,
                aggs=aggs if first is None else None,
                search_after=after,
            )
            first = first if first is not None else response
            page = response["hits"]["hits"]
            if not page:
                return first, []
            skipped += len(page)
            after = page[-1]["sort"]
        response = self.es.search(**common, sort=sort_spec, size=limit, source_includes=["hit"], search_after=after)
        return (first if first is not None else response), response["hits"]["hits"]

    def iter_hits(self, query: SearchQuery | None = None, batch: int = 1000) -> Iterator[Hit]:
        """Every hit matching `query` (default: all, oldest first seen first), through search_after."""
        query = query or SearchQuery(sort=SortOrder.first_seen)
        es_query, scored = self.build_query(query)
        sort = query.sort if (query.sort is not SortOrder.relevance or scored) else SortOrder.newest
        after: list[Any] | None = None
        while True:
            response = self.es.search(
                index=self.alias,
                query=es_query,
                sort=self._sort(sort),
                size=batch,
                source_includes=["hit"],
                search_after=after,
            )
            page = response["hits"]["hits"]
            for doc in page:
                yield self._hit(doc["_source"])
            if len(page) < batch:
                return
            after = page[-1]["sort"]


def translate(node: Node) -> dict[str, Any]:
    """One query-language tree node as an Elasticsearch query (mirrors TantivyHitStore.translate)."""
    if isinstance(node, Words):
        terms: list[dict[str, Any]] = [{"term": {"words": w}} for w in node.words]
        return terms[0] if len(terms) == 1 else {"bool": {"must": terms}}
    if isinstance(node, Phrase):
        return {"match_phrase": {"chars": " ".join(node.tokens)}}
    if isinstance(node, FieldIs):
        return {"term": {node.field.value: node.value}}
    if isinstance(node, Not):
        return {"bool": {"must_not": [translate(node.child)]}}
    if isinstance(node, And):
        return {"bool": {"must": [translate(c) for c in node.children]}}
    return {"bool": {"should": [translate(c) for c in node.children], "minimum_should_match": 1}}
