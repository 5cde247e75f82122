"""Decisions built for speed, in Debian chromium (Playwright) against the real console, index and casebook:
`c` shows what it would confirm before confirming and the confirm can be undone (an audited reopen); one dismissal
with a preset reason covers six near-identical copies (each recorded); the batch preview lists what a build would
hold, with counts, and an item unticked there stays out of the batch."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from casebook import Casebook
from core.records import HitStatus
from indexer import open_store
from tests.integration.loopback import serve_asgi
from tests.integration.test_webui_browser import _guard, _login, browser  # noqa: F401  (the fixture)
from tests.unit.test_webui import make_hit, seed_home
from webui.app import create_app

pytestmark = [pytest.mark.integration, pytest.mark.browser]

# A victim's warning, posted six times by a brigade of well-meaning accounts: it names the agency's words, so the
# model leans lead_gen, and an analyst should dismiss all six at once.
WARNING = "我被停息挂账中介骗了八千块，大家千万别信评论区扣1的，都是骗子，已经报警"
COPIES = [f"77{i}" for i in range(6)]


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, object]]:
    settings, _ = seed_home(tmp_path / "home")
    store = open_store(settings)
    try:  # right after douyin:1001 (minute 0) in the queue's oldest-first order
        store.upsert(
            make_hit(settings, key, WARNING + ("！" if i % 2 else ""), score=0.66, minutes=1, author=f"victim{i}")
            for i, key in enumerate(COPIES)
        )
    finally:
        store.close()
    with serve_asgi(create_app(settings), lifespan="on") as base:
        yield base, settings


def _statuses(settings, keys: list[str]) -> dict[str, HitStatus]:  # type: ignore[no-untyped-def]
    store = open_store(settings)
    try:
        return {h.key: h.status for h in store.get_many(keys)}
    finally:
        store.close()


def test_confirm_undo_cluster_dismissal_and_preview_removal(console, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    base, settings = console
    shots = Path(os.environ.get("QY_SCREENSHOT_DIR") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    dialogs: list[str] = []
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = context.new_page()
    _guard(page, dialogs, problems)
    _login(page, base, "alice")

    page.goto(f"{base}/review")
    with page.expect_navigation():
        page.keyboard.press("n")
    assert page.get_attribute(".review-item", "data-key") == "douyin:1001"

    # c shows the category it would confirm and waits; nothing is decided yet
    page.keyboard.press("c")
    page.wait_for_selector("#confirm-check", state="visible")
    assert page.inner_text("#confirm-what") == "停息挂账/个性化分期代办"
    assert _statuses(settings, ["douyin:1001"])["douyin:1001"] is HitStatus.new
    page.screenshot(path=str(shots / "decide-1-confirm-check.png"), full_page=True)
    with page.expect_navigation():
        page.keyboard.press("c")
    assert "已确认为「停息挂账/个性化分期代办」：douyin:1001" in page.inner_text(".flash")
    assert _statuses(settings, ["douyin:1001"])["douyin:1001"] is HitStatus.confirmed

    # undo: the decision is reopened (audited) and the item is back, claimed by the same analyst
    with page.expect_navigation():
        page.keyboard.press("u")
    assert "已撤销" in page.inner_text(".flash")
    assert page.get_attribute(".review-item", "data-key") == "douyin:1001"
    assert _statuses(settings, ["douyin:1001"])["douyin:1001"] is HitStatus.new
    casebook = Casebook(settings.casebook)
    try:
        assert [r.decision for r in casebook.list_reviews("douyin:1001")] == ["reopened", "confirmed"]
        assert casebook.state("douyin:1001") is HitStatus.claimed
    finally:
        casebook.close()

    # confirm it for real, then the next item is one of six copies: one dismissal covers the cluster
    page.keyboard.press("c")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # the confirm button has the focus once the check is shown
    first_copy = page.get_attribute(".review-item", "data-key")
    assert first_copy in {f"douyin:{k}" for k in COPIES}
    assert page.inner_text("#cluster-count") == "5"
    page.keyboard.press("d")
    assert page.evaluate("document.activeElement.id") == "reason-code"
    page.select_option("#reason-code", "victim")
    page.screenshot(path=str(shots / "decide-2-cluster.png"), full_page=True)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    flash = page.inner_text(".flash")
    assert "已排除（受害人求助/讲述）" in flash and "连同 5 条近似内容" in flash
    keys = [f"douyin:{k}" for k in COPIES]
    assert set(_statuses(settings, keys).values()) == {HitStatus.dismissed}
    casebook = Casebook(settings.casebook)
    try:
        rows = [casebook.list_reviews(k)[0] for k in keys]
        assert {(r.decision, r.reason_code, r.analyst) for r in rows} == {("dismissed", "victim", "alice")}
        assert casebook.states(["douyin:1001"]) == {"douyin:1001": HitStatus.confirmed}
    finally:
        casebook.close()

    # preview before build: counts, who reviewed what; untick one item and build the rest
    page.goto(f"{base}/reports")
    page.check("input[name=include_unreviewed]")
    page.fill("input[name=min_score]", "0.9")
    with page.expect_navigation():
        page.click("#plan")
    # 1001 confirmed + 1003, 1004 unreviewed at 0.95; 1002 is alice's current queue item (claimed): left out
    assert page.inner_text("#plan-total") == "3"
    assert page.inner_text("#plan-unreviewed") == "2"
    assert page.locator("tr.plan-item[data-key='douyin:1002']").count() == 0
    assert re.search(r"抖音\s*3", page.inner_text("#plan-platforms"))
    assert "征信修复/洗白 1" in page.inner_text("#plan-categories")
    page.uncheck("tr.plan-item[data-key='douyin:1003'] input[name=keys]")
    page.screenshot(path=str(shots / "decide-3-preview.png"), full_page=True)
    with page.expect_navigation():
        page.click("#build")
    assert "共 2 条（其中 1 条未经人工审核）" in page.inner_text(".flash")
    casebook = Casebook(settings.casebook)
    try:
        (batch,) = casebook.list_batches()
        assert sorted(batch.item_keys) == ["douyin:1001", "douyin:1004"]
        removed = [a for a in casebook.list_audit() if a.what == "report:removed_from_preview"]
        assert [a.details["keys"] for a in removed] == [["douyin:1003"]]
    finally:
        casebook.close()
    assert _statuses(settings, ["douyin:1001", "douyin:1003"]) == {
        "douyin:1001": HitStatus.batched,
        "douyin:1003": HitStatus.new,
    }
    assert dialogs == [], dialogs
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    context.close()
