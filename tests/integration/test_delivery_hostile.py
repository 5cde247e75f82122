"""Delivery against hostile or careless receivers, as found: a password and token in the webhook URL, a receiver
that trickles its answer, Retry-After, a captured request replayed, and a deliver job whose every batch dead-letters.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from alerts.monitoring.rules import AlertLog, AlertRule
from alerts.takedown.delivery import (
    DeliveryState,
    Outbox,
    RetryPolicy,
    SmtpDelivery,
    WebhookDelivery,
    deliver,
    redact,
    verify_request,
)
from alerts.takedown.report import ReportBatch
from casebook import Casebook
from core.settings import Settings
from tests.integration.partner_servers import Receiver, serve_webhook
from tests.integration.test_delivery import report  # noqa: F401  (fixture)
from wiring import scheduler
from wiring.cli import app

pytestmark = pytest.mark.integration

SECRET = "hmac-key-for-partner"
PASSWORD = "hunter2-pa55word"
TOKEN = "tok-s3cret-query"


def test_a_password_and_token_in_the_webhook_url_are_never_recorded_or_printed(
    report: tuple[ReportBatch, list[Path]],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch, paths = report
    home = tmp_path / "home"
    settings = Settings(home=home)
    settings.ensure_dirs()
    Outbox(settings.outbox_dir).stage(batch, paths)
    casebook = Casebook(settings.casebook)
    casebook.add_batch(batch.batch_id, batch.platform.value, batch.keys, {})
    casebook.close()
    receiver = Receiver(SECRET, then=400)  # refuses everything, echoing the URL in its error page
    with serve_webhook(receiver, f"/hooks/takedown?token={TOKEN}") as url:
        url = url.replace("http://", f"http://partner:{PASSWORD}@")
        schedule = tmp_path / "schedule.toml"
        schedule.write_text(
            f'[[jobs]]\nid = "deliver"\nkind = "deliver"\ninterval = "1h"\n[jobs.options]\nchannel = "webhook"\n'
            f'url = "{url}"\nsecret_env = "QY_TEST_SECRET"\nbase_delay = 0.01\n',
            "utf-8",
        )
        monkeypatch.setenv("QINGYUAN_HOME", str(home))
        monkeypatch.setenv("QY_TEST_SECRET", SECRET)
        result = CliRunner().invoke(app, ["schedule", "run-now", "deliver", "-f", str(schedule)])
    assert len(receiver.requests) == 1 and receiver.requests[0][0]["Authorization"].startswith("Basic ")
    assert result.exit_code == 1, result.output  # every batch dead-lettered: the run failed
    assert "dead-lettered" in result.output and '"dead_letter": 1' in result.output
    (alert,) = AlertLog.for_settings(settings).list(rule=AlertRule.delivery_failed)
    assert alert.severity == "high" and batch.batch_id in alert.title
    assert Outbox(settings.outbox_dir).load_state(batch.batch_id)["channels"]  # the record exists ...
    leaked = [
        str(p.relative_to(home))
        for p in home.rglob("*")
        if p.is_file() and any(s.encode() in p.read_bytes() for s in (PASSWORD, TOKEN))
    ]
    assert leaked == [] and PASSWORD not in result.output and TOKEN not in result.output  # ... without secrets
    (run,) = scheduler.read_history(settings, "deliver")  # the job run, as the casebook keeps it
    assert run["outcome"] == "failed" and "127.0.0.1" in json.dumps(run)


def test_a_trickling_receiver_is_cut_off_at_the_total_deadline(
    report: tuple[ReportBatch, list[Path]],  # noqa: F811
    tmp_path: Path,
) -> None:
    batch, paths = report
    receiver = Receiver(SECRET, trickle=0.2)  # a 218-byte answer, one byte every 0.2 s: about 44 s in all
    with serve_webhook(receiver, "/hooks") as url:
        channel = WebhookDelivery(url, SECRET, timeout=1.0)  # each read is quick: only a total deadline helps
        started = time.monotonic()
        result = deliver(batch, paths, channel, tmp_path / "outbox", policy=RetryPolicy(max_attempts=1))
        took = time.monotonic() - started
        for _ in range(100):  # the receiver notices the hang-up on its next write
            if receiver.trickled:
                break
            time.sleep(0.1)
    print(f"trickling receiver: attempt ended after {took:.2f}s with a 1s deadline")
    assert result.state is DeliveryState.dead_letter and "deadline" in (result.detail or "")
    assert receiver.trickled and receiver.trickled[0] < 218  # we hung up before the answer was complete


def test_retry_after_is_a_floor_and_a_long_one_waits_for_a_later_run(
    report: tuple[ReportBatch, list[Path]],  # noqa: F811
    tmp_path: Path,
) -> None:
    batch, paths = report
    receiver = Receiver(SECRET, script=[429], retry_after="3")
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=10.0, jitter=0.5)
    with serve_webhook(receiver, "/hooks") as url:
        result = deliver(batch, paths, WebhookDelivery(url, SECRET, timeout=5), tmp_path / "a", policy=policy,
                         sleep=sleeps.append)  # fmt: skip
        assert result.state is DeliveryState.delivered and sleeps == [3.0]  # jitter never brings it forward
        # An HTTP-date Retry-After beyond max_delay: this run stops, and the next run does not post before it.
        later = Receiver(SECRET, script=[503], retry_after="Wed, 21 Oct 2099 07:28:00 GMT")
        with serve_webhook(later, "/hooks") as url2:
            channel = WebhookDelivery(url2, SECRET, timeout=5)
            first = deliver(batch, paths, channel, tmp_path / "b", policy=policy, sleep=sleeps.append)
            second = deliver(batch, paths, channel, tmp_path / "b", policy=policy, sleep=sleeps.append)
    assert first.state is DeliveryState.failed and sleeps == [3.0]
    assert second.attempts == 0 and "waiting until 2099-10-21" in (second.detail or "")
    assert len(later.requests) == 1


def test_a_captured_request_cannot_be_replayed_later_or_under_another_key(
    report: tuple[ReportBatch, list[Path]],  # noqa: F811
    tmp_path: Path,
) -> None:
    batch, paths = report
    receiver = Receiver(SECRET)
    with serve_webhook(receiver, "/hooks") as url:
        assert deliver(batch, paths, WebhookDelivery(url, SECRET, timeout=5), tmp_path / "o").sent
        headers, body = receiver.requests[0]
        captured = {k: v for k, v in headers.items() if k.lower().startswith(("x-qingyuan", "idempotency", "content"))}

        def replay(**change: str) -> httpx.Response:
            return httpx.post(url, content=body, headers={**captured, **change}, timeout=5)

        again = replay()  # at once: the signature holds, and the receiver's Idempotency-Key dedupe drops it
        assert again.status_code == 200 and again.json()["duplicate"] is True
        assert replay(**{"Idempotency-Key": "QY-other-batch"}).status_code == 401  # the key is signed
        assert replay(**{"X-Qingyuan-Timestamp": str(int(time.time()) + 5)}).status_code == 401  # so is the time
        receiver.clock = lambda: time.time() + 600  # ten minutes on: a stale timestamp is refused
        assert replay().status_code == 401
    assert receiver.processed == {batch.batch_id: 2}  # the delivery and the one replay flagged as a duplicate
    assert verify_request(SECRET, headers, body) and not verify_request(SECRET, headers, body + b" ")


def test_redact_takes_the_longest_secret_first() -> None:
    assert redact("GET /h?token=abc-tok failed", ["abc-tok", "token=abc-tok"]) == "GET /h?*** failed"


def test_a_trickling_mail_server_is_cut_off_at_the_total_deadline(
    report: tuple[ReportBatch, list[Path]],  # noqa: F811
    tmp_path: Path,
) -> None:
    """An SMTP server that sends its greeting one byte every 0.2 s: smtplib's per-read timeout never fires."""
    batch, paths = report
    listener = socket.create_server(("127.0.0.1", 0))
    written: list[int] = []

    def trickle() -> None:
        conn, _ = listener.accept()
        sent = 0
        with conn:
            try:
                for byte in b"220 mx.test ESMTP slow " + b"." * 200 + b"\r\n":
                    conn.sendall(bytes([byte]))
                    sent += 1
                    time.sleep(0.2)
            except OSError:
                pass  # we hung up
        written.append(sent)

    server = threading.Thread(target=trickle, daemon=True)
    server.start()
    port = listener.getsockname()[1]
    channel = SmtpDelivery("127.0.0.1", port, "qy@example.org", ["ts@partner.example"], timeout=1.0)
    started = time.monotonic()
    result = deliver(batch, paths, channel, tmp_path / "outbox", policy=RetryPolicy(max_attempts=1))
    took = time.monotonic() - started
    server.join(60)
    listener.close()
    print(f"trickling mail server: attempt ended after {took:.2f}s with a 1s deadline")
    assert result.state is DeliveryState.dead_letter and "deadline" in (result.detail or "")
    assert written and written[0] < 225  # the greeting was never completed: we hung up first
