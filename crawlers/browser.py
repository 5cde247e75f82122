"""Playwright recipes shared by the crawl (scrapy-playwright) and by later evidence re-capture.

One place decides how chromium starts: Debian's /usr/bin/chromium (Playwright's own download is impossible here),
headless, with the background services that phone home switched off.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)
VIEWPORT = {"width": 1280, "height": 800}
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36 Qingyuan/0.1"
)

# Scrolls to the bottom until the page says it is done (data-done="1" on `done_selector`) or nothing new appears
# for `idleRounds` rounds (or `enough` items are there). Returns how many rounds it took. Used as a page method for feeds and comment lists.
SCROLL_UNTIL_DONE_JS = """
async ({doneSelector, countSelector, pauseMs, idleRounds, maxRounds, enough}) => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  let last = -1, idle = 0;
  for (let round = 1; round <= maxRounds; round++) {
    window.scrollTo(0, document.documentElement.scrollHeight);
    await sleep(pauseMs);
    const done = document.querySelector(doneSelector);
    if (done && done.dataset.done === "1") return round;
    const count = document.querySelectorAll(countSelector).length;
    if (enough && count >= enough) return round;
    idle = count === last ? idle + 1 : 0;
    if (idle >= idleRounds) return -round;
    last = count;
  }
  return 0;
}
"""

# Where each item's element is on the page, in CSS pixels of the whole document (what a full-page screenshot
# shows): {boxes: {id: {x, y, width, height}}, scale: devicePixelRatio}. `specs` name, per item kind, the element
# to box and the attribute (on it or an ancestor) holding the item's id. Run right before the screenshot.
ITEM_BOXES_JS = """
(specs) => {
  const boxes = {};
  for (const {selector, attr, prefix} of specs) {
    for (const el of document.querySelectorAll(selector)) {
      const owner = el.closest(`[${attr}]`);
      const id = owner && owner.getAttribute(attr);
      const r = el.getBoundingClientRect();
      if (!id || r.width <= 0 || r.height <= 0) continue;
      boxes[(prefix || "") + id] = {x: r.left + window.scrollX, y: r.top + window.scrollY,
                                    width: r.width, height: r.height};
    }
  }
  return {boxes, scale: window.devicePixelRatio || 1};
}
"""


@dataclass(frozen=True)
class ItemSelector:
    """How to find one kind of item on a rendered page: the element to outline (`selector`), the attribute on it
    or an ancestor that holds the item's post id (`attr`), and a prefix the spider puts before that id."""

    selector: str
    attr: str
    prefix: str = ""


def item_boxes_method(items: Sequence[ItemSelector]) -> Any:
    """A scrapy-playwright page method asking the page where each item is; put it right before the screenshot
    and hand the response to `keep_item_crops`."""
    from scrapy_playwright.page import PageMethod

    return PageMethod("evaluate", ITEM_BOXES_JS, [asdict(item) for item in items])


def item_boxes_result(page_methods: Sequence[Any]) -> Any:
    """What the item-boxes page method answered on this response (None when it was not run)."""
    for method in page_methods:
        if getattr(method, "method", None) == "evaluate" and method.args and method.args[0] == ITEM_BOXES_JS:
            return getattr(method, "result", None)
    return None


def launch_options(executable_path: str = "/usr/bin/chromium", headless: bool = True) -> dict[str, Any]:
    """Keyword arguments for `browser_type.launch()`; also PLAYWRIGHT_LAUNCH_OPTIONS for scrapy-playwright."""
    return {"executable_path": executable_path, "headless": headless, "args": list(CHROMIUM_ARGS)}


def context_options(storage_state: Path | str | None = None) -> dict[str, Any]:
    """Keyword arguments for `browser.new_context()` (Chinese locale, Beijing time, a desktop viewport).

    `storage_state` is a Playwright storage-state file (cookies + local storage) holding an account's login.
    """
    options: dict[str, Any] = {
        "viewport": dict(VIEWPORT),
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "user_agent": USER_AGENT,
    }
    if storage_state is not None:
        options["storage_state"] = str(storage_state)
    return options


def render(
    url: str,
    *,
    storage_state: Path | str | None = None,
    wait_selector: str | None = None,
    screenshot_to: Path | None = None,
    executable_path: str = "/usr/bin/chromium",
    timeout_ms: int = 30_000,
) -> str:
    """Open one page logged in as the account in `storage_state`, optionally screenshot it; returns its HTML."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(**launch_options(executable_path))
        try:
            context = browser.new_context(**context_options(storage_state))
            page = context.new_page()
            page.goto(url, wait_until="networkidle", timeout=timeout_ms)
            if wait_selector:
                page.wait_for_selector(wait_selector, timeout=timeout_ms)
            if screenshot_to is not None:
                Path(screenshot_to).parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot_to), full_page=True)
            html = page.content()
            context.close()
            return html
        finally:
            browser.close()


def screenshot_name(url: str) -> str:
    """A stable file name for a URL's screenshot (the same URL always lands on the same file)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:24] + ".png"


def screenshot(
    urls: Iterable[str],
    out_dir: Path,
    *,
    executable_path: str = "/usr/bin/chromium",
    wait_selector: str | None = None,
    timeout_ms: int = 30_000,
    full_page: bool = True,
) -> dict[str, Path]:
    """Open each URL in headless chromium and save a full-page PNG into out_dir; returns {url: path}.

    For re-capturing evidence outside a crawl (a hit is re-checked, a report needs a fresh picture). A URL that
    fails to load is logged and left out of the result rather than aborting the batch.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Path] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**launch_options(executable_path))
        try:
            context = browser.new_context(**context_options())
            for url in urls:
                page = context.new_page()
                try:
                    page.goto(url, wait_until="networkidle", timeout=timeout_ms)
                    if wait_selector:
                        page.wait_for_selector(wait_selector, timeout=timeout_ms)
                    path = out_dir / screenshot_name(url)
                    page.screenshot(path=str(path), full_page=full_page)
                    result[url] = path
                except PlaywrightError as exc:
                    log.warning("screenshot failed for %s: %s", url, exc)
                finally:
                    page.close()
            context.close()
        finally:
            browser.close()
    return result
