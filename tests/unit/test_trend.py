"""The per-day trend: first seen from the index, confirmed and taken down from the casebook (never from the index's
copy of a status), by category or platform, on Beijing days."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from alerts.monitoring.trend import TrendBy, count_trend, group_name_zh, read_trend
from casebook import Casebook, DatedOutcome
from core.records import Category, Hit, HitStatus
from indexer.tantivy_store import TantivyHitStore
from tests import factories

TODAY = date(2026, 12, 6)  # Beijing
NOON = datetime(2026, 12, 6, 4, 0, tzinfo=timezone.utc)  # 12:00 in Beijing


def hit(post_id: str, first_seen: datetime, *, platform: str = "douyin", category: Category | None = None) -> Hit:
    post = factories.make_post(post_id, "停息挂账", platform=platform)
    verdict = factories.make_verdict(category=category or Category.stop_interest)
    return factories.make_hit(post, verdict, first_seen=first_seen, status=HitStatus.reported)


def test_counts_land_on_beijing_days_by_category_with_the_analysts_category_winning() -> None:
    hits = [
        hit("a", NOON),
        hit("b", datetime(2026, 12, 5, 17, 0, tzinfo=timezone.utc)),  # 01:00 on the 6th in Beijing
        hit("c", NOON - timedelta(days=1), category=Category.credit_repair),
        hit("old", NOON - timedelta(days=30)),  # before the period
    ]
    confirmations = [
        DatedOutcome("douyin:a", NOON, category="anti_collection"),  # the analyst recategorised it
        DatedOutcome("douyin:c", NOON - timedelta(days=1)),
        DatedOutcome("weibo:gone", NOON),  # no longer in the index
    ]
    removals = [DatedOutcome("douyin:c", NOON)]
    trend = count_trend(hits, confirmations, removals, by=TrendBy.category, days=3, today=TODAY)
    assert trend.days == (date(2026, 12, 4), date(2026, 12, 5), TODAY)
    rows = {(r.day, r.group): (r.first_seen, r.confirmed, r.taken_down) for r in trend.rows}
    assert rows == {
        (date(2026, 12, 5), "credit_repair"): (1, 1, 0),
        (TODAY, "stop_interest"): (2, 0, 0),
        (TODAY, "anti_collection"): (0, 1, 0),
        (TODAY, "credit_repair"): (0, 0, 1),
        (TODAY, "unknown"): (0, 1, 0),
    }
    today = trend.totals[TODAY]
    assert (today.first_seen, today.confirmed, today.taken_down) == (2, 2, 1)
    assert trend.totals[date(2026, 12, 4)].first_seen == 0 and trend.max_daily() == 2
    assert group_name_zh(TrendBy.category, "unknown") == "未分类"
    assert group_name_zh(TrendBy.category, "credit_repair") == "征信修复/洗白"


def test_by_platform_a_missing_hit_counts_under_its_keys_platform() -> None:
    hits = [hit("a", NOON), hit("k", NOON, platform="kuaishou")]
    removals = [DatedOutcome("weibo:gone", NOON)]
    trend = count_trend(hits, [], removals, by=TrendBy.platform, days=1, today=TODAY)
    assert {r.group: (r.first_seen, r.taken_down) for r in trend.rows} == {
        "douyin": (1, 0),
        "kuaishou": (1, 0),
        "weibo": (0, 1),
    }
    assert group_name_zh(TrendBy.platform, "kuaishou") == "快手"
    with pytest.raises(ValueError):
        count_trend(hits, [], [], by=TrendBy.platform, days=0, today=TODAY)


def test_the_casebook_gives_each_hits_first_confirmation_and_first_removal(tmp_path: Path) -> None:
    book = Casebook(f"sqlite:///{tmp_path / 'casebook.sqlite3'}")
    try:
        book.record_review("douyin:a", "ana", "confirmed", at=NOON - timedelta(days=2))
        book.record_review("douyin:a", "bob", "confirmed", at=NOON)  # a second look is not a second confirmation
        book.record_review("douyin:b", "ana", "dismissed", at=NOON)
        book.record_review("douyin:c", "ana", "confirmed", category_to="credit_repair", at=NOON)
        book.record_recheck("douyin:a", "still_up", at=NOON - timedelta(days=1))
        book.record_recheck("douyin:a", "removed", at=NOON)
        book.record_recheck("douyin:a", "removed", at=NOON + timedelta(hours=1))
        confirmed = book.first_confirmations()
        assert [(o.key, o.at, o.category) for o in confirmed] == [
            ("douyin:a", NOON - timedelta(days=2), None),
            ("douyin:c", NOON, "credit_repair"),
        ]
        assert [o.key for o in book.first_confirmations(since=NOON - timedelta(days=1))] == ["douyin:c"]
        assert [(o.key, o.at) for o in book.first_removals()] == [("douyin:a", NOON)]
        assert book.first_removals(since=NOON + timedelta(minutes=1)) == []
    finally:
        book.close()


def test_read_trend_counts_from_the_casebook_whatever_the_index_status(tmp_path: Path) -> None:
    store = TantivyHitStore(tmp_path / "index", writer_heap=15_000_000)
    book = Casebook(f"sqlite:///{tmp_path / 'casebook.sqlite3'}")
    try:
        store.upsert([hit("a", NOON), hit("b", NOON)])  # both "reported" in the index
        book.record_review("douyin:a", "ana", "confirmed", at=NOON)
        trend = read_trend(store, book, by=TrendBy.category, days=7, now=NOON + timedelta(hours=1))
        today = trend.totals[TODAY]
        assert (today.first_seen, today.confirmed, today.taken_down) == (2, 1, 0)
    finally:
        store.close()
        book.close()
