"""An analyst's session in Debian chromium (Playwright): log in, search, open a hit, review, build and send a report.

The console runs under uvicorn on 127.0.0.1 (port 0) in a thread, over a tmp data home seeded with real
tantivy-indexed hits and the real casebook; one post is `<script>`/`<img onerror>` markup, which must show as text
and never run (any dialog fails the test). Screenshots go to $QY_SCREENSHOT_DIR, else to the test's tmp dir.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.takedown.delivery import FolderDelivery
from core.records import HitStatus
from crawlers.browser import launch_options
from indexer import open_store
from tests.integration.conftest import missing_real_part
from tests.integration.loopback import serve_asgi
from tests.unit.test_webui import PASSWORD, seed_home
from webui.app import create_app

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, object, Path]]:
    settings, _ = seed_home(tmp_path / "home")
    partner = tmp_path / "partner-dropbox"
    app = create_app(settings, delivery_channel=FolderDelivery(partner))
    with serve_asgi(app, lifespan="on") as base:
        yield base, settings, partner


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        missing_real_part("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(**launch_options(CHROMIUM))
        try:
            yield b
        finally:
            b.close()


def _guard(page, dialogs: list[str], problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    # A CSP violation means our own CSS/JS was blocked (or something tried to inject): either is a bug.
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))


def _login(page, base: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/search")
    assert "/login" in page.url
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/search.*"))


def test_analyst_goes_from_search_to_a_sent_report(console, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, settings, partner = console
    shots = Path(os.environ.get("QY_SCREENSHOT_DIR") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    dialogs: list[str] = []
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = context.new_page()
    _guard(page, dialogs, problems)

    _login(page, base, "alice")

    # search: Chinese words, highlighted matches, facets, the hostile post shown as text
    page.fill("input.q", "停息挂账")
    page.press("input.q", "Enter")
    page.wait_for_selector("#total")
    assert int(page.inner_text("#total")) == 3  # lead generation only (the benign bank notice is left out)
    assert page.locator("mark", has_text="停息挂账").count() >= 3
    assert page.get_by_text("<script>alert(1)</script>", exact=False).count() >= 1
    assert page.get_by_text("<img src=x onerror=alert(1)>", exact=False).count() >= 1
    assert page.evaluate("document.querySelectorAll('main script, main img[src=x]').length") == 0
    assert page.locator(".facets").get_by_text("停息挂账/个性化分期代办").count() == 1
    page.screenshot(path=str(shots / "1-search.png"), full_page=True)

    # open the hostile hit: evidence screenshot loads, hash shown, related posts listed
    page.locator("article.hit", has_text="<script>alert(1)</script>").locator("a.open").click()
    page.wait_for_selector("h1.key")
    assert page.inner_text("h1.key") == "douyin:1001"
    assert page.get_by_text("<script>alert(1)</script>", exact=False).count() >= 1
    assert page.evaluate("document.querySelector('.ev img').naturalWidth") > 0
    assert page.locator("code.sha").count() == 1
    assert page.get_by_text("文件未改动").count() == 1
    page.screenshot(path=str(shots / "2-hit.png"), full_page=True)

    # review queue: opening it claims nothing; "n" takes the oldest item, "c" confirms, "d" + reason dismisses
    page.goto(f"{base}/review")
    assert page.locator(".review-item").count() == 0
    with page.expect_navigation():
        page.keyboard.press("n")
    first = page.get_attribute(".review-item", "data-key")
    assert first == "douyin:1001"
    page.screenshot(path=str(shots / "3-review.png"), full_page=True)

    # a second analyst, at the same time, gets a different item
    other = browser.new_context(locale="zh-CN").new_page()
    _guard(other, dialogs, problems)
    _login(other, base, "bob")
    other.goto(f"{base}/review")
    with other.expect_navigation():
        other.click("#take-next")
    bobs = other.get_attribute(".review-item", "data-key")
    assert bobs and bobs != first

    # Each key submits a form; wait for the new page, or the old page's flash would satisfy the wait. The first
    # "c" only shows what would be confirmed; the second confirms.
    page.keyboard.press("c")
    page.wait_for_selector("#confirm-check", state="visible")
    with page.expect_navigation():
        page.keyboard.press("c")
    page.wait_for_selector(".flash")
    assert "已确认" in page.inner_text(".flash")
    second = page.get_attribute(".review-item", "data-key")
    assert second not in (first, bobs)
    page.keyboard.press("d")
    assert page.evaluate("document.activeElement.id") == "reason-code"
    page.select_option("#reason-code", "bank_notice")
    page.fill("#reason", "银行官方提醒，不是中介")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector(".flash")
    assert "已排除" in page.inner_text(".flash")
    third = page.get_attribute(".review-item", "data-key")
    assert third not in (first, second, bobs)
    with page.expect_navigation():
        page.keyboard.press("n")  # skip: bob still holds his item, so alice's queue is now empty
    page.wait_for_selector("#queue-empty")

    store = open_store(settings)
    try:
        assert store.get(first).status is HitStatus.confirmed
        assert store.get(second).status is HitStatus.dismissed
    finally:
        store.close()

    # reports: build a batch from the confirmed hit, preview it, send it
    page.goto(f"{base}/reports")
    assert page.inner_text("#ready") == "1"
    with page.expect_navigation():
        page.click("#plan")
    assert page.inner_text("#plan-total") == "1"
    page.click("#build")
    page.wait_for_selector("tr.batch")
    assert "已生成 1 个批次" in page.inner_text(".flash")
    batch_id = page.get_attribute("tr.batch", "data-batch")
    assert batch_id and batch_id.startswith("QY-douyin-")
    with context.expect_page() as popup:
        page.click("a.preview")
    preview = popup.value
    _guard(preview, dialogs, problems)
    preview.wait_for_load_state()
    assert preview.get_by_text("<script>alert(1)</script>", exact=False).count() >= 1
    preview.screenshot(path=str(shots / "5-report-preview.png"), full_page=True)
    preview.close()

    page.click("button.send")
    page.wait_for_selector(".ds-delivered")
    assert (partner / batch_id / f"{batch_id}.xlsx").is_file()
    page.screenshot(path=str(shots / "4-reports.png"), full_page=True)

    page.goto(f"{base}/audit")
    audit = page.inner_text("table.grid")
    for what in ("确认违规", "排除", "生成举报批次", "发送举报批次"):  # review:confirmed ... report:send, named
        assert what in audit
    page.screenshot(path=str(shots / "6-audit.png"), full_page=True)

    assert dialogs == [], dialogs
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    context.close()
