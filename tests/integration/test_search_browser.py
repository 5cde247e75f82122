"""Search in Debian chromium (Playwright): a query with OR/NOT/field, an error that keeps the form, the benign
toggle, CSV export of the result, and a saved search run again from the list."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.loopback import serve_asgi
from tests.integration.test_webui_browser import _guard, _login, browser  # noqa: F401 (fixture)
from tests.unit.test_webui import seed_home
from webui.app import create_app

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def base(tmp_path: Path) -> Iterator[str]:
    settings, _ = seed_home(tmp_path / "home")
    with serve_asgi(create_app(settings), lifespan="on") as url:
        yield url


def _keys(page) -> list[str]:  # type: ignore[no-untyped-def]
    hrefs = page.eval_on_selector_all("article.hit a.open", "els => els.map(e => e.getAttribute('href'))")
    return sorted(h.split("key=")[1].replace("%3A", ":") for h in hrefs)


def test_query_language_errors_export_and_saved_search(base: str, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    dialogs: list[str] = []
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    _guard(page, dialogs, problems)
    _login(page, base, "alice")

    # OR, NOT and a field with a Chinese value
    query = "(停息挂账 OR zx) NOT 详聊 platform:抖音"
    page.fill("input.q", query)
    page.press("input.q", "Enter")
    page.wait_for_selector("#total")
    assert _keys(page) == ["douyin:1001", "douyin:1002", "douyin:1004"]
    assert int(page.inner_text("#total")) == 3

    # a query that cannot be read: a Chinese message above the form, the query still in the box, HTTP 400
    with page.expect_response(re.compile(r".*/search\?.*")) as answer:
        page.fill("input.q", "(停息挂账 OR zx")
        page.press("input.q", "Enter")
    assert answer.value.status == 400
    assert "左括号没有闭合" in page.inner_text("#search-error")
    assert page.input_value("input.q") == "(停息挂账 OR zx"
    assert page.locator("input.q[aria-invalid=true]").count() == 1

    # the benign toggle adds the bank's notice
    page.fill("input.q", "停息挂账")
    page.press("input.q", "Enter")
    page.wait_for_selector("#total")
    leads = int(page.inner_text("#total"))
    page.check("#include-benign")
    page.press("input.q", "Enter")
    page.wait_for_function(f"document.querySelector('#total') && +document.querySelector('#total').innerText > {leads}")
    assert "douyin:2001" in _keys(page)

    # CSV export of exactly what is shown
    with page.expect_download() as download:
        page.click("#csv-export")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    assert rows[0][:2] == ["key", "platform"]
    assert sorted(r[0] for r in rows[1:]) == _keys(page)
    assert {r[1] for r in rows[1:]} == {"抖音"}

    # save it, find it in the list, run it again from there
    page.fill("#save-search input[name=name]", "停息挂账 全部")
    page.click("#save-search button")
    page.wait_for_selector(".flash")
    assert "已保存搜索" in page.inner_text(".flash")
    page.goto(f"{base}/search")
    page.click("#saved-searches a:text('停息挂账 全部')")
    page.wait_for_selector("#total")
    assert page.input_value("input.q") == "停息挂账"
    assert page.is_checked("#include-benign")
    assert "douyin:2001" in _keys(page)

    # Refused loads are the bad query's 400 (asked for) and chromium's favicon probe; scripts must not fail.
    assert dialogs == [] and [p for p in problems if "Failed to load resource" not in p] == [], problems
    context.close()
