"""The review page in Debian chromium: how many items are left for this analyst, the post a comment answers, the
crop around the comment (cut by the crawl's own code from a real chromium screenshot) with the whole page a click
away, and number keys picking the category."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image

from core.evidence import collect_evidence, item_crop_path, screenshot_path
from core.records import CATEGORY_NAMES_ZH, Category, Hit, Label
from core.settings import Settings
from crawlers.browser import ITEM_BOXES_JS, context_options, launch_options
from crawlers.itemcrop import item_boxes, save_item_crops
from indexer import open_store
from tests import factories
from tests.integration.conftest import missing_real_part
from tests.integration.loopback import serve_asgi
from tests.integration.test_webui_browser import _guard, _login
from webui.app import create_app
from webui.auth import add_user

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
PARENT_TEXT = "停息挂账 个性化分期 专业团队协商 💯成功"
COMMENT_TEXT = "要办的加🐧 12345678，评论区扣1"
PLATFORM_PAGE = f"""<!doctype html><meta charset="utf-8"><body style="margin:0;font:16px sans-serif">
<article class="post" data-post-id="900" style="margin:20px;padding:20px;background:#eef">{PARENT_TEXT}</article>
<ul style="list-style:none;padding:0 20px">
{"".join(f'<li class="comment" data-comment-id="c{i}" style="height:60px">评论 {i}</li>' for i in range(1, 30))}
<li class="comment" data-comment-id="c42" style="height:60px;background:#fde">{COMMENT_TEXT}</li>
</ul></body>"""


def _crawl_page(settings: Settings, browser) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """What the demo spider does on a video page: boxes, full-page screenshot, crops."""
    page = browser.new_context(**context_options()).new_page()
    page.set_content(PLATFORM_PAGE)
    specs = [
        {"selector": "article.post[data-post-id]", "attr": "data-post-id", "prefix": ""},
        {"selector": "li.comment[data-comment-id]", "attr": "data-comment-id", "prefix": ""},
    ]
    boxes = item_boxes(page.evaluate(ITEM_BOXES_JS, specs))
    shot = screenshot_path(settings, "demo", "900")
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    written = save_item_crops(settings, "demo", shot, {k: boxes[k] for k in ("900", "c42")})
    with Image.open(shot) as full, Image.open(written["c42"]) as crop:
        return {"page_h": full.size[1], "crop_w": crop.size[0], "crop_h": crop.size[1]}


def _hits(settings: Settings) -> list[Hit]:
    t0 = factories.T0
    parent = factories.make_post("900", PARENT_TEXT, platform="demo", kind="caption", fetched_at=t0)
    comment = factories.make_post(
        "c42", COMMENT_TEXT, platform="demo", kind="comment", parent_key="demo:900", fetched_at=t0
    )
    posts = [comment, parent] + [
        factories.make_post(f"d{i}", f"征信修复 第{i}条", platform="demo", fetched_at=t0) for i in range(3)
    ]
    hits = [
        factories.make_hit(
            post,
            factories.make_verdict(score=0.97 - i / 100, category=Category.stop_interest),
            evidence=collect_evidence(settings, post),
            first_seen=t0 + timedelta(minutes=i),
        )
        for i, post in enumerate(posts)
    ]
    benign = factories.make_post("b1", "银行提醒：谨防停息挂账骗局", platform="demo")
    return [*hits, factories.make_hit(benign, factories.make_verdict(label=Label.benign, score=0.02))]


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


@pytest.fixture
def console(tmp_path: Path, browser) -> Iterator[tuple[str, Settings, dict[str, int]]]:  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path / "home", elasticsearch_url=None, casebook_url=None)
    settings.ensure_dirs()
    sizes = _crawl_page(settings, browser)
    store = open_store(settings)
    try:
        store.upsert(_hits(settings))
    finally:
        store.close()
    for name in ("alice", "bob"):
        add_user(settings, name, "correct horse battery")
    with serve_asgi(create_app(settings), lifespan="on") as base:
        yield base, settings, sizes


def _left(page) -> int:  # type: ignore[no-untyped-def]
    text = page.inner_text("#remaining")
    assert re.fullmatch(r"还剩 \d+ 条待审", text), text
    return int(page.get_attribute("#remaining", "data-count"))


def test_review_shows_what_is_left_the_parent_the_crop_and_takes_number_keys(console, browser) -> None:  # type: ignore[no-untyped-def]
    base, settings, sizes = console
    dialogs: list[str] = []
    problems: list[str] = []
    page = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN").new_page()
    page.context.route("**/favicon.ico", lambda route: route.fulfill(status=204))  # the console has none
    _guard(page, dialogs, problems)
    _login(page, base, "alice")
    page.goto(f"{base}/review")
    assert _left(page) == 5  # five lead-generation items; the benign post is not queued

    with page.expect_navigation():
        page.keyboard.press("n")
    assert page.get_attribute(".review-item", "data-key") == "demo:c42"
    assert _left(page) == 5  # the one on screen is still to be decided

    # the post the comment answers, with its score and link
    parent = page.locator("#parent-post")
    assert PARENT_TEXT in parent.inner_text()
    assert page.inner_text("#parent-score") == "0.96"
    assert page.get_attribute("#parent-link", "href") == "/hit?key=demo%3A900"

    # the crop around the comment, not the 30-comment page; the whole page one click away
    crop = page.locator("#item-crop img")
    natural = page.evaluate(
        "[document.querySelector('#item-crop img').naturalWidth, "
        "document.querySelector('#item-crop img').naturalHeight]"
    )
    assert natural == [sizes["crop_w"], sizes["crop_h"]] and natural[1] < sizes["page_h"] / 3
    assert crop.get_attribute("src").endswith("/c42.item.png")
    full = page.get_attribute("#full-page", "href")
    assert full.endswith("/evidence/demo/900.png")
    assert page.request.get(base + full).headers["content-type"] == "image/png"
    assert item_crop_path(settings, "demo", "c42").is_file()

    # number keys: the legend lists the nine categories in order; a key picks one in the decision form
    legend = page.locator("#category-keys li")
    assert legend.count() == 9
    assert [legend.nth(i).inner_text().split(" ", 1)[1] for i in range(9)] == list(CATEGORY_NAMES_ZH.values())
    select = "#confirm-form select[name=category]"
    assert page.eval_on_selector(select, "s => s.value") == "stop_interest"
    page.keyboard.press("3")
    assert page.eval_on_selector(select, "s => s.value") == list(Category)[2].value
    assert "picked" in (page.get_attribute("#category-keys li[data-key='3']", "class") or "")
    page.keyboard.press("9")
    assert page.eval_on_selector(select, "s => s.value") == "document_forgery"
    assert page.get_attribute(".review-item", "data-key") == "demo:c42"  # picking submits nothing

    # what others hold and what this analyst skipped is not hers to be given
    bob = browser.new_context(locale="zh-CN").new_page()
    bob.context.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    _guard(bob, dialogs, problems)
    _login(bob, base, "bob")
    bob.goto(f"{base}/review")
    with bob.expect_navigation():
        bob.click("#take-next")
    page.reload()
    assert _left(page) == 4
    with page.expect_navigation():
        page.keyboard.press("n")  # skip the comment
    assert page.get_attribute(".review-item", "data-key") not in ("demo:c42", None)
    assert _left(page) == 3

    # the hit page shows the crop with the item's box, linking to the whole page
    page.goto(f"{base}/hit?key=demo%3Ac42")
    figure = page.locator("figure.ev", has_text="内容截图")
    assert figure.locator("img").evaluate("i => i.naturalWidth") == sizes["crop_w"]
    assert figure.locator("a.full-page").get_attribute("href").endswith("/evidence/demo/900.png")
    assert re.search(r"位置 x=\d+ y=\d+", figure.inner_text())
    assert not dialogs and not problems
