"""The alerts page in Debian chromium (Playwright): the window control (now vs the data's end), what each alert
matched with links to the hits and to search, and the per-day trend (table and inline SVG chart).

The data home is the console's browser-test home (real tantivy index, real casebook), whose posts were published
in November 2026, plus two posts sharing a handle that is markup (it must show as text, never run), fetched
yesterday; an analyst confirmed one hit and a re-check found another removed today.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from casebook import Casebook
from core.records import utcnow
from indexer import open_store
from tests import factories
from tests.integration.loopback import serve_asgi
from tests.integration.test_webui_browser import _guard, _login, browser  # noqa: F401 (the chromium fixture)
from tests.unit.test_webui import T0, seed_home
from webui.app import create_app

pytestmark = [pytest.mark.integration, pytest.mark.browser]

HANDLE = "<script>alert(2)</script>"  # no spaces: a handle is kept without them


@pytest.fixture
def console(tmp_path: Path) -> Iterator[str]:
    settings, _ = seed_home(tmp_path / "home")
    yesterday = utcnow() - timedelta(days=1)
    extra = []
    for n, author in enumerate(("broker05", "broker06")):
        text = f"停息挂账找我，卫星 {HANDLE}"
        post = factories.make_post(f"30{n}", text, author_id=author, published_at=T0 + timedelta(minutes=30 + n))
        contact = factories.contact_in(text, HANDLE)
        extra.append(factories.make_hit(post, factories.make_verdict(contacts=[contact]), first_seen=yesterday))
    store = open_store(settings)
    try:
        store.upsert(extra)
    finally:
        store.close()
    casebook = Casebook(settings.casebook)
    casebook.record_review("douyin:1002", "alice", "confirmed")
    casebook.record_recheck("douyin:1003", "removed")
    casebook.close()
    with serve_asgi(create_app(settings), lifespan="on") as base:
        yield base


def test_analyst_finds_the_shared_handles_and_reads_the_trend(console, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    base = console
    shots = Path(os.environ.get("QY_SCREENSHOT_DIR") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    dialogs: list[str] = []
    problems: list[str] = []
    page = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN").new_page()
    _guard(page, dialogs, problems)
    _login(page, base, "alice")

    # the nav link; the window ends now by default, and the data is a month old: nothing
    page.click("nav a[href='/alerts']")
    page.wait_for_selector("#alert-count")
    assert page.inner_text("#alert-count") == "0"
    assert page.locator("p.empty").count() == 1

    # anchored on the data with a 30-day window, both shared handles are campaigns
    page.fill("input[name=window]", "30d")
    page.select_option("select[name=anchor]", "data")
    page.select_option("select[name=rule]", "campaign")
    with page.expect_navigation():
        page.click(".alert-controls button[type=submit]")
    assert page.inner_text("#alert-count") == "2"
    assert page.input_value("input[name=window]") == "30d"
    campaigns = page.locator("article.alert[data-rule=campaign]")
    assert campaigns.count() == 2
    qy = campaigns.filter(has_text="qy8888")
    assert qy.locator(".rule").inner_text() == "引流团伙（共用联系方式）"
    assert "douyin:agent01" in qy.locator(".accounts").inner_text()
    assert "douyin:agent02" in qy.locator(".accounts").inner_text()
    assert qy.locator(".hits a").count() == 3
    hostile = campaigns.filter(has_text=HANDLE)  # shown as text
    assert hostile.locator("code.subject").inner_text() == HANDLE
    assert page.evaluate("document.querySelectorAll('main script').length") == 0
    page.screenshot(path=str(shots / "alerts.png"), full_page=True)

    # the trend: every day of the period has its three bars; today's confirmed and taken-down are counted
    assert page.locator("svg rect.bar").count() == 14 * 3
    assert (
        sum(int(v) for v in page.eval_on_selector_all("rect.bar-first_seen", "els => els.map(e => e.dataset.value)"))
        == 2
    )
    assert (
        sum(int(v) for v in page.eval_on_selector_all("rect.bar-confirmed", "els => els.map(e => e.dataset.value)"))
        == 1
    )
    assert (
        sum(int(v) for v in page.eval_on_selector_all("rect.bar-taken_down", "els => els.map(e => e.dataset.value)"))
        == 1
    )
    assert page.locator("table.trend tbody tr", has_text="停息挂账/个性化分期代办").count() >= 1
    page.select_option("select[name=by]", "platform")
    with page.expect_navigation():
        page.click(".trend-controls button[type=submit]")
    assert page.locator("table.trend tbody tr[data-group=douyin]", has_text="抖音").count() >= 1
    assert page.locator("#alert-count").inner_text() == "2"  # the window control is kept
    page.screenshot(path=str(shots / "trend.png"), full_page=True)

    # from an alert to its hits: the search that shows what matched, and one hit's page
    with page.expect_navigation():
        page.locator("article.alert", has_text="qy8888").locator("a.search").click()
    assert int(page.inner_text("#total")) == 3
    page.go_back()
    with page.expect_navigation():
        page.locator("article.alert", has_text="qy8888").locator(".hits a").first.click()
    assert page.inner_text("h1.key").startswith("douyin:")

    assert dialogs == []
    # a CSP refusal would mean the chart or the stylesheet was blocked (the browser's favicon 404 is not ours)
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
