"""What the seven platform spiders share: argument handling, caps, soft-block handling and Post stamping.

A platform spider only builds requests (per mode) and reads the next-page cursor; extraction is the pure
`crawlers.extract.<platform>.parse`. Arguments (all strings, as `scrapy crawl -a` / `qingyuan crawl --arg` pass them):

- mode: one of the spider's `modes` (search | creator | detail | comments, plus platform modes such as Bilibili's
  dynamics); a mode a platform cannot serve is listed in `missing_modes` with the reason
- query: comma-separated keywords (search); default: the settings' crawl_queries
- target: creator id (creator), post URL or id (detail, comments)
- max_pages (default 5) and max_items (default 500): caps per start target
- base_url: send every request to this origin instead of the platform (replay server in tests)
- job: job name stamped on each Post
- accounts: comma-separated account files (Playwright storage state or cookie JSON), or @FILE listing them
- proxies: comma-separated proxy URLs, or @FILE; after a soft block the spider moves to the next account/proxy
- watermark: path of a JSON file {seed: last seen publish time (ISO)}; posts not newer than the seed's watermark
  are skipped, a page with nothing newer ends that seed's pagination (pinned old posts alone never do), and the
  newest time seen is written back when the spider closes. Incremental scheduled runs pass the same file each time.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import scrapy
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

from core.records import CrawlInfo, Post
from core.settings import get_settings
from crawlers.extract import UnknownShape, get_parser
from crawlers.extract.common import detect_soft_block, load_json
from crawlers.spiders.sessions import SessionPool, parse_list

MODES = ("search", "creator", "detail", "comments")
MODE_HELP = {
    "search": "keyword search (query=)",
    "creator": "a creator's posts (target=)",
    "detail": "one post (target=URL or id); a takedown re-check",
    "comments": "a post's comments and their replies (target=)",
}
# Scrapy's per-download bookkeeping; copying it into a new request confuses the retry and slot logic.
_INTERNAL_META = frozenset({"download_latency", "download_slot", "retry_times", "depth", "_scheme_proxy"})


def response_time(response: Response) -> datetime | None:
    """The response's own time: its Date header (RFC 7231), or None when absent or unreadable."""
    raw = response.headers.get(b"Date")
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw.decode("latin-1"))
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def modes_help() -> str:
    """One line per platform spider: the modes it serves and why any is missing (for `qingyuan crawl --help`)."""
    import importlib

    from core.platforms import live_platforms, platform_spec

    lines = []
    for platform in live_platforms():
        module = importlib.import_module(platform_spec(platform).spider)
        spider = next(
            (c for c in vars(module).values() if isinstance(c, type) and issubclass(c, PlatformSpider) and c.platform),
            None,
        )
        if spider is None:
            continue
        missing = "; ".join(f"no {m}: {why}" for m, why in spider.missing_modes.items() if m not in spider.modes)
        lines.append(f"{platform}: {', '.join(spider.modes)}" + (f" ({missing})" if missing else ""))
    return "\n".join(lines)


class PlatformSpider(scrapy.Spider):
    """Base for platform spiders; subclasses set `name`, `platform` and implement the request builders."""

    platform: ClassVar[str] = ""
    # The modes this spider serves, with what each fetches, and the modes it cannot serve, with why; shown by
    # `qingyuan crawl --help` and in the error for a mode it lacks.
    modes: ClassVar[dict[str, str]] = MODE_HELP
    missing_modes: ClassVar[dict[str, str]] = {}
    # Polite defaults; settings may override per platform.
    custom_settings: dict[str, Any] | None = {  # noqa: RUF012 (Scrapy reads this class attribute)
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 3.0,
        "AUTOTHROTTLE_MAX_DELAY": 60.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_DELAY": 2.0,
        "DOWNLOAD_DELAY_JITTER": 0.5,
        "RETRY_TIMES": 3,
        "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
        "HTTPERROR_ALLOWED_CODES": [403, 406, 461, 471],  # blocks are judged by detect_soft_block
        "ROBOTSTXT_OBEY": False,
    }
    soft_block_retries: ClassVar[int] = 3
    # Seconds before the first retry after a soft block; doubles per retry, with jitter. Setting QINGYUAN_BACKOFF_BASE.
    backoff_base: ClassVar[float] = 10.0

    def __init__(
        self,
        mode: str = "search",
        query: str | None = None,
        target: str | None = None,
        max_pages: str | int = 5,
        max_items: str | int = 500,
        base_url: str | None = None,
        job: str = "",
        watermark: str | None = None,
        accounts: str | None = None,
        proxies: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if mode not in self.modes:
            why = f" ({self.missing_modes[mode]})" if mode in self.missing_modes else ""
            raise ValueError(f"{self.name}: mode must be one of {', '.join(self.modes)}, got {mode!r}{why}")
        if mode != "search" and not target:
            raise ValueError(f"{self.name}: mode {mode} needs target=")
        self.mode = mode
        self.queries = [q.strip() for q in (query or "").split(",") if q.strip()]
        self.target = (target or "").strip()
        self.max_pages = max(1, int(max_pages))
        self.max_items = max(1, int(max_items))
        self.base_url = base_url.rstrip("/") if base_url else None
        self.job = job
        self._parser = get_parser(self.platform)
        self._items: dict[str, int] = {}
        self.watermark_path = Path(watermark) if watermark else None
        self._since: dict[str, datetime] = self._load_watermarks()
        self._newest: dict[str, datetime] = {}
        self.sessions = SessionPool(self.platform, [Path(p) for p in parse_list(accounts)], parse_list(proxies))

    def _load_watermarks(self) -> dict[str, datetime]:
        if not self.watermark_path or not self.watermark_path.is_file():
            return {}
        try:
            raw = json.loads(self.watermark_path.read_text(encoding="utf-8"))
            marks = {str(k): datetime.fromisoformat(v) for k, v in raw.items() if isinstance(v, str)}
            # A hand-edited naive time is read as UTC so it compares with the parsers' aware times.
            return {k: v if v.tzinfo else v.replace(tzinfo=timezone.utc) for k, v in marks.items()}
        except (ValueError, AttributeError) as exc:
            raise ValueError(f"{self.name}: unreadable watermark file {self.watermark_path}: {exc}") from exc

    def closed(self, reason: str) -> None:
        """Persist the newest publish time per seed, never moving a watermark backwards."""
        if not self.watermark_path or not self._newest:
            return
        merged = dict(self._since)
        for seed, newest in self._newest.items():
            if seed not in merged or newest > merged[seed]:
                merged[seed] = newest
        self.watermark_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.watermark_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({k: v.isoformat() for k, v in merged.items()}, ensure_ascii=False, indent=1))
        tmp.replace(self.watermark_path)

    # ------------------------------------------------------------------ subclass hooks

    def build_start(self) -> Iterable[Request]:
        """First request(s) for the spider's mode."""
        raise NotImplementedError

    def next_page(self, response: Response, payload: Any) -> Request | None:
        """The request for the following page, or None when the listing is exhausted."""
        return None

    def extra_requests(self, response: Response, posts: list[Post]) -> Iterable[Request]:
        """Follow-ups other than the next page (long-text expansion, reply pages)."""
        return ()

    def fallback(self, response: Response, problem: str) -> Request | None:
        """Another way to fetch what this response should have held (an older endpoint) when it came back in a
        shape the parser does not know; None when there is none."""
        return None

    def partial(self, response: Response, post: Post) -> bool:
        """True for a post this response only glimpses (a search card) and a follow-up fetches whole; it is not
        yielded here, so the whole post is the one spooled."""
        return False

    def complete(self, response: Response, post: Post) -> Post:
        """Fill a partial post from what an earlier response knew (e.g. an expanded long text); default as is."""
        return post

    # ------------------------------------------------------------------ plumbing

    def start_queries(self) -> list[str]:
        if self.queries:
            return self.queries
        configured = self.settings.getlist("QINGYUAN_CRAWL_QUERIES")
        return list(configured) or list(get_settings().crawl_queries)

    def url(self, absolute: str) -> str:
        """Rewrite to the replay origin when base_url is set (tests); platform URL otherwise."""
        if not self.base_url:
            return absolute
        parts = urlsplit(absolute)
        base = urlsplit(self.base_url)
        # Keep the platform host in the path so one replay server can serve several API hosts.
        return urlunsplit((base.scheme, base.netloc, f"/{parts.netloc}{parts.path}", parts.query, ""))

    def request(self, url: str, *, seed: str, page: int = 1, expect: bool | None = None, **kw: Any) -> Request:
        meta = kw.pop("meta", {})
        if expect is None:
            # Search and creator listings have results on page 1 unless blocked; a post may have no comments.
            expect = page == 1 and self.mode in ("search", "creator")
        meta.update({"seed": seed, "page": page, "expect_results": expect})
        cookies = self.sessions.apply(meta)
        if cookies:
            kw.setdefault("cookies", cookies)
        return Request(self.url(url), callback=self.parse_page, errback=self.on_error, meta=meta, **kw)

    async def start(self) -> AsyncIterator[Request]:
        for req in self.build_start():
            yield req

    async def parse_page(self, response: Response) -> AsyncIterator[Any]:
        stats = self.crawler.stats
        expected = bool(response.meta.get("expect_results"))
        reason = detect_soft_block(self.platform, response.status, response.body, expected)
        if reason:
            # A block is never "no results": count it, back off with jitter, retry; a middleware may rotate the
            # account/proxy when it sees meta["soft_block"].
            stats.inc_value(f"qingyuan/soft_block/{self.platform}")
            stats.inc_value(f"qingyuan/soft_block_reason/{reason.split(':')[0]}")
            self.logger.warning("soft block on %s: %s", response.url, reason)
            retry = await self._backoff_retry(response, "soft_block", reason)
            if retry is not None:
                yield retry
            return
        try:
            # Relative dates (3小时前, 昨天, 7-6) are read against when the server answered, never the wall clock.
            posts = self._parser(
                response.body, response.meta.get("source_url") or response.url, now=response_time(response)
            )
        except UnknownShape as exc:
            if "truncated" in str(exc) or "empty body" in str(exc):
                # A cut-off transfer is a fault, not data: fetch again rather than lose the page.
                stats.inc_value(f"qingyuan/truncated/{self.platform}")
                retry = await self._backoff_retry(response, "truncated", str(exc))
                if retry is not None:
                    yield retry
                return
            alternative = None if response.meta.get("is_fallback") else self.fallback(response, str(exc))
            if alternative is not None:
                stats.inc_value(f"qingyuan/fallback/{self.platform}")
                self.logger.warning("falling back from %s (%s) to %s", response.url, exc, alternative.url)
                alternative.meta["is_fallback"] = True
                yield alternative
                return
            stats.inc_value(f"qingyuan/unknown_shape/{self.platform}")
            self.logger.error("unknown shape at %s: %s", response.url, exc)
            return
        seed = response.meta.get("seed", "")
        if self.mode == "detail" and not posts:
            # Not a block (checked above) and nothing served: the post is gone — what a takedown re-check wants.
            stats.inc_value(f"qingyuan/gone/{self.platform}")
            self.logger.info("post gone: %s", seed)
        info = CrawlInfo(spider=self.name, job=self.job, query=seed if self.mode == "search" else None, mode=self.mode)
        since = self._since.get(seed)
        fresh = [p for p in posts if since is None or p.published_at is None or p.published_at > since]
        for post in posts:
            if post.published_at and (seed not in self._newest or post.published_at > self._newest[seed]):
                self._newest[seed] = post.published_at
        if since is not None:
            self.crawler.stats.inc_value(f"qingyuan/skipped_old/{self.platform}", len(posts) - len(fresh))
        room = self.max_items - self._items.get(seed, 0)
        for post in [p for p in fresh if not self.partial(response, p)][: max(0, room)]:
            self._items[seed] = self._items.get(seed, 0) + 1
            stats.inc_value(f"qingyuan/posts/{self.platform}")
            yield self.complete(response, post).model_copy(update={"crawl": info})
        for extra in self.extra_requests(response, posts):
            yield extra
        if self._items.get(seed, 0) >= self.max_items or response.meta.get("page", 1) >= self.max_pages:
            return
        if since is not None and posts and not fresh:
            return  # everything on this page was seen by an earlier run
        try:
            payload = load_json(response.body) if response.body.lstrip()[:1] in (b"{", b"[") else None
        except UnknownShape:
            payload = None
        nxt = self.next_page(response, payload)
        if nxt is not None:
            yield nxt

    async def _backoff_retry(self, response: Response, kind: str, reason: str) -> Request | None:
        """The same request again after an exponential, jittered pause; None once the retries are spent."""
        stats = self.crawler.stats
        tries = response.meta.get("soft_block_tries", 0) + 1
        if tries > self.soft_block_retries or response.request is None:
            stats.inc_value(f"qingyuan/{kind}_gave_up/{self.platform}")
            self.logger.error("giving up on %s after %d tries: %s", response.url, tries - 1, reason)
            return None
        stats.inc_value("retry/count")
        stats.inc_value(f"retry/reason_count/{kind}")
        meta = {k: v for k, v in response.meta.items() if k not in _INTERNAL_META}
        meta.update({"soft_block_tries": tries, kind: reason})
        extra: dict[str, Any] = {}
        if kind == "soft_block" and self.sessions:
            # The block is tied to this account/IP: continue on the next pair (labels only, no secrets).
            self.logger.warning("rotating session after a block: %s", self.sessions.rotate())
            stats.inc_value(f"qingyuan/rotations/{self.platform}")
            extra["cookies"] = self.sessions.apply(meta) or response.request.cookies
        retry = response.request.replace(dont_filter=True, meta=meta, **extra)
        base = self.settings.getfloat("QINGYUAN_BACKOFF_BASE", self.backoff_base)
        delay = min(300.0, base * 2 ** (tries - 1)) * random.uniform(0.5, 1.5)
        # Imported here: importing the reactor at module load would install the wrong one before Scrapy does.
        from twisted.internet import reactor

        await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return retry

    def on_error(self, failure: Any) -> None:
        self.crawler.stats.inc_value(f"qingyuan/errors/{self.platform}")
        self.logger.error("request failed: %s", failure.getErrorMessage())

    def follow(self, response: Response, url: str, **kw: Any) -> Request:
        """Next page of the same listing: same seed, page + 1, empty pages are a genuine end."""
        return self.request(url, seed=response.meta.get("seed", ""), page=response.meta.get("page", 1) + 1, **kw)
