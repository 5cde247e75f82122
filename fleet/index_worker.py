"""`qingyuan worker --role index`: consumes the post stream in batches, classifies, writes the index and the
casebook, and acknowledges only after both hold the batch.

Effects are idempotent: a post already in the index is not classified or written again (the index is asked for the
batch's keys, never for all of them), and the casebook's intake row is written once per key, so a redelivered batch
changes nothing. An index, casebook or Redis that is unreachable is waited for with back-off (the same batch is
retried in this worker, so its messages do not count deliveries meanwhile); a message that fails on its own - not
JSON, not Posts, refused by the index - stays unacknowledged, is delivered again after `claim_after_s`, and goes to
the dead-letter stream after `max_tries` deliveries. Unacknowledged messages of a dead worker are claimed the same
way (XAUTOCLAIM).
"""

from __future__ import annotations

import json
import logging
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from casebook import Casebook
from core.records import Post
from core.settings import Settings
from fleet import keys
from fleet.connection import TRANSIENT, backoff_delays, connect, retrying
from fleet.crawl_worker import heartbeat, worker_name
from fleet.jobs import ensure_group, trim_acknowledged
from indexer.base import HitStore

log = logging.getLogger(__name__)

TRIM_EVERY_S = 30.0  # how often a worker drops acknowledged entries from the post stream

# Indexes the given posts (none of them indexed yet): classify and write to the store.
IndexPosts = Callable[[list[Post], HitStore], None]
Message = tuple[str, dict[str, str]]


def is_transient(exc: BaseException) -> bool:
    """An outage to wait out (retry the same batch here), as opposed to a message that cannot be processed."""
    if isinstance(exc, TRANSIENT):
        return True
    try:
        import elasticsearch
        from elasticsearch import ApiError
    except ImportError:  # pragma: no cover - elasticsearch is a dependency
        return False
    if isinstance(exc, elasticsearch.ConnectionError | elasticsearch.ConnectionTimeout):
        return True
    if isinstance(exc, ApiError) and (exc.status_code >= 500 or exc.status_code == 429):
        return True
    from sqlalchemy.exc import DBAPIError, OperationalError

    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


@dataclass
class IndexWorkerCounts:
    messages: int = 0
    posts: int = 0
    indexed: int = 0
    already_indexed: int = 0
    claimed: int = 0
    dead_lettered: int = 0
    outages: int = 0


class IndexWorker:
    def __init__(
        self,
        settings: Settings,
        *,
        store: HitStore,
        casebook: Casebook,
        index_posts: IndexPosts,
        batch_messages: int = 32,
    ) -> None:
        assert settings.redis_url, "the fleet needs QINGYUAN_REDIS_URL"
        self.settings = settings
        self.client = connect(settings.redis_url)
        self.store, self.casebook, self.index_posts = store, casebook, index_posts
        self.batch_messages = batch_messages
        self.name = worker_name("index")
        self.counts = IndexWorkerCounts()
        self._last_claim = 0.0
        retrying("creating the index group", lambda: ensure_group(self.client, keys.POSTS, keys.INDEX_GROUP))

    # ------------------------------------------------------------------ reading

    def read(self, block_ms: int = 1000) -> list[Message]:
        claimed = self._claim_due()
        if claimed:
            return claimed
        answer: Any = retrying(
            "reading the post stream",
            lambda: self.client.xreadgroup(
                keys.INDEX_GROUP, self.name, {keys.POSTS: ">"}, count=self.batch_messages, block=block_ms
            ),
        )
        return [(mid, fields) for _stream, messages in answer or [] for mid, fields in messages]

    def _claim_due(self) -> list[Message]:
        now = time.monotonic()
        if now - self._last_claim < min(1.0, self.settings.claim_after_s / 2):
            return []
        self._last_claim = now
        answer = retrying(
            "claiming",
            lambda: self.client.xautoclaim(
                keys.POSTS,
                keys.INDEX_GROUP,
                self.name,
                int(self.settings.claim_after_s * 1000),
                "0-0",
                count=self.batch_messages,
            ),
        )
        out: list[Message] = []
        for mid, fields in answer[1] if answer else []:
            if fields is None:
                continue
            pending: Any = retrying(
                "claiming", partial(self.client.xpending_range, keys.POSTS, keys.INDEX_GROUP, mid, mid, 1)
            )
            delivered = int(pending[0]["times_delivered"]) if pending else 1
            if delivered > self.settings.max_tries:
                self.dead_letter(mid, fields, f"not indexed after {delivered - 1} deliveries")
                continue
            log.warning("claimed post message %s (delivery %d)", mid, delivered)
            self.counts.claimed += 1
            retrying("counting", lambda: self.client.hincrby(keys.COUNTERS, "messages_claimed", 1))
            out.append((mid, fields))
        return out

    def dead_letter(self, mid: str, fields: dict[str, str], reason: str) -> None:
        def move() -> None:
            pipe = self.client.pipeline(transaction=True)
            letter: dict[Any, Any] = {"source": keys.POSTS, "id": mid, "reason": reason, **fields}
            pipe.xadd(keys.DEAD, letter)
            pipe.xack(keys.POSTS, keys.INDEX_GROUP, mid)
            pipe.hincrby(keys.COUNTERS, "dead_letters", 1)
            pipe.execute()

        retrying("dead-lettering", move)
        self.counts.dead_lettered += 1
        log.error("dead-lettered post message %s: %s", mid, reason)

    # ------------------------------------------------------------------ processing

    def process(self, messages: Sequence[Message]) -> None:
        """Index and record `messages`, then acknowledge them; a failing message is isolated and left pending."""
        if not messages:
            return
        try:
            self._with_outage_retry(lambda: self._apply(messages))
        except Exception as exc:
            if len(messages) == 1:
                log.error(
                    "post message %s failed (%s: %s); left for redelivery", messages[0][0], type(exc).__name__, exc
                )
                return
            log.warning("a batch of %d failed (%s); trying its messages one by one", len(messages), exc)
            for message in messages:
                self.process([message])
            return
        retrying("acknowledging", lambda: self.client.xack(keys.POSTS, keys.INDEX_GROUP, *[m for m, _ in messages]))
        self.counts.messages += len(messages)

    def _with_outage_retry(self, call: Callable[[], None]) -> None:
        delays, down_since = backoff_delays(1.0, 15.0), None
        while True:
            try:
                call()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                if down_since is None:
                    down_since = time.monotonic()
                    self.counts.outages += 1
                    log.warning(
                        "index or casebook unreachable (%s: %s); retrying the batch with back-off",
                        type(exc).__name__,
                        str(exc)[:200],
                    )
                time.sleep(next(delays))
                continue
            if down_since is not None:
                log.warning("index and casebook reachable again after %.1f s", time.monotonic() - down_since)
            return

    def _apply(self, messages: Sequence[Message]) -> None:
        posts: dict[str, Post] = {}
        source: dict[str, str] = {}
        for mid, fields in messages:
            for raw in json.loads(fields["posts"]):
                post = Post.model_validate(raw)
                posts[post.key] = post  # the newest version of a key in the batch wins
                source[post.key] = mid
        keys_ = list(posts)
        indexed = {hit.key for hit in self.store.get_many(keys_)}
        fresh = [p for k, p in posts.items() if k not in indexed]
        if fresh:
            self.index_posts(fresh, self.store)
        self.counts.posts += len(posts)
        self.counts.indexed += len(fresh)
        self.counts.already_indexed += len(posts) - len(fresh)
        arrived = self.casebook.intake_keys(keys_)
        missing = [k for k in keys_ if k not in arrived]
        rows: list[dict[str, Any]] = []
        for hit in self.store.get_many(missing) if missing else []:
            rows.append(
                {
                    "key": hit.key,
                    "label": hit.verdict.label.value,
                    "category": hit.verdict.category.value if hit.verdict.category else None,
                    "score": float(hit.verdict.score),
                    "model": f"{hit.verdict.model.name} {hit.verdict.model.version}".strip(),
                    "message_id": source[hit.key],
                    "worker": self.name,
                }
            )
        if len(rows) != len(missing):
            raise RuntimeError(f"{len(missing) - len(rows)} posts are missing from the index after writing them")
        self.casebook.record_intake(rows)

    # ------------------------------------------------------------------ the loop

    def run(self, *, exit_when_idle: float | None = None) -> IndexWorkerCounts:
        stopping = False

        def stop(signum: int, _frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        log.warning("index worker %s started", self.name)
        idle_since = last_trim = time.monotonic()
        while not stopping:
            heartbeat(self.client, self.name, "index", messages=self.counts.messages, posts=self.counts.posts)
            messages = self.read()
            if messages:
                self.process(messages)
                idle_since = time.monotonic()
                log.warning(
                    "index worker %s: %d messages, %d posts (%d indexed, %d already), %d claimed, %d dead",
                    self.name,
                    self.counts.messages,
                    self.counts.posts,
                    self.counts.indexed,
                    self.counts.already_indexed,
                    self.counts.claimed,
                    self.counts.dead_lettered,
                )
            elif exit_when_idle is not None and time.monotonic() - idle_since > exit_when_idle:
                break
            if time.monotonic() - last_trim > TRIM_EVERY_S:
                last_trim = time.monotonic()
                trimmed = retrying("trimming", partial(trim_acknowledged, self.client, keys.POSTS, keys.INDEX_GROUP))
                if trimmed:
                    log.info("post stream: %d acknowledged entries dropped", trimmed)
        return self.counts


def open_with_backoff(what: str, make: Callable[[], Any]) -> Any:
    """Open a store or casebook, waiting with back-off while its server is unreachable."""
    delays, down_since = backoff_delays(1.0, 15.0), None
    while True:
        try:
            return make()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if down_since is None:
                down_since = time.monotonic()
                log.warning("%s unreachable (%s); retrying with back-off", what, type(exc).__name__)
            time.sleep(next(delays))
