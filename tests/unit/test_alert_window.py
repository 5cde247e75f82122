"""The alert window (ending now or at the newest post) and the rule registry (names checked in one place)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from alerts.monitoring.registry import RULES, UnknownRule, evaluate, get_rules, plan_from_options, rule_names
from alerts.monitoring.rules import AlertRule, recent_hits
from alerts.monitoring.window import Anchor, format_window, newest_post_time, parse_window, window_end
from core.records import Category, ContactMatch, Hit, Label
from indexer.tantivy_store import TantivyHitStore
from tests import factories

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc)
NEWEST = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)  # the demo's data ends here, 15 days before NOW


def hit(post_id: str, at: datetime | None, *, author: str = "a", handle: tuple[str, str] | None = None) -> Hit:
    post = factories.make_post(post_id, "停息挂账可以的，我们这边专业处理", author_id=author, published_at=at)
    contacts = [ContactMatch(type=handle[0], value=handle[1], start=0, end=1)] if handle else []
    verdict = factories.make_verdict(label=Label.lead_gen, category=Category.stop_interest, contacts=contacts)
    return factories.make_hit(post, verdict, first_seen=NOW)


def demo_like() -> list[Hit]:
    """The demo's shared handle: two accounts, two weeks apart, a month before the clock."""
    return [
        hit("c1", NEWEST - timedelta(days=28), author="29107889435", handle=("wechat", "youhua02026")),
        hit("c2", NEWEST - timedelta(days=14), author="71017677458", handle=("telegram", "youhua02026")),
        hit("p3", NEWEST, author="1"),
    ]


@pytest.fixture()
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = TantivyHitStore(tmp_path / "index", writer_heap=15_000_000)
    yield s
    s.close()


def test_window_lengths_parse_and_print_back() -> None:
    assert parse_window("7d") == timedelta(days=7)
    assert parse_window("36h") == timedelta(hours=36)
    assert format_window(timedelta(days=30)) == "30d" and format_window(timedelta(hours=36)) == "36h"
    for bad in ("soon", "-3d", "0d", "30m", "99999d", "7 days"):
        with pytest.raises(ValueError):
            parse_window(bad)


def test_the_window_ends_now_or_at_the_newest_post_never_in_the_future(store: TantivyHitStore) -> None:
    assert window_end(Anchor.data, store, NOW) == NOW  # empty index: nothing to anchor on
    store.upsert([*demo_like(), hit("future", NOW + timedelta(days=400)), hit("undated", None)])
    assert newest_post_time(store, NOW) == NEWEST
    assert window_end(Anchor.data, store, NOW) == NEWEST
    assert window_end(Anchor.now, store, NOW) == NOW


def test_the_shared_handle_is_found_with_the_data_anchor_and_not_with_now(store: TantivyHitStore) -> None:
    store.upsert(demo_like())
    rules = get_rules(["campaign"])
    for anchor, window, found in ((Anchor.now, "30d", 0), (Anchor.data, "7d", 0), (Anchor.data, "30d", 1)):
        plan, _ = plan_from_options({"window": window, "anchor": anchor.value, "rules": ["campaign"]})
        end = window_end(plan.cfg.anchor, store, NOW)
        alerts = evaluate(recent_hits(store, end, plan.cfg), end, plan.cfg, rules=rules, raised_at=NOW)
        assert len(alerts) == found, (anchor, window)
    (alert,) = alerts
    assert alert.subject == "youhua02026" and alert.account_ids == ("douyin:29107889435", "douyin:71017677458")
    assert alert.window_end == NEWEST and alert.created_at == NOW  # anchored on the data, raised now


def test_the_default_window_is_the_one_the_rules_always_used() -> None:
    plan, rest = plan_from_options({"channel": "webhook", "url": "http://127.0.0.1:1/x"})
    assert plan.cfg.baseline_days == 7 and plan.cfg.window_hours == 24 and plan.cfg.anchor is Anchor.now
    assert [s.name for s in plan.rules] == [AlertRule.surge, AlertRule.campaign, AlertRule.near_duplicate]
    assert rest == {"channel": "webhook", "url": "http://127.0.0.1:1/x"}  # the channel's options pass through
    plan, _ = plan_from_options({"window": "30d", "anchor": "data"}, window="7d", anchor="now")
    assert plan.cfg.baseline_days == 30 and plan.cfg.anchor is Anchor.data


def test_every_rule_is_registered_once_and_bad_names_are_refused_with_the_valid_ones() -> None:
    assert set(RULES) == set(AlertRule) and rule_names() == [r.value for r in RULES]
    assert all(spec.title_zh and spec.description for spec in RULES.values())
    assert get_rules(["campaign", "surge"]) == (RULES[AlertRule.surge], RULES[AlertRule.campaign])
    with pytest.raises(UnknownRule) as caught:
        get_rules(["campaign", "bogus"])
    assert "'bogus'" in str(caught.value) and "surge, campaign, near_duplicate, delivery_failed" in str(caught.value)
    for options in ({"rules": ["bogus"]}, {"window": "soon"}, {"anchor": "yesterday"}):
        with pytest.raises(ValueError):
            plan_from_options(options)


def test_a_schedule_naming_an_unknown_rule_does_not_load(tmp_path: Path) -> None:
    from wiring.scheduler import load_schedule

    path = tmp_path / "schedule.toml"
    job = '[[jobs]]\nid = "alerts"\nkind = "alerts"\ninterval = "30m"\n[jobs.options]\n'
    path.write_text(job + 'rules = ["campaign"]\nwindow = "30d"\nanchor = "data"\n', encoding="utf-8")
    assert load_schedule(path).jobs[0].options["anchor"] == "data"
    path.write_text(job + 'rules = ["bogus"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"job alerts: .*unknown rule 'bogus'"):
        load_schedule(path)
