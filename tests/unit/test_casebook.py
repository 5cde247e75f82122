"""The casebook on SQLite through the same SQLAlchemy models PostgreSQL uses."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from core.records import utcnow
from indexer.casebook import Casebook, hash_password, verify_password


@pytest.fixture
def casebook(tmp_path: Path) -> Casebook:
    return Casebook(f"sqlite:///{tmp_path / 'casebook.sqlite3'}")


def test_reviews_are_kept_and_audited(casebook: Casebook) -> None:
    t = utcnow()
    casebook.record_review("douyin:1", "li", "confirmed", "微信引流", at=t)
    casebook.record_review(
        "douyin:1", "wang", "dismissed", "律师科普", category_from="credit_repair", at=t + timedelta(1)
    )
    casebook.record_review("weibo:2", "li", "confirmed")
    reviews = casebook.list_reviews("douyin:1")
    assert [r.analyst for r in reviews] == ["wang", "li"]  # newest first
    assert reviews[0].category_from == "credit_repair" and reviews[0].at.tzinfo is not None
    latest = casebook.latest_reviews(["douyin:1", "weibo:2", "none:0"])
    assert {k: r.decision for k, r in latest.items()} == {"douyin:1": "dismissed", "weibo:2": "confirmed"}
    audit = casebook.list_audit(who="li")
    assert [a.what for a in audit] == ["review:confirmed", "review:confirmed"]
    assert audit[-1].details["hit_key"] == "douyin:1"


def test_batches_and_deliveries(casebook: Casebook) -> None:
    casebook.add_batch("b1", "douyin", ["douyin:1", "douyin:2"], {"xlsx": "/r/b1.xlsx"})
    casebook.add_batch("b2", "weibo", ["weibo:2"])
    assert casebook.reported_keys("douyin") == {"douyin:1", "douyin:2"}
    assert casebook.reported_keys() == {"douyin:1", "douyin:2", "weibo:2"}
    assert casebook.record_delivery("b1", "smtp", "failed", "421 try later").attempt == 1
    assert casebook.record_delivery("b1", "smtp", "sent", "250 ok").attempt == 2
    assert casebook.record_delivery("b1", "webhook", "sent").attempt == 1
    casebook.set_batch_status("b1", "sent")
    batch = casebook.get_batch("b1")
    assert batch is not None and batch.status == "sent" and batch.paths == {"xlsx": "/r/b1.xlsx"}
    assert [d.state for d in casebook.list_deliveries("b1")] == ["failed", "sent", "sent"]
    with pytest.raises(IntegrityError):
        casebook.record_delivery("no-such-batch", "smtp", "sent")  # foreign keys are enforced on SQLite too
    with pytest.raises(IntegrityError):
        casebook.add_batch("b1", "douyin", [])


def test_passwords_are_hashed_never_stored(casebook: Casebook, tmp_path: Path) -> None:
    casebook.add_analyst("li", "正确的密码 horse")
    assert casebook.check_password("li", "正确的密码 horse")
    assert not casebook.check_password("li", "wrong")
    assert not casebook.check_password("nobody", "正确的密码 horse")
    casebook.close()
    raw = (tmp_path / "casebook.sqlite3").read_bytes()
    wal = tmp_path / "casebook.sqlite3-wal"
    raw += wal.read_bytes() if wal.exists() else b""
    assert "正确的密码".encode() not in raw
    with sqlite3.connect(tmp_path / "casebook.sqlite3") as db:
        (stored,) = db.execute("select password_hash from analysts where name='li'").fetchone()
    assert stored.startswith("scrypt$")
    assert hash_password("x") != hash_password("x")  # salted
    assert verify_password("x", hash_password("x")) and not verify_password("x", "plaintext")


def test_job_history_and_rechecks(casebook: Casebook) -> None:
    run = casebook.start_job("crawl-demo")
    casebook.finish_job(run, "ok", {"posts": 12, "hits": 3})
    failed = casebook.start_job("crawl-demo")
    casebook.finish_job(failed, "failed", error="soft block: 访问频次异常")
    jobs = casebook.list_jobs("crawl-demo")
    assert [j.outcome for j in jobs] == ["failed", "ok"]
    assert jobs[1].counts == {"posts": 12, "hits": 3} and jobs[1].ended_at is not None
    casebook.record_recheck("douyin:1", "removed", batch_id="b1", http_status=404)
    casebook.record_recheck("douyin:1", "still_up", http_status=200)
    assert [r.outcome for r in casebook.list_rechecks("douyin:1")] == ["still_up", "removed"]


def test_audit_details_survive_hostile_values(casebook: Casebook) -> None:
    casebook.audit("li", "export", "周报", {"path": Path("/srv/x"), "n": 3, "text": "=cmd|' /C calc'!A0"})
    (entry,) = casebook.list_audit()
    assert entry.details == {"path": "/srv/x", "n": 3, "text": "=cmd|' /C calc'!A0"}


def test_reopening_keeps_everything(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cb.sqlite3'}"
    Casebook(url).record_review("douyin:1", "li", "confirmed")
    assert len(Casebook(url).list_reviews()) == 1


def test_failures_since_success_counts_only_recent_failures_after_the_last_success(casebook: Casebook) -> None:
    def failures(since_minutes: float = 15) -> int:
        since = utcnow() - timedelta(minutes=since_minutes)
        return casebook.failures_since_success("li", "login:failed", "login", since)

    for _ in range(3):
        casebook.audit("li", "login:failed")
    casebook.audit("wang", "login:failed")  # someone else's
    assert failures() == 3
    assert failures(since_minutes=-1) == 0  # a window that starts in the future holds none
    casebook.audit("li", "login")
    assert failures() == 0
    casebook.audit("li", "login:failed")
    assert failures() == 1
