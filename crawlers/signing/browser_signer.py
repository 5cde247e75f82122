"""In-page request signing: the platform's own JavaScript signs, inside a logged-in chromium page.

Some platforms sign API requests with obfuscated code that changes often. Rather than re-implement it, a
`PageSigner` keeps one Playwright chromium context per (platform, account, proxy), with one page opened on the
platform's web origin, reused for many requests, and lets that page do the work:

- `sign_headers`: call the page's global signing function (Xiaohongshu: `window._webmsxyw(uri, data)` returns
  {"X-s", "X-t"}, sent as the x-s / x-t headers).
- `fetch_in_page`: send the request with XMLHttpRequest from inside the page, so the security SDK that hooks
  XMLHttpRequest (Douyin: a_bogus, msToken) adds its parameters exactly as it does for the site's own calls.
- `capture`: let the web app make the request itself and keep its answer. For a platform whose signing lives in the
  app's own request code (Zhihu: x-zse-93 / x-zse-96 computed inside its fetch interceptors, nothing global to
  call), a fresh page of the login's context opens the platform page (e.g. the search page for a keyword), scrolls
  as a reader would until the app asks for the wanted page of results, and returns that answer. Each capture has a
  page of its own, closed afterwards; the context (cookies, proxy) is shared per login.

A page whose signing function or hook never appears, or that never makes the API call a capture waits for (login
wall, changed page), raises `SigningUnavailable` after the timeout, and that login is not tried again for a
cool-down (so a crawl does not wait a full timeout per request); a crashed page is re-opened on the next call.
Cookie values are never logged: accounts appear by label, proxies by host.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from urllib.parse import unquote, urlsplit

from core.platforms import PLATFORMS
from crawlers.browser import context_options, launch_options
from crawlers.spiders.sessions import Account, proxy_label

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page, Playwright

log = logging.getLogger(__name__)
T = TypeVar("T")

# Where each platform's signing code runs: a page of its web site (tests point these at a local server).
PLATFORM_PAGES: dict[str, str] = {
    "xiaohongshu": "https://www.xiaohongshu.com/explore",
    "douyin": "https://www.douyin.com/",
}
# The global function a page exposes for header signing.
SIGN_FUNCTIONS: dict[str, str] = {"xiaohongshu": "_webmsxyw"}

_FUNCTION_PRESENT = "name => typeof window[name] === 'function'"
# The SDK wraps XMLHttpRequest (the constructor, open or send); a wrapped function no longer prints as native code.
_XHR_HOOKED = """() => {
  const native = /\\{\\s*\\[native code\\]\\s*\\}\\s*$/;
  const show = Function.prototype.toString;
  return [XMLHttpRequest, XMLHttpRequest.prototype.open, XMLHttpRequest.prototype.send]
    .some((f) => !native.test(show.call(f)));
}"""


@dataclass(frozen=True)
class ReadyCheck:
    """What must exist in the page before it can sign: a description for errors, a JS predicate and its argument."""

    what: str
    predicate: str
    arg: Any = None


READY_CHECKS: dict[str, ReadyCheck] = {
    "xiaohongshu": ReadyCheck("window._webmsxyw", _FUNCTION_PRESENT, "_webmsxyw"),
    "douyin": ReadyCheck("the security SDK's XMLHttpRequest hook", _XHR_HOOKED),
}

_SIGN_JS = """({fn, uri, data}) => {
  const out = window[fn](uri, data === null ? undefined : data);
  const pick = (o) => ({xs: String(o['X-s'] ?? o['x-s'] ?? ''), xt: String(o['X-t'] ?? o['x-t'] ?? '')});
  return out && typeof out.then === 'function' ? out.then(pick) : pick(out || {});
}"""

# Sends one request from inside the page and returns status, raw header lines and the body as base64.
_XHR_JS = """({url, method, headers, body, timeoutMs}) => new Promise((resolve) => {
  const xhr = new XMLHttpRequest();
  xhr.open(method, url, true);
  xhr.responseType = 'arraybuffer';
  xhr.timeout = timeoutMs;
  for (const [name, value] of Object.entries(headers)) {
    try { xhr.setRequestHeader(name, value); } catch (e) { /* a header the browser refuses to set */ }
  }
  xhr.onload = () => {
    const bytes = new Uint8Array(xhr.response || new ArrayBuffer(0));
    let bin = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    resolve({status: xhr.status, headers: xhr.getAllResponseHeaders(), body: btoa(bin)});
  };
  xhr.onerror = () => resolve({error: 'network error'});
  xhr.ontimeout = () => resolve({error: 'timeout'});
  xhr.onabort = () => resolve({error: 'aborted'});
  if (body === null) {
    xhr.send();
  } else {
    const raw = atob(body);
    const data = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) data[i] = raw.charCodeAt(i);
    xhr.send(data);
  }
})"""

# Headers a page may not set (the browser supplies them itself, cookies from the context).
_FORBIDDEN_HEADERS = frozenset(
    {
        "accept-charset", "accept-encoding", "connection", "content-length", "cookie", "cookie2", "date", "dnt",
        "expect", "host", "keep-alive", "origin", "referer", "te", "trailer", "transfer-encoding", "upgrade",
        "user-agent", "via",
    }
)  # fmt: skip


class SigningError(RuntimeError):
    """Base of the signing failures."""


class SigningUnavailable(SigningError):
    """The page cannot sign: its signing function or SDK hook never appeared, or it failed to load or to sign."""


class _NoCall(SigningUnavailable):
    """A capture saw no call to the API at all: the page cannot serve this login for now (cool-down)."""


class InPageFetchError(SigningError):
    """The request sent from inside the page failed (network error or timeout): a download fault, worth a retry."""

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


class Captured(NamedTuple):
    """One answer the web app received: its URL (as the app asked for it), status, headers and decoded body."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class _Slot:
    context: BrowserContext
    # The resident signing page; None for a context used only by captures (they open pages of their own).
    page: Page | None = None
    crashed: bool = False

    def dead(self) -> bool:
        return self.crashed or (self.page is not None and self.page.is_closed())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _uri(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _json_or_none(body: bytes | str | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace") if isinstance(body, bytes) else body


def _playwright_proxy(proxy: str) -> dict[str, str]:
    parts = urlsplit(proxy)
    server = f"{parts.scheme or 'http'}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    out = {"server": server}
    if parts.username:
        out["username"] = unquote(parts.username)
        out["password"] = unquote(parts.password or "")
    return out


def _cookie_entries(platform: str, cookies: Mapping[str, str]) -> list[dict[str, Any]]:
    spec = PLATFORMS.get(platform)
    domain = spec.cookie_domains[0] if spec and spec.cookie_domains else ""
    return [{"name": k, "value": v, "domain": f".{domain}", "path": "/"} for k, v in cookies.items()]


def parse_header_lines(raw: str) -> dict[str, str]:
    """XMLHttpRequest.getAllResponseHeaders() text as a dict (repeated headers joined with ', ')."""
    headers: dict[str, str] = {}
    for line in raw.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return headers


class PageSigner:
    """Signs requests with the platforms' own page code; one chromium, one context + page per login.

    Use as `async with PageSigner(...) as signer:` or call `close()`; all methods run on the caller's asyncio loop
    (Scrapy's asyncio reactor in a crawl).
    """

    def __init__(
        self,
        *,
        executable_path: str = "/usr/bin/chromium",
        timeout_s: float = 20.0,
        page_urls: Mapping[str, str] | None = None,
        ready_checks: Mapping[str, ReadyCheck] | None = None,
        cooldown_s: float = 300.0,
        headless: bool = True,
    ) -> None:
        self.executable_path = executable_path
        self.timeout_s = timeout_s
        self.cooldown_s = cooldown_s
        self.headless = headless
        self.page_urls = {**PLATFORM_PAGES, **(page_urls or {})}
        self.ready_checks = {**READY_CHECKS, **(ready_checks or {})}
        self._pw: Playwright | None = None
        self._browser: Browser | None = None
        self._slots: dict[tuple[str, str, str], _Slot] = {}
        self._unavailable: dict[tuple[str, str, str], tuple[float, str]] = {}
        self._lock = asyncio.Lock()
        self.pages_opened = 0

    async def __aenter__(self) -> PageSigner:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ pages

    @staticmethod
    def _key(platform: str, account: Account | None, proxy: str | None) -> tuple[str, str, str]:
        return platform, account.label if account else "-", proxy or "-"

    @staticmethod
    def _who(platform: str, account: Account | None, proxy: str | None) -> str:
        return f"{platform} account={account.label if account else '-'} proxy={proxy_label(proxy) if proxy else '-'}"

    async def _browser_ready(self) -> Browser:
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        from playwright.async_api import async_playwright

        self._slots.clear()  # contexts of a dead browser are gone with it
        if self._pw is None:
            self._pw = await async_playwright().start()
        self._browser = await self._pw.chromium.launch(**launch_options(self.executable_path, self.headless))
        return self._browser

    async def page(self, platform: str, account: Account | None = None, proxy: str | None = None) -> Page:
        """The signing page for this login, opened (and checked ready) on first use or after a crash."""
        key = self._key(platform, account, proxy)
        async with self._lock:
            slot = self._slots.get(key)
            if slot is not None and not slot.dead() and slot.page is not None:
                return slot.page
            if slot is not None and slot.dead():
                log.warning("signing page for %s crashed or closed: re-opening", self._who(platform, account, proxy))
                await self._discard(key)
                slot = None
            self._check_cooldown(key)
            try:
                if slot is None:
                    slot = await self._open(platform, account, proxy)
                else:  # a context the captures opened: give it its resident page
                    await self._open_page(platform, account, proxy, slot)
            except SigningUnavailable as exc:
                self._unavailable[key] = (time.monotonic() + self.cooldown_s, str(exc))
                raise
            self._slots[key] = slot
            assert slot.page is not None
            return slot.page

    def _check_cooldown(self, key: tuple[str, str, str]) -> None:
        until, reason = self._unavailable.get(key, (0.0, ""))
        if until > time.monotonic():
            raise SigningUnavailable(reason)

    async def _new_context(self, platform: str, account: Account | None, proxy: str | None) -> BrowserContext:
        """A context with the login's cookies (storage state, or a cookie export) and its proxy."""
        browser = await self._browser_ready()
        options = context_options(account.storage_state if account is not None else None)
        if proxy:
            options["proxy"] = _playwright_proxy(proxy)
        context = await browser.new_context(**options)
        if account is not None and account.storage_state is None and account.cookies:
            try:
                await context.add_cookies(_cookie_entries(platform, account.cookies))  # type: ignore[arg-type]
            except Exception as exc:
                await self._close_quietly(context)
                raise SigningUnavailable(
                    f"{platform}: could not set the account's cookies: {_first_line(exc)}"
                ) from exc
        return context

    async def _open(self, platform: str, account: Account | None, proxy: str | None) -> _Slot:
        if not self.page_urls.get(platform):
            raise SigningUnavailable(f"{platform}: no signing page known")
        slot = _Slot(await self._new_context(platform, account, proxy))
        try:
            await self._open_page(platform, account, proxy, slot)
        except SigningUnavailable:
            await self._close_quietly(slot.context)
            raise
        return slot

    async def _open_page(self, platform: str, account: Account | None, proxy: str | None, slot: _Slot) -> None:
        """Open the resident signing page in the slot's context and wait until it can sign."""
        url = self.page_urls.get(platform)
        if not url:
            raise SigningUnavailable(f"{platform}: no signing page known")
        where = urlsplit(url)._replace(query="", fragment="").geturl()
        page: Page | None = None
        try:
            page = await slot.context.new_page()
            slot.crashed = False

            def on_crash(_: object) -> None:
                slot.crashed = True

            page.on("crash", on_crash)
            await page.goto(url, wait_until="domcontentloaded", timeout=self.timeout_s * 1000)
            await self._wait_ready(platform, page, where)
        except Exception as exc:  # Playwright's errors (navigation failed, browser gone) or SigningUnavailable
            if page is not None:
                await _close_page_quietly(page)
            if isinstance(exc, SigningUnavailable):
                raise
            raise SigningUnavailable(f"{platform}: could not open {where}: {_first_line(exc)}") from exc
        slot.page = page
        self.pages_opened += 1
        log.info("signing page ready for %s on %s", self._who(platform, account, proxy), where)

    async def _wait_ready(self, platform: str, page: Page, where: str) -> None:
        check = self.ready_checks.get(platform)
        if check is None:
            return
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        try:
            await page.wait_for_function(check.predicate, arg=check.arg, timeout=self.timeout_s * 1000, polling=100)
        except PlaywrightTimeout as exc:
            raise SigningUnavailable(
                f"{platform}: {check.what} did not appear within {self.timeout_s:g}s on {where} "
                "(login wall, expired login or a changed page)"
            ) from exc

    async def _discard(self, key: tuple[str, str, str]) -> None:
        slot = self._slots.pop(key, None)
        if slot is not None:
            await self._close_quietly(slot.context)

    @staticmethod
    async def _close_quietly(context: BrowserContext) -> None:
        try:
            await context.close()
        except Exception as exc:  # already gone with a crashed browser
            log.debug("closing a signing context failed: %s", _first_line(exc))

    async def _with_page(
        self,
        platform: str,
        account: Account | None,
        proxy: str | None,
        action: Callable[[Page], Awaitable[T]],
        failure: Callable[[str], SigningError],
    ) -> T:
        """Run `action` on the login's page; a page that crashed meanwhile is re-opened and the action run again."""
        key = self._key(platform, account, proxy)
        for attempt in (1, 2):
            page = await self.page(platform, account, proxy)
            try:
                # The page's own timeouts come first; this only guards against a page that never answers.
                return await asyncio.wait_for(action(page), timeout=self.timeout_s + 5)
            except SigningError:
                raise
            except Exception as exc:  # Playwright errors, or the guard's TimeoutError
                slot = self._slots.get(key)
                message = _first_line(exc)
                gone = slot is None or slot.dead() or "crash" in message.lower() or "closed" in message.lower()
                if gone and attempt == 1:
                    log.warning("signing page for %s died mid-call: re-opening", self._who(platform, account, proxy))
                    async with self._lock:
                        await self._discard(key)
                    continue
                if isinstance(exc, TimeoutError):
                    message = f"no answer within {self.timeout_s + 5:g}s"
                raise failure(f"{platform}: {message}") from exc
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ public API

    async def sign_headers(
        self,
        platform: str,
        url: str,
        body: bytes | str | None,
        *,
        account: Account | None = None,
        proxy: str | None = None,
    ) -> dict[str, str]:
        """Signature headers for a request to `url` (the platform's URL) with `body`, made by the page's own code.

        Xiaohongshu: `window._webmsxyw(uri, data)` with uri = path[?query] and data = the parsed JSON body.
        """
        fn = SIGN_FUNCTIONS.get(platform)
        if fn is None:
            raise SigningUnavailable(f"{platform}: no in-page signing function known")
        arg = {"fn": fn, "uri": _uri(url), "data": _json_or_none(body)}
        result = await self._with_page(
            platform, account, proxy, lambda page: page.evaluate(_SIGN_JS, arg), SigningUnavailable
        )
        if not isinstance(result, dict) or not result.get("xs"):
            raise SigningUnavailable(f"{platform}: window.{fn} returned no X-s")
        return {"x-s": str(result["xs"]), "x-t": str(result.get("xt") or "")}

    async def fetch_in_page(
        self,
        url: str,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        *,
        platform: str = "douyin",
        account: Account | None = None,
        proxy: str | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """Send the request with XMLHttpRequest from inside the platform page; (status, headers, body).

        The page's hooks add their signature parameters on the way out; the context's cookies go along. `url` must
        be on the page's origin (a cross-origin call would need CORS the platform does not grant).
        """
        sendable = {k: v for k, v in (headers or {}).items() if not _forbidden(k)}
        arg = {
            "url": url,
            "method": method.upper(),
            "headers": sendable,
            "body": base64.b64encode(body).decode("ascii") if body else None,
            "timeoutMs": int(self.timeout_s * 1000),
        }
        result = await self._with_page(
            platform, account, proxy, lambda page: page.evaluate(_XHR_JS, arg), InPageFetchError
        )
        if not isinstance(result, dict):
            raise InPageFetchError(f"{platform}: in-page request gave no result")
        if result.get("error"):
            error = str(result["error"])
            raise InPageFetchError(f"{platform}: in-page request failed: {error}", timeout=error == "timeout")
        return (
            int(result["status"]),
            parse_header_lines(str(result.get("headers") or "")),
            base64.b64decode(str(result.get("body") or "")),
        )

    async def capture(
        self,
        platform: str,
        page_url: str,
        api_match: str,
        *,
        account: Account | None = None,
        proxy: str | None = None,
        want: Callable[[str], bool] | None = None,
        scroll_rounds: int = 0,
        pause_s: float = 1.0,
    ) -> Captured:
        """Open `page_url` in a new page of the login's context and return the app's own answer to an API call.

        Every response whose URL contains `api_match` is read; the first one whose URL satisfies `want` (any, when
        `want` is None) is returned. While the answers so far are not the wanted one, the page is scrolled to the
        bottom, at most `scroll_rounds` times, `pause_s` apart, so an infinite list asks for its next page.
        `SigningUnavailable` when no wanted answer arrives within the timeout of the last answer (or of the page
        load); when the app made no such call at all (login wall, changed page) the login also gets the cool-down.
        `InPageFetchError` when the page itself cannot be loaded (a download fault, worth a retry).
        """
        key = self._key(platform, account, proxy)
        self._check_cooldown(key)
        where = urlsplit(page_url)._replace(query="", fragment="").geturl()
        page = await self._capture_page(platform, account, proxy)
        answers: asyncio.Queue[Captured] = asyncio.Queue()
        inflight: set[Any] = set()  # the app's API requests still under way: no scrolling meanwhile

        def on_request(request: Any) -> None:
            if api_match in request.url:
                inflight.add(request)

        def on_request_done(request: Any) -> None:
            inflight.discard(request)

        async def on_response(response: Any) -> None:
            if api_match not in response.url:
                return
            try:
                body = await response.body()
                headers = await response.all_headers()
            except Exception as exc:  # a redirect, or the page closed under it: nothing to keep
                log.debug("%s: could not read an answer from %s: %s", platform, where, _first_line(exc))
                return
            kept = {k: v for k, v in headers.items() if k != "set-cookie"}  # the context keeps its own cookies
            answers.put_nowait(Captured(response.url, response.status, kept, body))

        page.on("request", on_request)
        page.on("requestfinished", on_request_done)
        page.on("requestfailed", on_request_done)
        page.on("response", on_response)
        # The per-answer timeouts come first; this only guards against an app that keeps calling forever.
        guard = self.timeout_s * (scroll_rounds + 2) + 5
        try:
            return await asyncio.wait_for(
                self._await_answer(
                    platform, page, page_url, api_match, answers, inflight, want, scroll_rounds, pause_s
                ),
                guard,
            )
        except _NoCall as exc:
            self._unavailable[key] = (time.monotonic() + self.cooldown_s, str(exc))
            raise
        except SigningError:
            raise
        except TimeoutError as exc:
            raise SigningUnavailable(f"{platform}: no wanted answer on {where} within {guard:g}s") from exc
        except Exception as exc:  # Playwright errors mid-capture: the page crashed, the browser went away
            raise InPageFetchError(f"{platform}: capture on {where} failed: {_first_line(exc)}") from exc
        finally:
            await _close_page_quietly(page)

    async def _capture_page(self, platform: str, account: Account | None, proxy: str | None) -> Page:
        """A new page in the login's context; a context that died (browser gone, closed) is made anew once."""
        key = self._key(platform, account, proxy)
        for attempt in (1, 2):
            async with self._lock:
                slot = self._slots.get(key)
                if slot is None or slot.dead():
                    if slot is not None:
                        await self._discard(key)
                    try:
                        slot = _Slot(await self._new_context(platform, account, proxy))
                    except SigningError:
                        raise
                    except Exception as exc:  # chromium would not start or make a context
                        raise SigningUnavailable(f"{platform}: no browser context: {_first_line(exc)}") from exc
                    self._slots[key] = slot
            try:
                page = await slot.context.new_page()
            except Exception as exc:
                if attempt == 2:
                    raise SigningUnavailable(f"{platform}: could not open a page: {_first_line(exc)}") from exc
                log.warning("browser context for %s is gone: making a new one", self._who(platform, account, proxy))
                async with self._lock:
                    if self._slots.get(key) is slot:
                        await self._discard(key)
                continue
            self.pages_opened += 1
            return page
        raise AssertionError("unreachable")

    async def _await_answer(
        self,
        platform: str,
        page: Page,
        page_url: str,
        api_match: str,
        answers: asyncio.Queue[Captured],
        inflight: set[Any],
        want: Callable[[str], bool] | None,
        scroll_rounds: int,
        pause_s: float,
    ) -> Captured:
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        where = urlsplit(page_url)._replace(query="", fragment="").geturl()
        try:
            await page.goto(page_url, wait_until="domcontentloaded", timeout=self.timeout_s * 1000)
        except PlaywrightTimeout as exc:
            raise InPageFetchError(
                f"{platform}: {where} did not load within {self.timeout_s:g}s", timeout=True
            ) from exc
        except Exception as exc:
            raise InPageFetchError(f"{platform}: could not open {where}: {_first_line(exc)}") from exc
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        seen = rounds = 0
        while (remaining := deadline - loop.time()) > 0:
            # Scroll only once the app has answered (its list is on screen), the answer was not the wanted one and
            # no call is under way (a slow answer must not use up the rounds).
            can_scroll = seen > 0 and rounds < scroll_rounds
            try:
                got = await asyncio.wait_for(answers.get(), min(remaining, pause_s) if can_scroll else remaining)
            except TimeoutError:
                if can_scroll and not inflight:
                    rounds += 1
                    await _scroll_to_bottom(page)
                continue
            seen += 1
            deadline = loop.time() + self.timeout_s  # the app is alive: each answer restarts the clock
            if want is None or want(got.url):
                return got
        if not seen:
            raise _NoCall(
                f"{platform}: the page made no call to {api_match} within {self.timeout_s:g}s on {where} "
                "(login wall, expired login or a changed page)"
            )
        raise SigningUnavailable(
            f"{platform}: {seen} answer(s) on {where} after {rounds} scroll(s), none the wanted one, "
            f"then nothing for {self.timeout_s:g}s"
        )

    async def close(self) -> None:
        for key in list(self._slots):
            await self._discard(key)
        if self._browser is not None:
            try:
                await self._browser.close()
            except Exception as exc:
                log.debug("closing chromium failed: %s", _first_line(exc))
            self._browser = None
        if self._pw is not None:
            await self._pw.stop()
            self._pw = None


async def _close_page_quietly(page: Page) -> None:
    try:
        await page.close()
    except Exception as exc:  # already gone with its context or browser
        log.debug("closing a capture page failed: %s", _first_line(exc))


async def _scroll_to_bottom(page: Page) -> None:
    """Scroll as a reader would (wheel events), then make sure the bottom is reached (a list's load trigger)."""
    await page.mouse.wheel(0, 4000)
    await page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")


def _forbidden(name: str) -> bool:
    lowered = name.lower()
    return lowered in _FORBIDDEN_HEADERS or lowered.startswith(("sec-", "proxy-"))
