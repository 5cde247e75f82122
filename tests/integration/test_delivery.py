"""Delivery against real servers on loopback: aiosmtpd for SMTP, http.server for the webhook (failing, recovering,
always failing, slow), plus crash-between-send-and-record and the outbox state that prevents double sends."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from alerts.takedown.delivery import (
    DeliveryState,
    FolderDelivery,
    Outbox,
    RetryPolicy,
    SmtpDelivery,
    WebhookDelivery,
    deliver,
    deliver_pending,
    verify_request,
)
from alerts.takedown.formats import write_batch
from alerts.takedown.report import ReportBatch, build_batches
from core.records import Category, Evidence, Hit, HitStatus, ModelInfo
from core.settings import Settings
from tests import factories
from tests.integration.partner_servers import MailSink, Receiver, serve_webhook

pytestmark = pytest.mark.integration

SECRET = "s3cret-分享"
FAST = RetryPolicy(max_attempts=4, base_delay=0.02, max_delay=0.2, jitter=0.5)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f00f0004850180b3d1f6a80000000049454e44ae426082"
)


def make_hit(post_id: str, evidence: tuple[Evidence, ...] = ()) -> Hit:
    text = '征信修复，V信 abc123 <script>alert(1)</script> =cmd|"/C calc"!A0'
    post = factories.make_post(
        post_id,
        text,
        platform="xiaohongshu",
        url=f"https://www.xiaohongshu.com/explore/{post_id}",
        author_name="上岸",
        published_at=None,
        fetched_at=datetime(2026, 11, 20, tzinfo=timezone.utc),
    )
    verdict = factories.make_verdict(
        score=0.93,
        category=Category.credit_repair,
        contacts=[factories.contact_in(text, "abc123")],
        model=ModelInfo(name="tiny", version="1"),
    )
    return factories.make_hit(post, verdict, status=HitStatus.confirmed, evidence=evidence)


@pytest.fixture()
def report(tmp_path: Path) -> tuple[ReportBatch, list[Path]]:
    settings = Settings(home=tmp_path / "home")
    shot = settings.evidence_dir / "shot.png"
    shot.parent.mkdir(parents=True)
    shot.write_bytes(PNG)
    ev = Evidence(kind="screenshot", path=str(shot), sha256=hashlib.sha256(PNG).hexdigest())
    (batch,) = build_batches(
        [make_hit("n1", (ev,)), make_hit("n2")],
        settings=settings,
        include_unreviewed=False,
        min_score=0.8,
        platform=None,
        already_reported=set(),
    )
    return batch, write_batch(batch, tmp_path / "reports")


class Crashing:
    """Wraps a channel: sends for real, then the process 'dies' before deliver() can record the outcome."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return str(self.inner.name)

    def send(self, batch: ReportBatch, files: Sequence[Path], idempotency_key: str) -> str:
        self.inner.send(batch, files, idempotency_key)
        raise SystemExit("killed after sending")


# --- SMTP ---------------------------------------------------------------------------------------------------------


def smtp_channel(port: int) -> SmtpDelivery:
    return SmtpDelivery("127.0.0.1", port, "reports@qingyuan.example", ["takedown@partner.example"], timeout=10)


def test_smtp_delivers_batch_with_attachments_once(
    smtp_server: tuple[MailSink, int], report: tuple[ReportBatch, list[Path]], tmp_path: Path
) -> None:
    sink, port = smtp_server
    batch, paths = report
    state_dir = tmp_path / "outbox"
    result = deliver(batch, paths, smtp_channel(port), state_dir, policy=FAST)
    assert result.state is DeliveryState.delivered and result.sent and result.attempts == 1
    assert len(sink.messages) == 1
    msg = sink.messages[0]
    assert msg["Message-ID"] == f"<{batch.batch_id}@qingyuan.example>"
    assert batch.batch_id in str(msg["Subject"]) and "小红书" in str(msg["Subject"])
    assert sink.envelopes[0] == ("reports@qingyuan.example", ["takedown@partner.example"])
    attachments = {part.get_filename(): part.get_content() for part in msg.iter_attachments()}
    assert set(attachments) == {p.name for p in paths}
    for path in paths:
        assert attachments[path.name] == path.read_bytes() or attachments[path.name] == path.read_text("utf-8")
    zip_name = f"{batch.batch_id}-evidence.zip"
    sidecar = (tmp_path / "reports" / f"{zip_name}.sha256").read_text().split()[0]
    assert hashlib.sha256(attachments[zip_name]).hexdigest() == sidecar
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None and "https://www.xiaohongshu.com/explore/n1" in body.get_content()

    # The outbox keeps a copy of every file and the state; a second run sends nothing.
    folder = state_dir / batch.batch_id
    assert {p.name for p in paths} <= {p.name for p in folder.iterdir()}
    state = json.loads((folder / "state.json").read_text())
    assert state["channels"][result.channel]["state"] == "delivered"
    again = deliver(batch, paths, smtp_channel(port), state_dir, policy=FAST)
    assert again.already_delivered and not again.sent and again.attempts == 0
    assert len(sink.messages) == 1


def test_smtp_retries_on_451_and_dead_letters_on_550(
    smtp_server: tuple[MailSink, int], report: tuple[ReportBatch, list[Path]], tmp_path: Path
) -> None:
    sink, port = smtp_server
    batch, paths = report
    sink.defer = 2
    result = deliver(batch, paths, smtp_channel(port), tmp_path / "a", policy=FAST)
    assert result.state is DeliveryState.delivered and result.attempts == 3 and len(sink.messages) == 1

    sink.refuse = True
    failed = deliver(batch, paths, smtp_channel(port), tmp_path / "b", policy=FAST)
    assert failed.state is DeliveryState.dead_letter and failed.attempts == 1 and not failed.sent
    assert failed.detail and "550" in failed.detail


def test_smtp_crash_after_send_resends_with_same_message_id(
    smtp_server: tuple[MailSink, int], report: tuple[ReportBatch, list[Path]], tmp_path: Path
) -> None:
    sink, port = smtp_server
    batch, paths = report
    state_dir = tmp_path / "outbox"
    with pytest.raises(SystemExit):
        deliver(batch, paths, Crashing(smtp_channel(port)), state_dir, policy=FAST)
    channel = smtp_channel(port)
    assert Outbox(state_dir).channel_state(batch.batch_id, channel.name) is DeliveryState.sending
    result = deliver(batch, paths, channel, state_dir, policy=FAST)
    assert result.state is DeliveryState.delivered and result.total_attempts == 2
    # Both copies carry the same Message-ID, so the receiving mail system can drop the duplicate.
    assert [m["Message-ID"] for m in sink.messages] == [f"<{batch.batch_id}@qingyuan.example>"] * 2
    state = Outbox(state_dir).load_state(batch.batch_id)
    assert [a["outcome"] for a in state["channels"][channel.name]["attempts"]] == ["interrupted", "delivered"]
    assert deliver(batch, paths, channel, state_dir).already_delivered
    assert len(sink.messages) == 2


# --- Webhook ------------------------------------------------------------------------------------------------------


@pytest.fixture()
def webhook() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver(SECRET)
    with serve_webhook(receiver, "/hooks/takedown?token=abc") as url:
        yield receiver, url


def test_webhook_retries_500s_then_delivers_signed_with_idempotency_key(
    webhook: tuple[Receiver, str], report: tuple[ReportBatch, list[Path]], tmp_path: Path
) -> None:
    receiver, url = webhook
    receiver.script = [500, 500]
    batch, paths = report
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    channel = WebhookDelivery(url, SECRET, timeout=5)
    result = deliver(batch, paths, channel, tmp_path / "outbox", policy=FAST, sleep=sleep)
    assert result.state is DeliveryState.delivered and result.sent and result.attempts == 3
    assert len(receiver.requests) == 3 and receiver.processed == {batch.batch_id: 1}
    assert result.detail and f"T-{batch.batch_id}" in result.detail
    for headers, body in receiver.requests:
        signed = f"{headers['X-Qingyuan-Timestamp']}.{batch.batch_id}.".encode() + body
        expected = "v1=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
        assert headers["X-Qingyuan-Signature"] == expected
        assert headers["Idempotency-Key"] == batch.batch_id
        assert ReportBatch.model_validate_json(body).model_dump() == batch.model_dump()  # as sent, minus our paths
    assert not verify_request("wrong", receiver.requests[0][0], receiver.requests[0][1])
    # Exponential backoff with jitter: each wait within [(1 - jitter) * d, d] for d = base * 2^(n-1).
    assert len(sleeps) == 2
    assert 0.01 <= sleeps[0] <= 0.02 and 0.02 <= sleeps[1] <= 0.04
    assert "token=abc" not in channel.name  # the state file never holds the URL's secret
    # Delivered once: a later run does not post again.
    assert deliver(batch, paths, channel, tmp_path / "outbox", policy=FAST).already_delivered
    assert len(receiver.requests) == 3


def test_webhook_dead_letters_after_n_failures_and_requeue_recovers(
    webhook: tuple[Receiver, str], report: tuple[ReportBatch, list[Path]], tmp_path: Path
) -> None:
    receiver, url = webhook
    receiver.then = 503
    batch, paths = report
    channel = WebhookDelivery(url, SECRET, timeout=5)
    state_dir = tmp_path / "outbox"
    result = deliver(batch, paths, channel, state_dir, policy=FAST)
    assert result.state is DeliveryState.dead_letter and not result.sent
    assert result.attempts == FAST.max_attempts == len(receiver.requests)
    assert result.detail and "503" in result.detail
    # A dead letter stays put until a person requeues it.
    assert deliver(batch, paths, channel, state_dir, policy=FAST).state is DeliveryState.dead_letter
    assert len(receiver.requests) == FAST.max_attempts
    receiver.then = 200
    Outbox(state_dir).requeue(batch.batch_id, channel.name)
    again = deliver_pending(state_dir, channel, policy=FAST)
    assert [r.state for r in again] == [DeliveryState.delivered]
    assert receiver.processed == {batch.batch_id: 1}


def test_webhook_permanent_4xx_dead_letters_at_once(
    webhook: tuple[Receiver, str], report: tuple[ReportBatch, list[Path]], tmp_path: Path
) -> None:
    receiver, url = webhook
    receiver.then = 422
    batch, paths = report
    result = deliver(batch, paths, WebhookDelivery(url, SECRET), tmp_path / "o", policy=FAST)
    assert result.state is DeliveryState.dead_letter and result.attempts == 1


def test_webhook_bad_secret_is_refused(
    webhook: tuple[Receiver, str], report: tuple[ReportBatch, list[Path]], tmp_path: Path
) -> None:
    receiver, url = webhook
    batch, paths = report
    result = deliver(batch, paths, WebhookDelivery(url, "not-the-secret"), tmp_path / "o", policy=FAST)
    assert result.state is DeliveryState.dead_letter and "401" in (result.detail or "")
    assert receiver.processed == {}


def test_webhook_timeout_and_connection_refused_are_retried(
    webhook: tuple[Receiver, str], report: tuple[ReportBatch, list[Path]], tmp_path: Path
) -> None:
    receiver, url = webhook
    receiver.delay_first = 1.5
    batch, paths = report
    result = deliver(batch, paths, WebhookDelivery(url, SECRET, timeout=0.5), tmp_path / "a", policy=FAST)
    assert result.state is DeliveryState.delivered and result.attempts == 2
    state = Outbox(tmp_path / "a").load_state(batch.batch_id)
    (entry,) = state["channels"].values()
    assert "Timeout" in entry["attempts"][0]["detail"]

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    refused = deliver(
        batch, paths, WebhookDelivery(f"http://127.0.0.1:{dead_port}/", SECRET, timeout=2), tmp_path / "b", policy=FAST
    )
    assert refused.state is DeliveryState.dead_letter and refused.attempts == FAST.max_attempts
    assert "ConnectError" in (refused.detail or "")


def test_webhook_crash_after_send_is_deduped_by_receiver(
    webhook: tuple[Receiver, str], report: tuple[ReportBatch, list[Path]], tmp_path: Path
) -> None:
    receiver, url = webhook
    batch, paths = report
    state_dir = tmp_path / "outbox"
    channel = WebhookDelivery(url, SECRET)
    with pytest.raises(SystemExit):
        deliver(batch, paths, Crashing(channel), state_dir, policy=FAST)
    result = deliver(batch, paths, channel, state_dir, policy=FAST)
    assert result.state is DeliveryState.delivered and result.idempotency_key == batch.batch_id
    assert [h["Idempotency-Key"] for h, _ in receiver.requests] == [batch.batch_id] * 2
    assert receiver.processed == {batch.batch_id: 2} and '"duplicate": true' in (result.detail or "")


def test_outbox_alone_is_enough_to_deliver_later(report: tuple[ReportBatch, list[Path]], tmp_path: Path) -> None:
    batch, paths = report
    drop = tmp_path / "partner-drop"
    state_dir = tmp_path / "outbox"
    Outbox(state_dir).stage(batch, paths)
    for p in paths:  # the original report folder is gone; the outbox copy must do
        p.unlink()
    (result,) = deliver_pending(state_dir, FolderDelivery(drop), policy=FAST)
    assert result.state is DeliveryState.delivered
    assert {p.name for p in (drop / batch.batch_id).iterdir()} == {p.name for p in paths}
    assert deliver_pending(state_dir, FolderDelivery(drop)) == []


def test_concurrent_runs_send_once(
    webhook: tuple[Receiver, str], report: tuple[ReportBatch, list[Path]], tmp_path: Path
) -> None:
    receiver, url = webhook
    batch, paths = report
    results = []

    def run() -> None:
        results.append(deliver(batch, paths, WebhookDelivery(url, SECRET), tmp_path / "outbox", policy=FAST))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r.sent for r in results) == [False, False, True]
    assert len(receiver.requests) == 1


def test_staged_copy_is_what_every_retry_sends(
    webhook: tuple[Receiver, str], report: tuple[ReportBatch, list[Path]], tmp_path: Path
) -> None:
    receiver, url = webhook
    receiver.script = [500]
    batch, paths = report
    state_dir = tmp_path / "outbox"
    crashed_stage = state_dir / batch.batch_id  # a half-staged folder from a crash is replaced, not trusted
    crashed_stage.mkdir(parents=True)
    (crashed_stage / "junk.part").write_bytes(b"x")
    first = deliver(batch, paths, WebhookDelivery(url, SECRET), state_dir, policy=RetryPolicy(max_attempts=1))
    assert first.state is DeliveryState.dead_letter and not (crashed_stage / "junk.part").exists()
    # The batch is rebuilt later (new created_at); the requeued retry still sends the staged bytes.
    rebuilt = batch.model_copy(update={"created_at": datetime(2030, 1, 1, tzinfo=timezone.utc)})
    Outbox(state_dir).requeue(batch.batch_id, WebhookDelivery(url, SECRET).name)
    again = deliver(rebuilt, paths, WebhookDelivery(url, SECRET), state_dir, policy=FAST)
    assert again.state is DeliveryState.delivered
    bodies = [body for _, body in receiver.requests]
    assert bodies[0] == bodies[1] and ReportBatch.model_validate_json(bodies[1]).created_at == batch.created_at


def test_smtp_leaves_out_attachments_over_the_size_limit(
    smtp_server: tuple[MailSink, int], report: tuple[ReportBatch, list[Path]], tmp_path: Path
) -> None:
    sink, port = smtp_server
    batch, paths = report
    zip_path = next(p for p in paths if p.name.endswith("-evidence.zip"))
    small = sum(p.stat().st_size for p in paths if p != zip_path)
    channel = SmtpDelivery(
        "127.0.0.1", port, "reports@qingyuan.example", ["t@partner.example"], max_attachment_bytes=small
    )
    assert deliver(batch, paths, channel, tmp_path / "o", policy=FAST).state is DeliveryState.delivered
    (msg,) = sink.messages
    names = {part.get_filename() for part in msg.iter_attachments()}
    assert zip_path.name not in names and len(names) == len(paths) - 1
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    assert hashlib.sha256(zip_path.read_bytes()).hexdigest() in body.get_content()
