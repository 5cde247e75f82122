"""Scrapy downloader middleware that signs the platform spiders' requests the way each platform's web client does.

Per platform (the spider's `platform` attribute):

- bilibili: requests to `/wbi/` endpoints get `wts` + `w_rid` (crawlers.signing.wbi). The img/sub keys come from
  x/web-interface/nav, fetched once through Scrapy itself (same cookie jar and proxy as the request being signed)
  and cached for QINGYUAN_WBI_KEY_TTL seconds (12 h; the platform rotates them daily). An answer that rejects the
  signature (-352, v_voucher) drops the cached keys, so the retry signs with fresh ones. Other endpoints (view,
  reply) need no signature and pass untouched.
- xiaohongshu: x-s / x-t headers from the logged-in page's own `window._webmsxyw(uri, data)` (PageSigner), plus a
  random x-b3-traceid. Not added: x-s-common (computed by the web app from browser fingerprint data; the API has
  accepted requests without it, but that may change).
- douyin: the request is not downloaded by Scrapy at all: it is sent with XMLHttpRequest from inside a logged-in
  www.douyin.com page, whose security SDK hooks XMLHttpRequest and appends a_bogus / msToken itself. The answer
  comes back as a normal Scrapy response carrying the original request (and so its meta): callbacks, soft-block
  detection, retries and raw storage work as for any download. The browser context's cookies and proxy are used,
  not Scrapy's.
- zhihu: search_v3 is not downloaded by Scrapy: the web app computes x-zse-93 / x-zse-96 inside its own request
  interceptors (nothing global to call, no XHR hook to borrow), so the middleware does what a reader's browser
  does. It opens www.zhihu.com/search?type=content&q=<q> in a logged-in page (PageSigner.capture), lets the app
  make its own signed search_v3 call and keeps the answer: offset 0 is the app's first call; offset N is reached by
  scrolling until the app asks for offset N (at most N/limit + 2 scrolls). The answer comes back as a Scrapy
  response carrying the original request, as for Douyin. The context's cookies and proxy are used, not Scrapy's;
  the page is opened anew for every request (a deep offset re-reads the pages before it). Other endpoints are
  not signed: the account's d_c0 / z_c0 cookies (session pool) are enough for the member answer lists,
  comment_v5 and answer pages. A search_v3 request the search page cannot reproduce (not a GET, no q, a type
  other than general) goes out unsigned and counts under `qingyuan/signing_unsupported/zhihu`.
- kuaishou, weibo, tieba: cookies only (the session pool); nothing to sign.

Switch: Scrapy setting QINGYUAN_SIGNING = "auto" (default: sign when crawling the live platforms, not when the spider
has a base_url, i.e. a replay server in tests) | "on" | "off"; the spider argument `signing=` overrides it for one
crawl; `request.meta["qy_signing"] = False` leaves a single request alone. When signing fails (no wbi keys, login
wall on the signing page) the request goes out unsigned: the platform's block then shows as a soft block, and
`qingyuan/signing_failed/<platform>` says why. Stats: qingyuan/signing/<platform>/signed (zhihu: answers
captured), .../keys_fetched, qingyuan/signing_failed/<platform>, qingyuan/signing_unsupported/zhihu.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadFailedError, DownloadTimeoutError
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from core.platforms import PLATFORMS
from crawlers.signing.browser_signer import PLATFORM_PAGES, InPageFetchError, PageSigner, SigningUnavailable
from crawlers.signing.wbi import is_wbi_path, keys_from_nav, sign_wbi_url
from crawlers.spiders.sessions import Account

log = logging.getLogger(__name__)

SIGNING_META = "qy_signing"
MODES = ("auto", "on", "off")
NAV_URL = "https://api.bilibili.com/x/web-interface/nav"
ZHIHU_SIGNED_PATHS = ("/api/v4/search_v3",)
# The search page whose app makes the signed search_v3 calls (the keyword is appended, URL-quoted).
ZHIHU_SEARCH_PAGE = "https://www.zhihu.com/search?type=content&q="
ZHIHU_PAGE_SIZE = 20
# Seconds between scrolls while waiting for the app to ask for a later page (it renders the previous one first).
ZHIHU_SCROLL_PAUSE_S = 1.5
# How long a wbi signature counts as fresh when a signed request comes back as a copy (seconds).
WBI_FRESH_S = 300
# Headers that describe the transfer, not the content: the browser already undid them.
_TRANSFER_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection"})


class SigningMiddleware:
    """Signs requests per platform; see the module docstring. Install for the platform spiders only."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.mode = _mode(settings.get("QINGYUAN_SIGNING") or "auto", "QINGYUAN_SIGNING")
        self.timeout_s = settings.getfloat("QINGYUAN_SIGNING_TIMEOUT", 20.0)
        self.key_ttl_s = settings.getfloat("QINGYUAN_WBI_KEY_TTL", 12 * 3600.0)
        qy = settings.getdict("QINGYUAN_SETTINGS")
        self.chromium = str(qy.get("chromium_path") or settings.get("QINGYUAN_CHROMIUM") or "/usr/bin/chromium")
        self._keys: tuple[str, str, float] | None = None
        self._keys_lock = asyncio.Lock()
        self._signer: PageSigner | None = None
        # Requests this middleware re-issued with a fresh signature: let them through once, re-sign any copy.
        self._just_signed: weakref.WeakSet[Request] = weakref.WeakSet()
        self._reported: set[str] = set()
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SigningMiddleware:
        return cls(crawler)

    # ------------------------------------------------------------------ switch

    def spider_opened(self, spider: Spider) -> None:
        override = getattr(spider, "signing", None)
        if override is not None:
            try:
                self.mode = _mode(str(override), "signing=")
            except ValueError as exc:
                spider.logger.error("%s; request signing stays off", exc)
                self.mode = "off"
        active = self.active(spider)
        self._stats().set_value("qingyuan/signing/active", active)
        spider.logger.info("request signing %s (mode %s)", "on" if active else "off", self.mode)

    def active(self, spider: Spider | None) -> bool:
        if spider is None or self.mode == "off":
            return False
        return self.mode == "on" or not getattr(spider, "base_url", None)

    async def spider_closed(self, spider: Spider) -> None:
        if self._signer is not None:
            await self._signer.close()
            self._signer = None

    # ------------------------------------------------------------------ downloader hooks

    async def process_request(self, request: Request) -> Request | Response | None:
        spider = self.crawler.spider
        if request.meta.get(SIGNING_META) is False or not self.active(spider):
            return None
        spec = PLATFORMS.get(getattr(spider, "platform", ""))
        scheme = spec.signing if spec else "none"
        # The registry names each platform's scheme; these are the web clients' ways of signing known here.
        if scheme == "wbi":
            return await self._bilibili(request, spider)
        if scheme == "page_headers":
            await self._xiaohongshu(request, spider)
        elif scheme == "page_xhr":
            return await self._douyin(request, spider)
        elif scheme == "page_capture":
            return await self._zhihu(request, spider)
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        keys = self._keys
        signed_with = request.meta.get("qy_wbi_signed")
        if keys is not None and signed_with == keys[0] + keys[1] and _wbi_rejected(response.body):
            # The keys may have rotated under us: fetch them again for the next (retried) request. Only a rejection
            # of the current keys counts, so a late answer to an old signature cannot drop fresh keys.
            self._keys = None
            self._stats().inc_value("qingyuan/signing/bilibili/keys_rejected")
        return response

    # ------------------------------------------------------------------ bilibili

    async def _bilibili(self, request: Request, spider: Any) -> Request | None:
        if not is_wbi_path(request.url):
            return None
        now = int(time.time())
        if request in self._just_signed:
            self._just_signed.discard(request)
            return None
        # A copy that lost its identity (a disk queue) but carries a fresh signature from the current keys passes
        # too; any other copy (retries, a signature from rotated keys) is signed again.
        keys = self._keys
        if (
            keys is not None
            and request.meta.get("qy_wbi_signed") == keys[0] + keys[1]
            and now - int(request.meta.get("qy_wbi_wts", 0)) < WBI_FRESH_S
            and request.meta.get("qy_wbi_url") == request.url
        ):
            return None
        try:
            img_key, sub_key = await self._wbi_keys(request, spider)
        except Exception as exc:  # download failure, block page or a changed nav shape: send unsigned
            self._failed("bilibili", f"no wbi keys from nav: {type(exc).__name__}: {exc}")
            return None
        signed_url = sign_wbi_url(request.url, img_key, sub_key, now)
        meta = {**request.meta, "qy_wbi_signed": img_key + sub_key, "qy_wbi_wts": now, "qy_wbi_url": signed_url}
        signed = request.replace(url=signed_url, meta=meta)
        self._just_signed.add(signed)
        self._stats().inc_value("qingyuan/signing/bilibili/signed")
        return signed  # re-scheduled by the engine, then let through above

    async def _wbi_keys(self, request: Request, spider: Any) -> tuple[str, str]:
        async with self._keys_lock:
            if self._keys is not None and time.monotonic() - self._keys[2] < self.key_ttl_s:
                return self._keys[0], self._keys[1]
            meta: dict[str, Any] = {SIGNING_META: False}
            for key in ("cookiejar", "proxy"):
                if key in request.meta:
                    meta[key] = request.meta[key]
            nav = Request(
                spider.url(NAV_URL),
                meta=meta,
                cookies=request.cookies,
                headers={"Referer": "https://www.bilibili.com/"},
                dont_filter=True,
            )
            assert self.crawler.engine is not None
            response = await self.crawler.engine.download_async(nav)
            img_key, sub_key = keys_from_nav(response.body)
            self._keys = (img_key, sub_key, time.monotonic())
            self._stats().inc_value("qingyuan/signing/bilibili/keys_fetched")
            return img_key, sub_key

    # ------------------------------------------------------------------ in-page platforms

    def _page_signer(self, spider: Any) -> PageSigner:
        if self._signer is None:
            # With a base_url (tests), the signing pages live on the replay server like the API does.
            pages = {p: spider.url(u) for p, u in PLATFORM_PAGES.items()} if hasattr(spider, "url") else {}
            self._signer = PageSigner(executable_path=self.chromium, timeout_s=self.timeout_s, page_urls=pages)
        return self._signer

    async def _xiaohongshu(self, request: Request, spider: Any) -> None:
        account, proxy = _session(spider, request)
        try:
            headers = await self._page_signer(spider).sign_headers(
                "xiaohongshu", _platform_url(spider, request.url), request.body or None, account=account, proxy=proxy
            )
        except SigningUnavailable as exc:
            self._failed("xiaohongshu", str(exc))
            return
        for name, value in headers.items():
            request.headers[name] = value
        request.headers["x-b3-traceid"] = secrets.token_hex(8)
        self._stats().inc_value("qingyuan/signing/xiaohongshu/signed")

    async def _douyin(self, request: Request, spider: Any) -> Response | None:
        account, proxy = _session(spider, request)
        headers = {
            k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in request.headers.items() if v is not None
        }
        try:
            status, got, body = await self._page_signer(spider).fetch_in_page(
                request.url, request.method, headers, request.body or None, account=account, proxy=proxy
            )
        except SigningUnavailable as exc:
            self._failed("douyin", str(exc))
            return None
        except InPageFetchError as exc:
            raise _download_error(exc) from exc
        self._stats().inc_value("qingyuan/signing/douyin/signed")
        return _bound_response(request, status, got, body, "in-page")

    # ------------------------------------------------------------------ zhihu and helpers

    async def _zhihu(self, request: Request, spider: Any) -> Response | None:
        if not any(p in request.url for p in ZHIHU_SIGNED_PATHS):
            return None  # cookies suffice
        search = zhihu_search_params(request)
        if search is None:
            self._stats().inc_value("qingyuan/signing_unsupported/zhihu")
            self._report("zhihu", "zhihu: only GET search_v3 of type general is signed (by the search page)")
            return None
        q, offset, limit = search
        account, proxy = _session(spider, request)
        page_url = spider.url(ZHIHU_SEARCH_PAGE + quote(q, safe=""))
        want = _same_zhihu_page(q, offset)
        try:
            got = await self._page_signer(spider).capture(
                "zhihu",
                page_url,
                ZHIHU_SIGNED_PATHS[0],
                account=account,
                proxy=proxy,
                want=want,
                scroll_rounds=offset // limit + 2 if offset else 0,
                pause_s=ZHIHU_SCROLL_PAUSE_S,
            )
        except SigningUnavailable as exc:
            self._failed("zhihu", str(exc))
            return None
        except InPageFetchError as exc:
            raise _download_error(exc) from exc
        self._stats().inc_value("qingyuan/signing/zhihu/signed")
        request.meta["qy_captured_url"] = got.url  # what the app asked for (its own params), for debugging
        return _bound_response(request, got.status, got.headers, got.body, "in-page-capture")

    def _failed(self, platform: str, reason: str) -> None:
        self._stats().inc_value(f"qingyuan/signing_failed/{platform}")
        self._report(platform, f"request signing failed, sending unsigned: {reason}", level=logging.ERROR)

    def _report(self, platform: str, message: str, level: int = logging.WARNING) -> None:
        if message not in self._reported:  # once per distinct reason, not once per request
            self._reported.add(message)
            log.log(level, "%s", message)

    def _stats(self) -> Any:
        assert self.crawler.stats is not None
        return self.crawler.stats


def _download_error(exc: InPageFetchError) -> Exception:
    """A failed in-page request as the download fault Scrapy's RetryMiddleware retries."""
    return (DownloadTimeoutError if exc.timeout else DownloadFailedError)(str(exc))


def _mode(value: str, where: str) -> str:
    mode = value.strip().lower()
    if mode not in MODES:
        raise ValueError(f"{where} must be one of {', '.join(MODES)}, got {value!r}")
    return mode


def _session(spider: Any, request: Request) -> tuple[Account | None, str | None]:
    """The account and proxy the session pool put on this request (the signing page must be the same login)."""
    pool = getattr(spider, "sessions", None)
    jar = request.meta.get("cookiejar")
    account = None
    if pool is not None and pool.accounts and isinstance(jar, int):
        account = pool.accounts[jar % len(pool.accounts)]
    return account, request.meta.get("proxy")


def _platform_url(spider: Any, url: str) -> str:
    """Undo the spider's base_url rewrite (`<base>/<host><path>`): signatures cover the platform's own path."""
    base = getattr(spider, "base_url", None)
    if base and url.startswith(base + "/"):
        return "https://" + url[len(base) + 1 :]
    return url


def zhihu_search_params(request: Request) -> tuple[str, int, int] | None:
    """(q, offset, limit) of a search_v3 request the search page can reproduce; None for any other."""
    params = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
    q = " ".join(params.get("q", "").split())
    if request.method != "GET" or not q or params.get("t", "general") != "general":
        return None
    offset, limit = _int(params.get("offset"), 0), _int(params.get("limit"), ZHIHU_PAGE_SIZE)
    if offset < 0:
        return None
    return q, offset, limit if limit > 0 else ZHIHU_PAGE_SIZE


def _same_zhihu_page(q: str, offset: int) -> Callable[[str], bool]:
    """The app's search_v3 call for this keyword and offset (the app adds params of its own; those may differ)."""

    def want(url: str) -> bool:
        params = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        return (
            " ".join(params.get("q", "").split()) == q
            and params.get("t", "general") == "general"
            and _int(params.get("offset"), 0) == offset
        )

    return want


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _bound_response(request: Request, status: int, headers: Mapping[str, str], body: bytes, flag: str) -> Response:
    """The browser's answer as a Scrapy response carrying `request` (and so its meta and callbacks)."""
    kept = Headers({k: v for k, v in headers.items() if k.lower() not in _TRANSFER_HEADERS})
    cls = responsetypes.from_args(headers=kept, url=request.url, body=body)
    return cls(url=request.url, status=status, headers=kept, body=body, request=request, flags=[flag])


def _wbi_rejected(body: bytes) -> bool:
    head = body[:2000]
    return b'"v_voucher"' in head or b'"code":-352' in head.replace(b" ", b"")
