"""Alert rules over Hits built directly with controlled times: surges, campaigns, near-duplicate clusters, the log."""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from alerts.monitoring.notify import AlertDigest, NotifyError, build_digest, digest_id, digest_text, notify, run_alerts
from alerts.monitoring.registry import evaluate
from alerts.monitoring.rules import (
    Alert,
    AlertConfig,
    AlertLog,
    AlertRule,
    campaign_alerts,
    near_duplicate_alerts,
    normalise_for_shingles,
    surge_alerts,
)
from alerts.takedown.delivery import PermanentDeliveryError, RetryableDeliveryError, RetryPolicy
from core.records import (
    Category,
    ContactMatch,
    Hit,
    HitStatus,
    Label,
    Platform,
    SlangMatch,
)
from core.settings import Settings
from tests import factories

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
CFG = AlertConfig()
FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01, jitter=0.0)
_seq = iter(range(10**6))


def make_hit(
    text: str = "停息挂账 个性化分期 私信",
    *,
    at: datetime | None = NOW - timedelta(hours=1),
    author: str | None = "a1",
    category: Category | None = Category.stop_interest,
    slang: tuple[str, ...] = (),
    contacts: tuple[tuple[str, str], ...] = (),
    label: Label = Label.lead_gen,
    status: HitStatus = HitStatus.new,
    platform: Platform = Platform.douyin,
    post_id: str | None = None,
    first_seen: datetime = NOW,
) -> Hit:
    post = factories.make_post(
        post_id or f"p{next(_seq)}",
        text,
        platform=platform,
        url="",
        author_id=author,
        published_at=at,
        fetched_at=first_seen,
    )
    verdict = factories.make_verdict(
        label=label,
        category=category,
        slang=[SlangMatch(surface=s, canonical=s, start=0, end=len(s)) for s in slang],
        contacts=[ContactMatch(type=t, value=v, start=0, end=len(v)) for t, v in contacts],
    )
    return factories.make_hit(post, verdict, status=status, first_seen=first_seen)


def baseline_hits(per_day: int, category: Category = Category.stop_interest, slang: tuple[str, ...] = ()) -> list[Hit]:
    """`per_day` hits on each of the 7 baseline days (before the current 24 h window)."""
    out = []
    for day in range(1, 8):
        for i in range(per_day):
            at = NOW - timedelta(days=day, hours=1 + i)
            out.append(make_hit(at=at, category=category, slang=slang, author=f"b{day}-{i}"))
    return out


def window_hits(n: int, category: Category = Category.stop_interest, slang: tuple[str, ...] = ()) -> list[Hit]:
    return [make_hit(at=NOW - timedelta(hours=1 + i), category=category, slang=slang, author=f"w{i}") for i in range(n)]


# --- surge --------------------------------------------------------------------------------------------------------


def test_surge_over_a_quiet_baseline_raises_category_and_slang_alerts() -> None:
    hits = baseline_hits(1, slang=("停息挂账",)) + window_hits(6, slang=("停息挂账",))
    alerts = surge_alerts(hits, NOW, CFG)
    by_subject = {(a.subject_kind, a.subject): a for a in alerts}
    assert set(by_subject) == {("category", "stop_interest"), ("slang", "停息挂账")}
    cat = by_subject[("category", "stop_interest")]
    assert cat.rule is AlertRule.surge and cat.current == 6 and cat.baseline == pytest.approx(1.0)
    assert cat.window_start == NOW - timedelta(hours=24) and cat.window_end == NOW
    assert len(cat.hit_keys) == 6 and cat.accounts == 6
    assert "停息挂账" in cat.title and "Surge" in cat.summary


def test_steady_baseline_does_not_surge() -> None:
    # 5 a day for a week, 6 today: over the minimum count but under 3x the baseline mean.
    assert surge_alerts(baseline_hits(5) + window_hits(6), NOW, CFG) == []


def test_surge_needs_the_minimum_count_even_from_zero() -> None:
    assert surge_alerts(window_hits(4), NOW, CFG) == []
    (alert,) = surge_alerts(window_hits(5), NOW, CFG)
    assert alert.current == 5 and alert.baseline == 0.0


def test_benign_dismissed_future_and_old_hits_do_not_count() -> None:
    hits = window_hits(4)
    hits.append(make_hit(label=Label.benign))
    hits.append(make_hit(status=HitStatus.dismissed))
    hits.append(make_hit(at=NOW + timedelta(hours=2)))  # clock skew: after `now`
    hits.append(make_hit(at=NOW - timedelta(days=30)))
    assert surge_alerts(hits, NOW, CFG) == []
    hits.append(make_hit(status=HitStatus.confirmed))
    assert [a.current for a in surge_alerts(hits, NOW, CFG)] == [5]


def test_first_seen_is_used_when_published_at_is_missing() -> None:
    inside = [make_hit(at=None, first_seen=NOW - timedelta(hours=2), author=f"x{i}") for i in range(5)]
    outside = [make_hit(at=None, first_seen=NOW - timedelta(days=3), author=f"y{i}") for i in range(5)]
    (alert,) = surge_alerts(inside, NOW, CFG)
    assert alert.current == 5
    assert surge_alerts(outside, NOW, CFG) == []


# --- campaign -----------------------------------------------------------------------------------------------------


def test_one_wechat_id_across_three_accounts_is_a_campaign() -> None:
    hits = [
        make_hit(contacts=(("wechat", "Debt_Help88"),), author="u1"),
        make_hit(contacts=(("wechat", "debt_help88"),), author="u2", at=NOW - timedelta(days=3)),
        make_hit(contacts=(("wechat", "ＤＥＢＴ_help８８"),), author="u3", platform=Platform.kuaishou),  # full-width
    ]
    (alert,) = campaign_alerts(hits, NOW, CFG)
    assert alert.rule is AlertRule.campaign and alert.subject == "debt_help88" and "wechat" in alert.title
    assert alert.accounts == 3 and alert.current == 3 and len(alert.hit_keys) == 3
    assert alert.account_ids == ("douyin:u1", "douyin:u2", "kuaishou:u3")
    assert alert.platforms == ("douyin", "kuaishou")


def test_one_busy_account_is_not_a_campaign_but_two_accounts_are() -> None:
    one = [make_hit(contacts=(("wechat", "abc123"),), author="u1") for _ in range(4)]
    assert campaign_alerts(one, NOW, CFG) == []
    two = [make_hit(contacts=(("wechat", "abc123"),), author=a) for a in ("u1", "u2", "u2", "u2")]
    (alert,) = campaign_alerts(two, NOW, CFG)
    assert alert.accounts == 2 and len(alert.hit_keys) == 4
    assert campaign_alerts(two, NOW, CFG.model_copy(update={"campaign_min_accounts": 3})) == []
    anonymous = [make_hit(contacts=(("wechat", "abc123"),), author=None) for _ in range(5)]
    assert campaign_alerts(anonymous, NOW, CFG) == []


def test_campaign_ignores_call_to_action_and_hits_older_than_the_baseline() -> None:
    cta = [make_hit(contacts=(("call_to_action", "私信"),), author=f"u{i}") for i in range(5)]
    assert campaign_alerts(cta, NOW, CFG) == []
    old = [make_hit(contacts=(("qq", "123456"),), author=f"u{i}", at=NOW - timedelta(days=8)) for i in range(5)]
    assert campaign_alerts(old, NOW, CFG) == []


def test_phone_numbers_match_however_written() -> None:
    hits = [
        make_hit(contacts=(("phone", "138 0013 8000"),), author="u1"),
        make_hit(contacts=(("phone", "+86-138-0013-8000"),), author="u2"),
        make_hit(contacts=(("phone", "13800138000"),), author="u3"),
    ]
    (alert,) = campaign_alerts(hits, NOW, CFG)
    assert alert.subject == "13800138000"


def test_one_handle_behind_different_channel_words_is_one_campaign() -> None:
    # What the demo's agency does: 飞机 youhua02026 (telegram) and 卫星:youhua02026 (wechat).
    hits = [
        make_hit(contacts=(("telegram", "youhua02026"),), author="u1"),
        make_hit(contacts=(("wechat", "YouHua02026"),), author="u2", at=NOW - timedelta(days=5)),
    ]
    (alert,) = campaign_alerts(hits, NOW, CFG)
    assert alert.subject == "youhua02026" and "telegram/wechat" in alert.title and alert.accounts == 2


# --- near-duplicates ----------------------------------------------------------------------------------------------

SCRIPT = "停息挂账找我们，专业团队帮你协商个性化分期，逾期不用怕，不成功不收费，加V信详聊，电话{phone}"
UNRELATED = [
    "征信花了也能修复，黑白户都可以做，私信了解详细流程",
    "反催收防爆通讯录，催收再也打不到你的家人朋友",
    "代理退保全额退，只收少量服务费，保险公司不退我们来",
    "网贷逾期三年的上岸经历分享，自己和平台协商成功了",
]


def test_posts_that_differ_only_by_phone_number_cluster() -> None:
    dupes = [
        make_hit(SCRIPT.format(phone="13800138000"), author="d1"),
        make_hit(SCRIPT.format(phone="139-0000-1111"), author="d2"),
        make_hit("  " + SCRIPT.format(phone="１５０ ２２２２ ３３３３") + " 🔥🔥", author="d3"),  # decorated
        make_hit(SCRIPT.format(phone="18612345678").replace("，", "\u200b "), author="d4"),  # zero-width junk
    ]
    others = [make_hit(t, author=f"o{i}") for i, t in enumerate(UNRELATED)]
    (alert,) = near_duplicate_alerts(dupes + others, NOW, CFG)
    assert alert.rule is AlertRule.near_duplicate and alert.subject_kind == "cluster"
    assert set(alert.hit_keys) == {h.key for h in dupes}
    assert alert.current == 4 and alert.accounts == 4


def test_unrelated_posts_and_single_author_repeats_do_not_cluster() -> None:
    assert near_duplicate_alerts([make_hit(t, author=f"o{i}") for i, t in enumerate(UNRELATED)], NOW, CFG) == []
    same_author = [make_hit(SCRIPT.format(phone=str(13800000000 + i)), author="one") for i in range(5)]
    assert near_duplicate_alerts(same_author, NOW, CFG) == []
    short = [make_hit("扣1私信", author=f"s{i}") for i in range(5)]
    assert near_duplicate_alerts(short, NOW, CFG) == []


def test_near_duplicates_only_in_the_window() -> None:
    old = [make_hit(SCRIPT.format(phone="1"), author=f"d{i}", at=NOW - timedelta(days=2)) for i in range(4)]
    assert near_duplicate_alerts(old, NOW, CFG) == []


def test_normalisation_drops_digits_punctuation_and_junk() -> None:
    assert normalise_for_shingles("征.信 修复 V信:abc 123！\u200b") == "征信修复v信abc"


# --- ids, the log, run_alerts ------------------------------------------------------------------------------------


def scenario() -> list[Hit]:
    hits = baseline_hits(1) + window_hits(6)
    hits += [make_hit(contacts=(("wechat", "abc123"),), author=f"c{i}") for i in range(3)]
    hits += [make_hit(SCRIPT.format(phone=str(13900000000 + i)), author=f"d{i}") for i in range(3)]
    return hits


def test_every_rule_fires_and_ids_are_stable_within_the_window() -> None:
    first = evaluate(scenario(), NOW, CFG)
    assert {a.rule for a in first} == {AlertRule.surge, AlertRule.campaign, AlertRule.near_duplicate}
    assert len({a.id for a in first}) == len(first)
    hits = scenario()
    now_ids = {a.id for a in evaluate(hits, NOW, CFG)}
    assert {a.id for a in evaluate(hits, NOW + timedelta(hours=1), CFG)} == now_ids
    # the next day's window is a new period: a surge still going on is raised again, once
    later = [make_hit(at=NOW + timedelta(hours=12 + i), author=f"n{i}") for i in range(6)]
    next_day = evaluate(hits + later, NOW + timedelta(hours=13), CFG)
    assert {a.id for a in next_day if a.rule is AlertRule.surge}.isdisjoint(now_ids)


def test_run_alerts_twice_logs_each_alert_once(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    hits = scenario()
    first = run_alerts(hits, settings=settings, now=NOW)
    assert first["evaluated_hits"] == len(hits) and first["raised"] >= 3 and first["new"] == first["raised"]
    second = run_alerts(hits, settings=settings, now=NOW + timedelta(minutes=30))
    assert second["raised"] == first["raised"] and second["new"] == 0
    log = AlertLog.for_settings(settings)
    assert log.path == tmp_path / "state" / "alerts.jsonl"
    assert len(log.list(limit=100)) == first["raised"]
    assert [a.rule for a in log.list(limit=100, rule="campaign")] == [AlertRule.campaign]
    assert len(log.list(limit=1)) == 1


def test_log_survives_a_torn_last_line(tmp_path: Path) -> None:
    log = AlertLog(tmp_path / "alerts.jsonl")
    alerts = evaluate(scenario(), NOW, CFG)
    assert log.add_new(alerts) == alerts
    with log.path.open("ab") as fh:
        fh.write(b'{"kind": "alert", "alert": {"id": "al-tor')
    assert log.add_new(alerts) == []
    assert {a.id for a in log.list(limit=100)} == {a.id for a in alerts}


def test_hostile_text_survives_rules_log_and_digest(tmp_path: Path) -> None:
    nasty = "=cmd|'/C calc'!A0 <script>alert(1)</script>\u202e\u200b\x00\x1b[31m\ud800 " + "征信修复" * 25_000
    hits = [
        make_hit(
            nasty + str(i),
            author=f"h{i}\n",
            post_id=f"id{i}\r\n<b>",
            slang=("停息\x00挂账\n",),
            contacts=(("wechat", "evil\u200bid\x07"),),
        )
        for i in range(5)
    ]
    alerts = evaluate(hits, NOW, CFG)
    assert {a.rule for a in alerts} == {AlertRule.surge, AlertRule.campaign, AlertRule.near_duplicate}
    for alert in alerts:
        for text in (alert.title, alert.subject, *alert.hit_keys):
            assert not any(unicodedata.category(ch)[0] == "C" for ch in text), text
        assert len(alert.title) < 400
    log = AlertLog(tmp_path / "alerts.jsonl")
    assert len(log.add_new(alerts)) == len(alerts)
    assert {a.id for a in log.list(limit=10)} == {a.id for a in alerts}
    body = digest_text(build_digest(alerts))
    assert "\x00" not in body and "\ud800" not in body
    json.loads(build_digest(alerts).model_dump_json())


# --- notify with in-process fakes (the real servers are in tests/integration/test_alert_notify.py) ----------------


class FakeChannel:
    def __init__(self, fail: list[Exception] | None = None) -> None:
        self.fail = list(fail or [])
        self.sent: list[AlertDigest] = []

    @property
    def name(self) -> str:
        return "fake:1"

    def send_digest(self, digest: AlertDigest) -> str:
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append(digest)
        return "ok"


def sample_alerts() -> list[Alert]:
    return evaluate(scenario(), NOW, CFG)


def test_notify_sends_nothing_for_no_alerts() -> None:
    channel = FakeChannel()
    assert notify([], channel) == 0 and channel.sent == []


def test_notify_retries_transient_errors_then_gives_up_on_permanent() -> None:
    alerts = sample_alerts()
    sleeps: list[float] = []
    channel = FakeChannel([RetryableDeliveryError("503"), RetryableDeliveryError("timeout")])
    assert notify(alerts, channel, policy=FAST, sleep=sleeps.append) == len(alerts)
    assert len(sleeps) == 2 and len(channel.sent) == 1
    assert channel.sent[0].digest_id == digest_id(reversed(alerts))  # order does not matter
    with pytest.raises(NotifyError) as err:
        notify(alerts, FakeChannel([PermanentDeliveryError("401")]), policy=FAST, sleep=sleeps.append)
    assert err.value.attempts == 1
    with pytest.raises(NotifyError) as err:
        notify(alerts, FakeChannel([RetryableDeliveryError("x")] * 5), policy=FAST, sleep=lambda s: None)
    assert err.value.attempts == FAST.max_attempts


def test_a_failed_digest_is_sent_on_the_next_run(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    hits = scenario()
    broken = FakeChannel([PermanentDeliveryError("down")])
    with pytest.raises(NotifyError) as err:
        run_alerts(hits, settings=settings, now=NOW, channel=broken, policy=FAST, sleep=lambda s: None)
    raised = err.value.counts["new"]
    assert raised >= 3
    channel = FakeChannel()
    counts = run_alerts(hits, settings=settings, now=NOW + timedelta(minutes=10), channel=channel, policy=FAST)
    assert counts["new"] == 0 and counts["notified"] == raised and len(channel.sent) == 1
    again = run_alerts(hits, settings=settings, now=NOW + timedelta(minutes=20), channel=channel, policy=FAST)
    assert again["notified"] == 0 and len(channel.sent) == 1


def test_recent_hits_reads_lead_gen_hits_in_range_through_the_store(tmp_path: Path) -> None:
    from alerts.monitoring.rules import recent_hits
    from indexer.tantivy_store import TantivyHitStore

    store = TantivyHitStore(tmp_path / "index", writer_heap=15_000_000)
    try:
        recent = [make_hit(author=f"r{i}", at=NOW - timedelta(days=i)) for i in range(5)]
        store.upsert([*recent, make_hit(label=Label.benign), make_hit(at=NOW - timedelta(days=20))])
        got = recent_hits(store, NOW, CFG, page=2)  # several pages
        assert {h.key for h in got} == {h.key for h in recent}
    finally:
        store.close()
