"""The console on a 390 x 844 phone in Debian chromium (Playwright): no page scrolls sideways and the controls an
analyst needs are on screen, on the login, search, hit, review, reports and audit pages; a refused batch form comes
back with its message and the inputs as typed (HTTP 400)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.test_webui_browser import _guard, _login, browser, console  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


def _layout(page: Any, name: str, controls: list[str]) -> list[str]:
    """What does not fit: the page's own width, and each control hidden or cut off at the sides."""
    problems = []
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        problems.append(f"{name}: scrollWidth {width}")
    for selector in controls:
        control = page.locator(selector).first
        if not control.is_visible():
            problems.append(f"{name}: {selector} not visible")
            continue
        box = control.bounding_box()
        if box is None or box["x"] < 0 or box["x"] + box["width"] > PHONE["width"] + 0.5:
            problems.append(f"{name}: {selector} outside the screen ({box})")
    return problems


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]  # noqa: F811
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_every_page_fits_a_390px_phone(console, phone) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    base, _settings, _partner = console
    page, dialogs, errors = phone, [], []
    _guard(page, dialogs, errors)
    problems = []

    page.goto(f"{base}/login")
    problems += _layout(page, "login", ["input[name=name]", "input[name=password]", "button.primary"])
    _login(page, base, "alice")

    page.goto(f"{base}/search?q=停息挂账")
    page.wait_for_selector("#total")
    problems += _layout(page, "search", ["input.q", ".searchbar button.primary", "select[name=status]", "a.open"])

    page.goto(f"{base}/hit?key=douyin:1002")
    problems += _layout(page, "hit", ["h1.key", ".verdict .facts", ".evidence figcaption", "nav a[href='/audit']"])

    page.goto(f"{base}/review")
    with page.expect_navigation():
        page.click("#take-next")
    problems += _layout(page, "review", ["#confirm", "#reason", "#dismiss", "#skip", "select[name=category]"])
    with page.expect_navigation():
        page.click("#confirm")

    page.goto(f"{base}/reports")
    with page.expect_navigation():
        page.click("#plan")
    problems += _layout(page, "batch preview", ["#build", "#plan-total"])
    with page.expect_navigation():
        page.click("#build")
    page.wait_for_selector("tr.batch")
    problems += _layout(page, "reports", ["#plan", "select[name=platform]", "input[name=min_score]", ".scroll-x"])

    page.goto(f"{base}/audit")
    problems += _layout(page, "audit", ["h1", ".scroll-x", "header.top button"])

    assert problems == []
    assert dialogs == [], dialogs
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors  # CSS/JS all loaded


def test_a_bad_score_in_the_batch_form_comes_back_with_the_message_and_the_inputs(console, phone) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    base, _settings, _partner = console
    page = phone
    _login(page, base, "alice")
    page.goto(f"{base}/reports")
    page.select_option("select[name=platform]", "douyin")
    page.check("input[name=include_unreviewed]")
    page.fill("input[name=min_score]", "0,8")
    with page.expect_response(lambda r: "/reports/plan" in r.url) as answer:
        page.click("#plan")
    assert answer.value.status == 400
    page.wait_for_selector("#build-error")
    assert "置信度阈值无效" in page.inner_text("#build-error")
    assert page.input_value("input[name=min_score]") == "0,8"
    assert page.is_checked("input[name=include_unreviewed]")
    assert page.input_value("select[name=platform]") == "douyin"
    assert page.locator("tr.batch").count() == 0  # nothing was built
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # corrected, the same form previews and builds
    page.fill("input[name=min_score]", "0.8")
    with page.expect_navigation():
        page.click("#plan")
    with page.expect_navigation():
        page.click("#build")
    page.wait_for_selector("tr.batch")
