"""The Elasticsearch HitStore: an index template, versioned indices (`<alias>-v1`, `-v2`, ...) behind an alias.

Chinese analysis plugins cannot be installed, so jieba runs in Python: `words` holds the same search-mode
words as the embedded index (whitespace analyzer) and `chars` one token per Han character (standard analyzer)
for exact phrases. Documents are written with `streaming_bulk` (ids = hit keys, so writes are idempotent,
retried with back-off on 429), the alias is refreshed after every write so reads see it, status changes are
partial updates, deep pages use `search_after`, facets are aggregations.

Readers and writers address only the alias. `reindex()` builds the next version with the current template while
searches go on against the old one: `_reindex` copies everything, then the old index is write-blocked, a catch-up
pass copies what was written during the copy (an ingest pipeline stamps every write with the server's time in
`written_at`), and one `_aliases` call moves the alias. Writes refused by the block are retried until the alias
has moved, so none is lost. A concrete index of the alias's name (from before aliases) is moved the same way on
first use. The client spreads requests over every node URL it is given and retries on another node when one is
lost (the transport logs each node it puts on time-out and each one marked alive again). The API key is never
logged or shown in repr.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from elasticsearch import ApiError, Elasticsearch, NotFoundError, helpers
from elasticsearch.exceptions import GeneralAvailabilityWarning
from elasticsearch.helpers import BulkIndexError

from core.records import Hit, HitStatus
from indexer.base import SearchQuery, SearchResult, SortOrder
from indexer.document import MISSING_TS, hit_fields, to_micros
from indexer.query import And, FieldIs, Node, Not, Phrase, Words, scores
from indexer.segment import dictionary_fingerprint

log = logging.getLogger(__name__)

MAX_WINDOW = 10_000  # index.max_result_window: deeper pages go through search_after
_FACET_SIZE = 10_000
# The catch-up pass re-copies everything stamped this long before the copy began: writes not yet refreshed into
# the copy's snapshot, and clocks of different nodes that disagree a little, are inside it.
CATCH_UP_MARGIN = timedelta(minutes=5)
BLOCKED_WRITE_WAIT = 300.0  # seconds a write refused by a reindex's block is retried before it fails

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
        "written_at": {"type": "date"},  # set by the stamp pipeline on every write: what a reindex catches up on
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


def node_urls(url: str | Sequence[str]) -> list[str]:
    """One or more node URLs: a list, or one string with commas between them (QINGYUAN_ELASTICSEARCH_URL)."""
    parts = url.split(",") if isinstance(url, str) else list(url)
    urls = [u.strip().rstrip("/") for u in parts if u.strip()]
    if not urls:
        raise ValueError("no Elasticsearch URL given")
    return urls


@dataclass(frozen=True)
class Reindexed:
    """What a reindex did: from which index to which, how many documents each pass wrote, how long it took."""

    old: str
    new: str
    copied: int
    caught_up: int
    seconds: float

    @property
    def docs_per_second(self) -> float:
        return self.copied / max(self.seconds, 1e-9)


def _blocked(exc: ApiError) -> bool:
    """A write refused because the index is write-blocked (a reindex catching up before it moves the alias)."""
    return exc.meta.status == 403 and "cluster_block_exception" in str(exc)


class ElasticHitStore:
    """HitStore on an Elasticsearch 8.x cluster; `index_alias` is what readers and writers address.

    `replicas=None` chooses one replica when the cluster has two or more data nodes, none on a single node, and
    never fewer than the current index has (so opening a store while a node is down does not drop its replica).
    """

    def __init__(
        self,
        url: str | Sequence[str],
        index_alias: str = "qingyuan-hits",
        api_key: str | None = None,
        ca_certs: str | Path | None = None,
        *,
        shards: int = 1,
        replicas: int | None = None,
        request_timeout: float = 30.0,
        max_retries: int = 5,
        initial_backoff: float = 1.0,
        blocked_write_wait: float = BLOCKED_WRITE_WAIT,
        client: Elasticsearch | None = None,
    ) -> None:
        self.urls = node_urls(url)
        self.url = ",".join(self.urls)
        self.alias = index_alias
        self.pipeline = f"{index_alias}-stamp"
        self.max_retries, self.initial_backoff = max_retries, initial_backoff
        self.blocked_write_wait = blocked_write_wait
        self.max_window = MAX_WINDOW  # pages reaching beyond this use search_after
        # A lost node is put on an exponentially growing time-out (at most 30 s) and the request goes to another.
        kwargs: dict[str, Any] = {
            "request_timeout": request_timeout,
            "retry_on_timeout": True,
            "max_retries": 2 * len(self.urls) + 1,
            "dead_node_backoff_factor": 1.0,
            "max_dead_node_backoff": 30.0,
        }
        if api_key:
            kwargs["api_key"] = api_key
        if ca_certs:
            kwargs["ca_certs"] = str(ca_certs)
        self.es = client or Elasticsearch(self.urls, **kwargs)
        self.shards = shards
        self.replicas_given = replicas is not None
        self.replicas = replicas if replicas is not None else self.default_replicas()
        self.ensure_index()
        if self.stale_segmentation:
            log.warning(
                "%s holds posts segmented with another dictionary (the lexicon changed); "
                "rebuild it (qingyuan index --reindex) so new terms are found in old posts",
                self.alias,
            )

    def __repr__(self) -> str:
        return f"ElasticHitStore({','.join(redact_url(u) for u in self.urls)!r}, {self.alias!r})"

    # -- index lifecycle ---------------------------------------------------------------------------------------

    def default_replicas(self) -> int:
        """One replica when a second data node can hold it; none on a single node (it would never be allocated)."""
        data_nodes = int(self.es.cluster.health()["number_of_data_nodes"])
        return 1 if data_nodes >= 2 else 0

    def index_name(self, version: int) -> str:
        return f"{self.alias}-v{version}"

    @staticmethod
    def version_of(index: str) -> int:
        head, _, tail = index.rpartition("-v")
        return int(tail) if head and tail.isdigit() else 0

    def index_settings(self) -> dict[str, Any]:
        return {
            "number_of_shards": self.shards,
            "number_of_replicas": self.replicas,
            "default_pipeline": self.pipeline,
        }

    def put_template(self) -> None:
        self.es.ingest.put_pipeline(
            id=self.pipeline,
            description="stamps each write with the server's time, so a reindex can catch up on writes",
            processors=[{"set": {"field": "written_at", "value": "{{{_ingest.timestamp}}}"}}],
        )
        self.es.indices.put_index_template(
            name=f"{self.alias}-template",
            index_patterns=[f"{self.alias}-v*"],
            template={"settings": self.index_settings(), "mappings": MAPPINGS},
            priority=100,
        )

    def ensure_index(self) -> str:
        """The index behind the alias: created (`<alias>-v1`) when there is none, moved behind the alias when a
        concrete index has the alias's name, and given the fields and stamp pipeline it lacks."""
        current = self.current_index()
        if current and not self.replicas_given:
            # Chosen from the nodes up now: a node that is down for a while must not lower the redundancy.
            settings = self.es.indices.get_settings(index=current, name="index.number_of_replicas").body
            self.replicas = max(self.replicas, int(settings[current]["settings"]["index"]["number_of_replicas"]))
        self.put_template()
        if current:
            self._bring_up_to_date(current)
            return current
        if self.es.indices.exists(index=self.alias):
            return self._move_concrete_index()
        name = self.index_name(1)
        if not self.es.indices.exists(index=name):
            self.es.indices.create(index=name, aliases={self.alias: {"is_write_index": True}})
        else:
            self.es.indices.put_alias(index=name, name=self.alias, is_write_index=True)
        self.es.cluster.health(index=name, wait_for_status="yellow", timeout="30s")
        log.info("created %s behind alias %s on %s", name, self.alias, redact_url(self.urls[0]))
        return name

    def _bring_up_to_date(self, index: str) -> None:
        """Add fields new since the index was made (its documents are written again so they fill in), the stamp
        pipeline and the replica count: all additive; a new shard count needs a reindex."""
        mapping = self.es.indices.get_mapping(index=index).body[index]["mappings"].get("properties", {})
        missing = sorted(name for name in MAPPINGS["properties"] if name not in mapping)
        try:
            self.es.indices.put_mapping(index=index, properties=MAPPINGS["properties"])
        except ApiError as exc:
            log.warning("%s's mapping differs from this version's (%s); run qingyuan index --reindex", index, exc)
        current = self.es.indices.get_settings(index=index, flat_settings=True).body[index]["settings"]
        wanted = {"index.default_pipeline": self.pipeline, "index.number_of_replicas": str(self.replicas)}
        changed = {k: v for k, v in wanted.items() if current.get(k) != v}
        if changed:
            self.es.indices.put_settings(index=index, settings=changed)
            log.info("%s: set %s", index, changed)
        if missing:
            written = self.upsert(self.iter_hits())
            log.warning("%s gained fields %s; %d hits written again", index, ", ".join(missing), written)

    def current_index(self) -> str | None:
        """The alias's write index (the newest version if none is marked)."""
        try:
            found = self.es.indices.get_alias(name=self.alias)
        except NotFoundError:
            return None
        indices: dict[str, Any] = dict(found.body)
        for name, entry in indices.items():
            if entry.get("aliases", {}).get(self.alias, {}).get("is_write_index"):
                return name
        return max(indices, key=self.version_of) if indices else None

    def current_version(self) -> int:
        current = self.current_index()
        return self.version_of(current) if current else 0

    def reindex(
        self,
        keep_old: bool = False,
        progress: Callable[[str], None] | None = None,
        docs_per_second: float | None = None,
    ) -> Reindexed:
        """Copy every document into the next version (current template and mapping) and move the alias to it.

        Searches keep answering from the old index until the one `_aliases` call; writes during the copy are caught
        up while the old index is briefly write-blocked (blocked writes are retried, so none is lost). The old
        index is deleted unless `keep_old` (then it stays write-blocked: a snapshot of the moment of the swap).
        `docs_per_second` throttles the copy so a busy cluster keeps answering searches quickly."""
        old = self.current_index()
        if old is None:
            raise ValueError(f"nothing behind {self.alias} to reindex")
        new = self.index_name(self.version_of(old) + 1)
        swap: list[dict[str, Any]] = [
            {"remove": {"index": old, "alias": self.alias}},
            {"add": {"index": new, "alias": self.alias, "is_write_index": True}},
        ]
        done = self._copy_and_swap(old, new, swap, progress or log.info, docs_per_second)
        if not keep_old:
            time.sleep(1.0)  # searches that resolved the alias just before the swap finish against the old index
            self.es.indices.delete(index=old)
        return done

    def _move_concrete_index(self) -> str:
        """An index named like the alias (made before aliases) becomes `<alias>-v1` behind the alias."""
        concrete, new = self.alias, self.index_name(1)
        log.warning("%s is an index, not an alias: moving its documents to %s behind an alias", concrete, new)
        self._bring_up_to_date(concrete)  # writes during the move are stamped, so the catch-up finds them
        # The alias cannot be added while an index has its name: the same `_aliases` call deletes the old index.
        swap: list[dict[str, Any]] = [
            {"add": {"index": new, "alias": self.alias, "is_write_index": True}},
            {"remove_index": {"index": concrete}},
        ]
        self._copy_and_swap(concrete, new, swap, log.warning, None)
        return new

    def _copy_and_swap(
        self,
        old: str,
        new: str,
        swap: list[dict[str, Any]],
        say: Callable[[str], None],
        docs_per_second: float | None,
    ) -> Reindexed:
        self.put_template()
        if self.es.indices.exists(index=new):  # left by an interrupted reindex; never behind the alias
            self.es.indices.delete(index=new)
        self.es.indices.create(index=new)
        self.es.cluster.health(index=new, wait_for_status="yellow", timeout="60s")
        since = datetime.now(timezone.utc) - CATCH_UP_MARGIN
        started = time.monotonic()
        copied = self._copy(old, new, None, say, "copy", docs_per_second)
        try:
            self.es.indices.add_block(index=old, block="write")  # waits for writes in flight to finish
            self.es.indices.refresh(index=old)
            caught_up = self._copy(
                old, new, {"range": {"written_at": {"gte": since.isoformat()}}}, say, "catch-up", None
            )
            self.es.indices.update_aliases(actions=swap)
        except BaseException:
            self.es.indices.put_settings(index=old, settings={"index.blocks.write": False})
            raise
        done = Reindexed(old=old, new=new, copied=copied, caught_up=caught_up, seconds=time.monotonic() - started)
        say(
            f"{old} -> {new}: {copied} copied, {caught_up} caught up, alias {self.alias} moved "
            f"in {done.seconds:.1f}s ({done.docs_per_second:.0f} docs/s)"
        )
        return done

    def _copy(
        self,
        old: str,
        new: str,
        query: dict[str, Any] | None,
        say: Callable[[str], None],
        stage: str,
        docs_per_second: float | None,
    ) -> int:
        """One `_reindex` run as a task, reporting its progress at most every second; returns how many it wrote."""
        source: dict[str, Any] = {"index": old}
        if query:
            source["query"] = query
        throttle: dict[str, Any] = {}
        if docs_per_second:
            source["size"] = max(1, min(1000, int(docs_per_second)))  # one batch a second at most
            throttle["requests_per_second"] = docs_per_second
        started = self.es.reindex(
            source=source, dest={"index": new}, wait_for_completion=False, refresh=True, **throttle
        )
        task, pause = started["task"], 0.1
        while True:
            with warnings.catch_warnings():  # the tasks API is marked "technical preview" by the client
                warnings.simplefilter("ignore", GeneralAvailabilityWarning)
                answer = self.es.tasks.get(task_id=task)
            status = answer.get("task", {}).get("status", {})
            done = int(status.get("created", 0)) + int(status.get("updated", 0))
            if answer.get("completed"):
                failures = answer.get("response", {}).get("failures") or answer.get("error")
                if failures:
                    raise RuntimeError(f"reindex {old} -> {new} ({stage}) failed: {failures}")
                say(f"{stage} {old} -> {new}: {done}/{status.get('total', done)}")
                return done
            say(f"{stage} {old} -> {new}: {done}/{status.get('total', '?')}")
            time.sleep(pause)
            pause = min(2 * pause, 1.0)  # small indices finish in a fraction of a second

    def drop(self) -> None:
        """Delete every version behind the alias, the template and the pipeline (tests, benchmarks)."""
        # Wildcard deletes are refused by default (action.destructive_requires_name): delete by name.
        names = sorted(self.es.indices.get(index=f"{self.alias}-v*", allow_no_indices=True).body)
        if names:
            self.es.indices.delete(index=",".join(names))
        for remove in (
            lambda: self.es.indices.delete_index_template(name=f"{self.alias}-template"),
            lambda: self.es.ingest.delete_pipeline(id=self.pipeline),
        ):
            try:
                remove()
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
        try:
            n, blocked, failed = self._bulk(consume(), chunk_size)
            delay, deadline = self.initial_backoff, time.monotonic() + self.blocked_write_wait
            while blocked and not failure:
                if time.monotonic() > deadline:
                    failed += [{"index": {"_id": a["_id"], "error": "write-blocked (reindex)"}} for a in blocked]
                    break
                # A reindex is catching up before it moves the alias: the same writes go through once it has.
                log.info(
                    "%d writes wait for a reindex to move alias %s; again in %.1fs", len(blocked), self.alias, delay
                )
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
                written, blocked, more_failed = self._bulk(iter(blocked), chunk_size)
                n, failed = n + written, failed + more_failed
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

    def _bulk(
        self, actions: Iterator[dict[str, Any]], chunk_size: int
    ) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]]]:
        """Send actions; returns how many were written, the actions refused by a write block, and other failures."""
        sent: dict[str, dict[str, Any]] = {}  # until its answer comes back; a blocked action is sent again

        def remember() -> Iterator[dict[str, Any]]:
            for action in actions:
                sent[action["_id"]] = action
                yield action

        n = 0
        blocked: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        # raise_on_error=False: with True the helper raises on the first rejected item before its own
        # 429 retry loop sees it, so rejected documents would never be retried.
        for ok, item in helpers.streaming_bulk(
            self.es,
            remember(),
            chunk_size=chunk_size,
            max_retries=self.max_retries,
            initial_backoff=self.initial_backoff,
            raise_on_error=False,
        ):
            answer: dict[str, Any] = next(iter(item.values()), {})
            action = sent.pop(str(answer.get("_id")), None)
            if ok:
                n += 1
            elif action is not None and "cluster_block_exception" in str(answer.get("error")):
                blocked.append(action)
            else:
                failed.append(item)
        return n, blocked, failed

    def _while_blocked(self, request: Callable[[], Any]) -> Any:
        """Run a write request, again with back-off while a reindex's write block refuses it."""
        delay, deadline = self.initial_backoff, time.monotonic() + self.blocked_write_wait
        while True:
            try:
                response = request()
            except ApiError as exc:
                if not _blocked(exc) or time.monotonic() > deadline:
                    raise
            else:
                if "cluster_block_exception" not in str(response.get("failures") or ""):
                    return response
                if time.monotonic() > deadline:
                    raise RuntimeError(f"write-blocked for {self.blocked_write_wait:.0f}s: {response['failures']}")
            log.info("a write waits for a reindex to move alias %s; again in %.1fs", self.alias, delay)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)

    def set_status(self, keys: Sequence[str], status: HitStatus, report_id: str | None = None) -> int:
        unique = list(dict.fromkeys(keys))
        changed = 0
        for start in range(0, len(unique), 10_000):
            chunk = unique[start : start + 10_000]
            response = self._while_blocked(
                lambda chunk=chunk: self.es.update_by_query(  # type: ignore[misc]
                    index=self.alias,
                    query={"terms": {"key": chunk}},
                    script={
                        "source": _STATUS_SCRIPT,
                        "lang": "painless",
                        "params": {"status": status.value, "report_id": report_id},
                    },
                    refresh=True,
                    conflicts="proceed",
                    slices=1,
                )
            )
            changed += int(response["updated"])
        return changed

    def delete(self, keys: Sequence[str]) -> int:
        response = self._while_blocked(
            lambda: self.es.delete_by_query(index=self.alias, query={"terms": {"key": list(keys)}}, refresh=True)
        )
        return int(response["deleted"])

    # -- reading -----------------------------------------------------------------------------------------------

    def _search(self, **request: Any) -> Any:
        """A search on every shard or an error, never a silent partial answer (a lost node's shards before their
        replicas are promoted); asked once more when the alias moved and its old index went in between."""
        try:
            return self.es.search(allow_partial_search_results=False, **request)
        except NotFoundError:
            return self.es.search(allow_partial_search_results=False, **request)

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
            response = self._search(
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
            response = self._search(
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
            response = self._search(
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
        response = self._search(**common, sort=sort_spec, size=limit, source_includes=["hit"], search_after=after)
        return (first if first is not None else response), response["hits"]["hits"]

    def iter_hits(self, query: SearchQuery | None = None, batch: int = 1000) -> Iterator[Hit]:
        """Every hit matching `query` (default: all, oldest first seen first), through search_after."""
        query = query or SearchQuery(sort=SortOrder.first_seen)
        es_query, scored = self.build_query(query)
        sort = query.sort if (query.sort is not SortOrder.relevance or scored) else SortOrder.newest
        after: list[Any] | None = None
        while True:
            response = self._search(
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
