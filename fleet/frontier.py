"""The shared frontier inside a crawl worker's Scrapy process.

A page to fetch is a frontier entry (a Scrapy request as JSON). The spider's `start` is replaced by a loop that
takes entries from the job's frontier stream (XREADGROUP; XAUTOCLAIM for a dead worker's) and yields them as
requests; `FrontierMiddleware` catches everything a callback yields for that page and commits it in one Lua script:
follow-up pages whose fingerprint is new to the job's seen-set join the frontier, posts whose content fingerprint
changed go on the post stream (one entry per page, so a comment travels with the post it answers), and the entry
is acknowledged - all or nothing, and only while this worker still owns the entry. A worker killed mid-page commits
nothing, and the page is fetched again by whoever claims it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.request import request_from_dict

from core.records import Post
from core.spool import content_fingerprint
from fleet import keys
from fleet.connection import TRANSIENT, backoff_delays

log = logging.getLogger(__name__)

# KEYS: frontier, seen, posts stream, fingerprints. ARGV: group, entry id, consumer, job, n requests,
# (fingerprint, task) * n, n posts, (key, fingerprint, post JSON) * m. Returns {committed, queued, streamed}.
COMMIT_PAGE = """
local frontier, seen, posts, fps = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local group, id, me, job = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local owner = redis.call('XPENDING', frontier, group, id, id, 1)
if #owner == 0 or owner[1][2] ~= me then return {0, 0, 0} end
local i = 5
local nreq = tonumber(ARGV[i]); i = i + 1
local queued = 0
for r = 1, nreq do
  if redis.call('SADD', seen, ARGV[i]) == 1 then
    redis.call('XADD', frontier, '*', 'task', ARGV[i + 1]); queued = queued + 1
  end
  i = i + 2
end
local npost = tonumber(ARGV[i]); i = i + 1
local fresh = {}
for r = 1, npost do
  if redis.call('HGET', fps, ARGV[i]) ~= ARGV[i + 1] then
    redis.call('HSET', fps, ARGV[i], ARGV[i + 1]); table.insert(fresh, ARGV[i + 2])
  end
  i = i + 3
end
if #fresh > 0 then
  redis.call('XADD', posts, '*', 'job', job, 'posts', '[' .. table.concat(fresh, ',') .. ']')
end
redis.call('XACK', frontier, group, id)
return {1, queued, #fresh}
"""


# ------------------------------------------------------------------ requests as JSON


def _encode(value: Any) -> Any:
    from scrapy_playwright.page import PageMethod

    if isinstance(value, bytes):
        return {"__b64__": base64.b64encode(value).decode("ascii")}
    if isinstance(value, PageMethod):
        if not isinstance(value.method, str):
            raise TypeError("a page method sent to another worker must be named, not a function")
        return {"__page_method__": [value.method, _encode(list(value.args)), _encode(value.kwargs)]}
    if isinstance(value, dict):
        return {(k.decode("latin-1") if isinstance(k, bytes) else str(k)): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot send a {type(value).__name__} in a request to another worker")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "__b64__" in value:
            return base64.b64decode(value["__b64__"])
        if "__page_method__" in value:
            from scrapy_playwright.page import PageMethod

            method, args, kwargs = value["__page_method__"]
            return PageMethod(method, *_decode(args), **_decode(kwargs))
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def request_to_task(request: Request, spider: Spider) -> str:
    data = request.to_dict(spider=spider)
    data["meta"] = {k: v for k, v in (data.get("meta") or {}).items() if not k.startswith(("qy_", "download_"))}
    return json.dumps(_encode(data), ensure_ascii=False)


def task_to_request(task: dict[str, Any], spider: Spider) -> Request:
    return request_from_dict(_decode(task), spider=spider)


def writes_inside(request: Request, root: Path) -> bool:
    """True when every file the request's page methods write (a screenshot's `path`) lies inside `root`: a task
    read from a shared queue must not make a worker write anywhere else."""
    from core.evidence import inside

    for method in request.meta.get("playwright_page_methods") or []:
        path = getattr(method, "kwargs", {}).get("path")
        if path is not None and inside(str(path), root) is None:
            return False
    return True


# ------------------------------------------------------------------ the job's frontier


class Frontier:
    """One job's frontier as one crawl worker sees it (asyncio Redis: it runs inside Scrapy's reactor)."""

    def __init__(
        self, url: str, job: str, consumer: str, *, claim_after_s: float, max_tries: int, artefact_root: Path
    ) -> None:
        self.artefact_root = artefact_root
        self.client = aioredis.Redis.from_url(url, decode_responses=True, socket_timeout=15, socket_connect_timeout=5)
        self.job, self.consumer = job, consumer
        self.stream, self.seen = keys.frontier(job), keys.seen(job)
        self.claim_after_ms = int(claim_after_s * 1000)
        self.max_tries = max_tries
        self.commit_script = self.client.register_script(COMMIT_PAGE)
        self.claimed = 0  # entries taken over from other (dead) workers
        self.dead = 0
        self._last_claim = 0.0
        # Entries this worker is fetching or processing, kept from being claimed while it is alive (a page that
        # renders and OCRs slowly is not a dead worker's); released when committed or failed.
        self.in_flight: set[str] = set()
        self._keepalive: asyncio.Task[None] | None = None

    def release(self, entry_id: str | None) -> None:
        """This worker gave up on an entry (download or callback failed): stop keeping it; after `claim_after_s`
        it is delivered again (to any worker), and after `max_tries` deliveries it is dead-lettered."""
        if entry_id:
            self.in_flight.discard(entry_id)

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(max(0.2, self.claim_after_ms / 3000))
            held: list[Any] = list(self.in_flight)
            if not held:
                continue
            try:  # XCLAIM by the owner with JUSTID resets the idle time and counts no delivery
                await self.client.xclaim(self.stream, keys.CRAWL_GROUP, self.consumer, 0, held, justid=True)
            except TRANSIENT as exc:
                log.warning("redis unreachable while keeping pages in flight (%s)", exc)

    async def _retrying(self, what: str, make: Any) -> Any:
        delays, lost_at = backoff_delays(), None
        while True:
            try:
                result = await make()
            except TRANSIENT as exc:
                if lost_at is None:
                    lost_at = time.monotonic()
                    log.warning("redis unreachable during %s (%s); reconnecting with back-off", what, exc)
                await asyncio.sleep(next(delays))
                continue
            if lost_at is not None:
                log.warning("redis reachable again after %.1f s (%s)", time.monotonic() - lost_at, what)
            return result

    async def tasks(self) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """(entry id, task) pairs until the job's frontier is drained: nothing undelivered, nothing unacknowledged."""
        if self._keepalive is None:
            self._keepalive = asyncio.ensure_future(self._keep_alive())
        while True:
            claimed = await self._claim_due()
            for entry in claimed:
                self.in_flight.add(entry[0])
                yield entry
            answer = await self._retrying(
                "reading the frontier",
                lambda: self.client.xreadgroup(keys.CRAWL_GROUP, self.consumer, {self.stream: ">"}, count=1, block=500),
            )
            got = False
            for _stream, messages in answer or []:
                for entry_id, fields in messages:
                    got = True
                    self.in_flight.add(entry_id)
                    yield entry_id, json.loads(fields["task"])
            if not got and not claimed and await self.drained():
                return

    async def _claim_due(self) -> list[tuple[str, dict[str, Any]]]:
        now = time.monotonic()
        if now - self._last_claim < min(1.0, self.claim_after_ms / 2000):
            return []
        self._last_claim = now
        answer = await self._retrying(
            "claiming",
            lambda: self.client.xautoclaim(
                self.stream, keys.CRAWL_GROUP, self.consumer, self.claim_after_ms, "0-0", count=10
            ),
        )
        out: list[tuple[str, dict[str, Any]]] = []
        for entry_id, fields in answer[1] if answer else []:
            if fields is None:
                continue
            tries = await self.client.xpending_range(self.stream, keys.CRAWL_GROUP, entry_id, entry_id, 1)
            delivered = int(tries[0]["times_delivered"]) if tries else 1
            if delivered > self.max_tries:
                await self._dead_letter(entry_id, fields, f"page not committed after {delivered - 1} deliveries")
                continue
            self.claimed += 1
            await self.client.hincrby(keys.COUNTERS, "pages_claimed", 1)
            log.warning("claimed frontier entry %s of job %s (delivery %d)", entry_id, self.job, delivered)
            out.append((entry_id, json.loads(fields["task"])))
        return out

    async def _dead_letter(self, entry_id: str, fields: dict[str, str], reason: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        letter: dict[Any, Any] = {"source": self.stream, "id": entry_id, "reason": reason, **fields}
        pipe.xadd(keys.DEAD, letter)
        pipe.xack(self.stream, keys.CRAWL_GROUP, entry_id)
        pipe.hincrby(keys.COUNTERS, "dead_letters", 1)
        await pipe.execute()
        self.dead += 1
        log.error("dead-lettered frontier entry %s of job %s: %s", entry_id, self.job, reason)

    async def reject(self, entry_id: str, task: dict[str, Any], reason: str) -> None:
        self.in_flight.discard(entry_id)
        await self._dead_letter(entry_id, {"task": json.dumps(task, ensure_ascii=False)}, reason)

    async def drained(self) -> bool:
        groups = await self._retrying("reading the frontier", lambda: self.client.xinfo_groups(self.stream))
        for group in groups:
            if group["name"] == keys.CRAWL_GROUP:
                return int(group["pending"]) == 0 and group.get("lag") == 0
        return True

    async def commit(self, entry_id: str, requests: list[tuple[str, str]], posts: list[Post]) -> tuple[bool, int, int]:
        args: list[Any] = [keys.CRAWL_GROUP, entry_id, self.consumer, self.job, len(requests)]
        for fingerprint, task in requests:
            args += [fingerprint, task]
        args.append(len(posts))
        for post in posts:
            args += [post.key, content_fingerprint(post), post.model_dump_json()]
        result = await self._retrying(
            "committing a page",
            lambda: self.commit_script(keys=[self.stream, self.seen, keys.POSTS, keys.FINGERPRINTS], args=args),
        )
        self.in_flight.discard(entry_id)
        return bool(result[0]), int(result[1]), int(result[2])

    async def close(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
        await self.client.aclose()


# ------------------------------------------------------------------ Scrapy glue


def fleet_spider(base: type[Spider]) -> type[Spider]:
    """`base` with its start replaced by the job's frontier: the spider's own start requests are what the job's
    start task commits; every other request comes from the frontier."""

    class FleetSpider(base):  # type: ignore[valid-type,misc]
        async def start(self) -> AsyncIterator[Any]:
            frontier: Frontier = self.crawler.qy_frontier  # type: ignore[attr-defined]
            tasks = frontier.tasks()
            while True:
                await _room_for_more(self.crawler)  # take a page only when it can be fetched now
                try:
                    entry_id, task = await anext(tasks)
                except StopAsyncIteration:
                    return
                if task.get("start"):
                    output = [x async for x in base.start(self)]
                    await commit_output(self, frontier, entry_id, output)
                    continue
                request = task_to_request(task, self)
                if not writes_inside(request, frontier.artefact_root):
                    await frontier.reject(entry_id, task, "page would write outside the shared storage")
                    continue
                request.meta["qy_entry"] = entry_id
                request.dont_filter = True  # the job's seen-set already decided; a retried page must go out again
                yield request

    FleetSpider.__name__ = FleetSpider.__qualname__ = base.__name__
    return FleetSpider


async def _room_for_more(crawler: Crawler) -> None:
    """Scrapy pulls start() eagerly; a page taken from the frontier but left waiting in this worker's scheduler
    would be a page other workers cannot take, so wait until the downloader has a free slot."""
    import asyncio

    engine = crawler.engine
    while engine is not None and (engine.needs_backout() or engine._slot.scheduler.has_pending_requests()):  # type: ignore[union-attr]
        await asyncio.sleep(0.05)


async def commit_output(spider: Spider, frontier: Frontier, entry_id: str, output: list[Any]) -> None:
    """Send one page's follow-up requests and posts to Redis and acknowledge the page, atomically."""
    crawler = spider.crawler
    stats = crawler.stats
    assert stats is not None and crawler.request_fingerprinter is not None
    requests: list[tuple[str, str]] = []
    posts: list[Post] = []
    ocr = getattr(crawler, "qy_ocr", None)
    for item in output:
        if isinstance(item, Request):
            fingerprint = crawler.request_fingerprinter.fingerprint(item).hex()
            if item.dont_filter:  # a deliberate retry (soft block back-off) is a new page to fetch
                fingerprint += f"-{time.time_ns()}"
            requests.append((fingerprint, request_to_task(item, spider)))
            continue
        post = item if isinstance(item, Post) else Post.model_validate(item)
        if ocr is not None:
            post = await ocr.process_item(post, spider)
        if not post.text.strip() and not post.ocr_text.strip() and not post.media:
            stats.inc_value("qingyuan/empty_text")
            continue
        stats.inc_value("qingyuan/posts")
        stats.inc_value(f"qingyuan/kind/{post.kind.value}")
        posts.append(post)
    committed, queued, streamed = await frontier.commit(entry_id, requests, posts)
    if not committed:
        stats.inc_value("qingyuan/fleet/lost_ownership")
        log.warning("page %s was claimed by another worker meanwhile; its result is dropped here", entry_id)
        return
    stats.inc_value("qingyuan/fleet/pages_committed")
    stats.inc_value("qingyuan/fleet/requests_queued", queued)
    stats.inc_value("qingyuan/posts_spooled", streamed)
    stats.inc_value("qingyuan/unchanged", len(posts) - streamed)


class FrontierMiddleware:
    """Spider middleware: a frontier page's whole output is committed to Redis, nothing goes on to Scrapy's
    scheduler or item pipelines (the job's seen-set replaces the dupefilter, the post stream the spool)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierMiddleware:
        return cls(crawler)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any], spider: Spider | None = None
    ) -> AsyncIterator[Any]:
        entry_id = response.meta.get("qy_entry")
        if entry_id is None:
            async for item in result:
                yield item
            return
        output = [item async for item in result]
        spider = spider or self.crawler.spider
        assert spider is not None
        await commit_output(spider, self.crawler.qy_frontier, entry_id, output)  # type: ignore[attr-defined]

    def process_spider_output(self, response: Response, result: Any, spider: Spider | None = None) -> Any:
        raise TypeError("FrontierMiddleware needs Scrapy's asynchronous spider output")

    def process_spider_exception(self, response: Response, exception: Exception, spider: Spider | None = None) -> None:
        entry_id = response.meta.get("qy_entry")
        if entry_id is not None:
            log.warning("page %s failed in its callback (%s); released for another try", response.url, exception)
            self.crawler.qy_frontier.release(entry_id)  # type: ignore[attr-defined]


class ReleaseOnFailure:
    """Downloader middleware: a page whose download failed for good is released for another try later."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReleaseOnFailure:
        return cls(crawler)

    def process_exception(self, request: Request, exception: Exception, spider: Spider | None = None) -> None:
        entry_id = request.meta.get("qy_entry")
        if entry_id is not None:
            log.warning("page %s failed to download (%s); released for another try", request.url, exception)
            self.crawler.qy_frontier.release(entry_id)  # type: ignore[attr-defined]


class SourceAddressMiddleware:
    """Downloader middleware: every request leaves from the worker's own address (per-IP politeness)."""

    def __init__(self, address: str) -> None:
        self.address = address

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceAddressMiddleware:
        return cls(crawler.settings.get("QINGYUAN_SOURCE_ADDRESS") or "")

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if self.address:
            request.meta.setdefault("bindaddress", (self.address, 0))
