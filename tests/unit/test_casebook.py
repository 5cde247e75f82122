"""The casebook on SQLite through the same SQLAlchemy models PostgreSQL uses."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from casebook import Casebook, hash_password, verify_password
from core.records import utcnow


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


def test_sign_in_counts_are_atomic_under_parallel_attempts(casebook: Casebook) -> None:
    window = timedelta(minutes=15)
    barrier = threading.Barrier(24)
    counts: list[int] = []

    def attempt() -> None:
        barrier.wait()
        counts.append(casebook.count_attempt("pair:li|10.0.0.9", window))

    threads = [threading.Thread(target=attempt) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(counts) == list(range(1, 25))  # every attempt got its own number: none slipped past a limit
    assert casebook.attempts("pair:li|10.0.0.9", window) == 24
    assert casebook.count_attempt("pair:li|10.0.0.9", timedelta(seconds=-1)) == 1  # an aged-out window restarts
    casebook.reset_attempts("pair:li|10.0.0.9")
    assert casebook.attempts("pair:li|10.0.0.9", window) == 0


def test_sessions_end_on_logout_password_change_idle_and_age(casebook: Casebook) -> None:
    idle, life = timedelta(minutes=30), timedelta(hours=12)
    casebook.add_analyst("li", "first password")
    first, second = casebook.open_session("li"), casebook.open_session("li")
    assert casebook.session_analyst(first, idle=idle, lifetime=life) == "li"
    casebook.close_session(first)
    assert casebook.session_analyst(first, idle=idle, lifetime=life) is None
    assert casebook.session_analyst(second, idle=idle, lifetime=life) == "li"
    casebook.add_analyst("li", "second password")  # a password reset ends every session
    assert casebook.session_analyst(second, idle=idle, lifetime=life) is None
    third = casebook.open_session("li")
    assert casebook.session_analyst(third, idle=timedelta(seconds=-1), lifetime=life) is None  # idle too long
    assert casebook.session_analyst(third, idle=idle, lifetime=life) is None  # and it stays gone
    fourth = casebook.open_session("li")
    assert casebook.session_analyst(fourth, idle=idle, lifetime=timedelta(seconds=-1)) is None
    with casebook.engine.connect() as conn:
        stored = [r[0] for r in conn.execute(text("select id from console_sessions"))]
    assert fourth not in stored and all(len(i) == 64 for i in stored)  # only hashes of tokens are kept


def test_saved_searches_per_analyst_replace_by_name(casebook: Casebook) -> None:
    casebook.save_search("alice", "  征信  十月 ", {"q": "征信", "since": "30d"})
    casebook.save_search("alice", "征信 十月", {"q": "征信 OR zx", "since": "30d"})  # same name: replaced
    casebook.save_search("bob", "征信 十月", {"q": "bob's"})
    mine = casebook.saved_searches("alice")
    assert [(s.name, s.params) for s in mine] == [("征信 十月", {"q": "征信 OR zx", "since": "30d"})]
    assert casebook.saved_search("bob", "征信 十月").params == {"q": "bob's"}  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        casebook.save_search("alice", "   ", {})
    with pytest.raises(ValueError):
        casebook.save_search("alice", "x" * 101, {})
    assert casebook.delete_saved_search("alice", "征信 十月")
    assert not casebook.delete_saved_search("alice", "征信 十月")
    assert casebook.saved_searches("alice") == [] and casebook.saved_searches("bob")
