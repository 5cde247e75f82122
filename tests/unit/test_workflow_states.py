"""Every workflow transition the casebook owns: new -> claimed -> confirmed/dismissed -> batched -> delivered ->
removed/still_up, reopening with a reason, the illegal steps (each a clear IllegalTransition), and reconcile turning
an index written before batched/delivered existed (status `reported`) into the honest states."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from alerts.takedown.workflow import reconcile, reopen_hit, takedown_stats
from casebook import Casebook
from core.records import HitStatus, IllegalTransition
from core.settings import Settings
from indexer import open_store
from tests.factories import make_hit

confirmed, dismissed = HitStatus.confirmed, HitStatus.dismissed


@pytest.fixture
def casebook(tmp_path: Path) -> Casebook:
    return Casebook(f"sqlite:///{tmp_path / 'casebook.sqlite3'}")


def test_the_forward_path_new_claimed_confirmed_batched_delivered_removed(casebook: Casebook) -> None:
    key = "douyin:1"
    assert casebook.state(key) is HitStatus.new
    assert casebook.claim(key, "li", 10)
    assert casebook.state(key) is HitStatus.claimed
    casebook.decide(key, "li", confirmed, category_to="stop_interest", text="停息挂账")
    assert casebook.state(key) is HitStatus.confirmed
    casebook.add_batch("b1", "douyin", [key])
    assert casebook.state(key) is HitStatus.batched
    casebook.record_delivery("b1", "smtp", "failed", "421")
    assert casebook.state(key) is HitStatus.batched  # a failed attempt reports nothing
    casebook.record_delivery("b1", "smtp", "delivered", "250 ok")
    assert casebook.state(key) is HitStatus.delivered
    casebook.record_recheck(key, "still_up", batch_id="b1")
    assert casebook.state(key) is HitStatus.still_up
    casebook.record_recheck(key, "removed", batch_id="b1")
    assert casebook.state(key) is HitStatus.removed


def test_dismiss_needs_a_reason_and_keeps_the_preset_code(casebook: Casebook) -> None:
    with pytest.raises(ValueError, match="needs a reason"):
        casebook.decide("weibo:2", "li", dismissed)
    row = casebook.decide("weibo:2", "li", dismissed, reason_code="bank_notice", reason="招行官方通知")
    assert (row.reason_code, row.reason) == ("bank_notice", "招行官方通知")
    assert casebook.list_audit(who="li")[0].details["reason_code"] == "bank_notice"
    assert casebook.state("weibo:2") is dismissed


@pytest.mark.parametrize(
    ("setup", "step", "message"),
    [
        ("confirmed", "confirm", "cannot go from confirmed"),
        ("dismissed", "confirm", "cannot go from dismissed"),
        ("batched", "dismiss", "cannot go from batched"),
        ("delivered", "reopen", "the partner has it"),
        ("new", "reopen", "no decision to reopen"),
        ("claimed", "reopen", "no decision to reopen"),
        ("confirmed", "batch-again", "cannot go from batched"),
        ("claimed", "batch", "cannot go from claimed"),
    ],
)
def test_illegal_steps_raise_a_clear_error(casebook: Casebook, setup: str, step: str, message: str) -> None:
    key = "douyin:9"
    if setup == "claimed":
        casebook.claim(key, "li", 10)
    if setup in ("confirmed", "batched", "delivered"):
        casebook.decide(key, "li", confirmed)
    if setup == "dismissed":
        casebook.decide(key, "li", dismissed, reason_code="news")
    if setup in ("batched", "delivered"):
        casebook.add_batch("b9", "douyin", [key])
    if setup == "delivered":
        casebook.record_delivery("b9", "webhook", "delivered")
    before = len(casebook.list_reviews(key))
    with pytest.raises(IllegalTransition, match=message) as caught:
        if step == "confirm":
            casebook.decide(key, "wang", confirmed)
        elif step == "dismiss":
            casebook.decide(key, "wang", dismissed, reason="x")
        elif step == "reopen":
            casebook.reopen(key, "wang", "看错了")
        elif step == "batch-again":
            casebook.add_batch("b10", "douyin", [key])
            casebook.add_batch("b11", "douyin", [key])
        else:
            casebook.add_batch("b12", "douyin", [key])
    assert caught.value.key == key
    assert len(casebook.list_reviews(key)) == before  # nothing recorded by a refused step


def test_reopen_needs_a_reason_and_undoes_a_decision(casebook: Casebook) -> None:
    casebook.decide("douyin:3", "li", dismissed, reason_code="victim")
    with pytest.raises(ValueError, match="reason"):
        casebook.reopen("douyin:3", "li", "  ")
    done = casebook.reopen("douyin:3", "li", "这是中介冒充受害人")
    assert done.was is dismissed and done.superseded == ()
    assert casebook.state("douyin:3") is HitStatus.new
    assert casebook.reviewed_by(["douyin:3"]) == {"douyin:3": None}  # reopened: no standing human decision
    audit = casebook.list_audit(who="li")
    assert audit[0].what == "review:reopened" and audit[0].why == "这是中介冒充受害人"
    assert audit[0].details["was"] == "dismissed"
    casebook.decide("douyin:3", "wang", confirmed)  # back in the queue: decidable again
    standing = casebook.reviewed_by(["douyin:3", "douyin:none"])
    assert standing["douyin:3"] is not None and standing["douyin:3"].analyst == "wang"
    assert standing["douyin:none"] is None


def test_reopening_a_batched_item_supersedes_its_batch_and_frees_the_others(casebook: Casebook) -> None:
    casebook.decide("douyin:1", "li", confirmed)
    casebook.decide("douyin:2", "li", confirmed)
    casebook.add_batch("b1", "douyin", ["douyin:1", "douyin:2", "douyin:3"])  # douyin:3 auto-included, unreviewed
    assert casebook.reported_keys() == {"douyin:1", "douyin:2", "douyin:3"}
    done = casebook.reopen("douyin:2", "li", "受害人的警示帖，不是广告")
    assert done.was is HitStatus.batched and done.superseded == ("b1",)
    assert set(done.others) == {"douyin:1", "douyin:3"}
    batch = casebook.get_batch("b1")
    assert batch is not None and batch.status == "superseded"
    assert casebook.reported_keys() == set()
    states = casebook.states(["douyin:1", "douyin:2", "douyin:3"])
    assert states == {"douyin:1": confirmed, "douyin:2": HitStatus.new, "douyin:3": HitStatus.new}
    casebook.add_batch("b2", "douyin", ["douyin:1"])  # the next build batches the rest again
    assert casebook.state("douyin:1") is HitStatus.batched
    assert [a.what for a in casebook.list_audit(who="li")][:2] == ["review:reopened", "report:superseded"]


def _settings(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path / "home", elasticsearch_url=None, casebook_url=None)
    settings.ensure_dirs()
    return settings


def test_reconcile_turns_legacy_reported_into_batched_or_delivered(tmp_path: Path) -> None:
    """An index and casebook from before batched/delivered: every batched item is `reported` in the index, and
    `takedowns` counted them all as reported although only one batch was ever delivered."""
    settings = _settings(tmp_path)
    hits = [make_hit(post_id=str(i), status=HitStatus.reported, report_ids=(f"old-{i % 2}",)) for i in range(4)]
    store = open_store(settings)
    casebook = Casebook(settings.casebook)
    try:
        store.upsert(hits)
        for b in (0, 1):  # written the way the old code wrote them: no transition check, status built
            casebook.add_batch(f"old-{b}", "douyin", [h.key for h in hits[b::2]], resend=True)
        casebook.record_delivery("old-1", "smtp", "delivered", "250 ok")
        casebook.set_batch_status("old-1", "sent")
        with casebook.engine.begin() as conn:  # a casebook from before report_batch_items: the batches only
            conn.execute(text("DELETE FROM report_batch_items"))
        casebook.close()
        casebook = Casebook(settings.casebook)  # opening it fills the rows in from the batches
        assert [s.reported for s in takedown_stats(settings)] == [2]
        assert [s.awaiting_delivery for s in takedown_stats(settings)] == [2]
        done = reconcile(settings=settings, store=store, casebook=casebook)
        assert done.statuses == 4
        statuses = {h.key: h.status for h in store.get_many([h.key for h in hits])}
        assert statuses == {
            "douyin:0": HitStatus.batched,
            "douyin:1": HitStatus.delivered,
            "douyin:2": HitStatus.batched,
            "douyin:3": HitStatus.delivered,
        }
        assert reconcile(settings=settings, store=store, casebook=casebook).statuses == 0  # converged
        # a reopen through the workflow takes the item out of the index's batched copy too
        reopen_hit(settings=settings, store=store, casebook=casebook, key="douyin:0", analyst="li", reason="误报")
        after = {h.key: h.status for h in store.get_many(["douyin:0", "douyin:2"])}
        assert after == {"douyin:0": HitStatus.new, "douyin:2": HitStatus.new}
        with pytest.raises(IllegalTransition, match="delivered"):
            reopen_hit(settings=settings, store=store, casebook=casebook, key="douyin:1", analyst="li", reason="x")
    finally:
        casebook.close()
        store.close()


def test_items_count_as_reported_only_once_a_delivery_succeeds(tmp_path: Path) -> None:
    from alerts.takedown.workflow import deliver_pending, write_reports

    settings = _settings(tmp_path)
    hits = [make_hit(post_id=str(i)) for i in range(3)]
    casebook = Casebook(settings.casebook)
    store = open_store(settings)
    try:
        store.upsert(hits)
        casebook.claim(hits[0].key, "li", 10)  # under review: never auto-included as unreviewed
        outcome = write_reports(settings=settings, store=store, include_unreviewed=True, min_score=0.0)
        assert (outcome.items, outcome.unreviewed) == (2, 2)
        statuses = {h.key: h.status for h in store.get_many([h.key for h in hits])}
        assert statuses == {"douyin:0": HitStatus.new, "douyin:1": HitStatus.batched, "douyin:2": HitStatus.batched}
    finally:
        store.close()
        casebook.close()
    (before,) = takedown_stats(settings)
    assert (before.reported, before.awaiting_delivery) == (0, 2)  # built is not reported
    counts = deliver_pending(settings=settings, options={"channel": "folder", "path": str(tmp_path / "partner")})
    assert counts["states"] == {"delivered": 1}
    (after,) = takedown_stats(settings)
    assert (after.reported, after.awaiting_delivery) == (2, 0)
    store = open_store(settings)
    try:  # the deliver job copies the casebook's fact into the index itself
        assert {h.status for h in store.get_many([h.key for h in hits[1:]])} == {HitStatus.delivered}
    finally:
        store.close()
