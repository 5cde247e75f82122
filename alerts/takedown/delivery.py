"""Deliver report batches: an outbox folder, SMTP and a signed webhook, each at most once per batch and channel.

The outbox holds a copy of every file of a batch plus a JSON state file, so a report is never lost: it stays there
until each channel has taken it. Before each send the state file records "sending" with the idempotency key (the
batch id); if the process dies after sending but before recording, the next run sends again under the same key -
the webhook receiver dedupes on the Idempotency-Key header and mail systems on the Message-ID derived from the
batch id - and a channel already recorded as delivered is never sent again. Transient failures (5xx, timeouts,
connection errors, SMTP 4xx) are retried with exponential backoff and jitter; after N failed attempts, or at once
on a permanent refusal, the batch goes to "dead_letter" for a person to look at (`Outbox.requeue` retries it).

A receiver's `Retry-After` is a floor: the next attempt never comes sooner (beyond `max_delay` the batch waits for a
later run instead of holding this one). Each attempt has a total deadline, so a receiver that trickles its answer
cannot hold a delivery past the channel's timeout. Secrets in a channel's URL or settings (passwords, tokens) are
redacted from everything recorded or printed: channel names, attempt details, results.

Webhook signature (docs/partners.md has the receiver's recipe): `X-Qingyuan-Timestamp` is the Unix time of the
attempt and `X-Qingyuan-Signature` is "v1=" + hex HMAC-SHA256(secret, timestamp + "." + Idempotency-Key + "." +
body); a receiver checks it in constant time and refuses timestamps older than a few minutes, so a captured request
cannot be replayed later or under another batch's key.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import hmac
import json
import mimetypes
import os
import random
import shutil
import smtplib
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, parsedate_to_datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
from pydantic import BaseModel

from alerts.takedown.bundle import atomic_path, atomic_write_bytes, sha256_path
from alerts.takedown.formats import format_of
from alerts.takedown.report import ReportBatch
from core.records import utcnow

SIGNATURE_HEADER = "X-Qingyuan-Signature"
TIMESTAMP_HEADER = "X-Qingyuan-Timestamp"
SIGNATURE_TOLERANCE = 300.0  # seconds a receiver accepts between our timestamp and its clock
IDEMPOTENCY_HEADER = "Idempotency-Key"
STATE_FILE = "state.json"


class DeliveryState(StrEnum):
    pending = "pending"
    sending = "sending"  # recorded before each send: seeing it on start-up means we died mid-send
    failed = "failed"  # last attempt failed, will be retried
    delivered = "delivered"
    dead_letter = "dead_letter"  # gave up: needs a person (Outbox.requeue to try again)


class RetryableDeliveryError(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(Exception):
    """The receiver refused the batch for a reason retrying will not fix (bad auth, 4xx, rejected recipients)."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # failed attempts (over all runs) before dead-letter
    base_delay: float = 1.0
    max_delay: float = 60.0
    jitter: float = 0.5  # up to this fraction of each delay is randomised, so retries from many jobs spread out

    def delay(self, failures: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds before the next attempt: jittered exponential backoff, never below the receiver's Retry-After
        (jitter spreads retries out; it must not bring one forward of what the receiver asked for)."""
        backoff = min(self.max_delay, self.base_delay * (2 ** max(0, failures - 1)))
        jittered = backoff * (1.0 - self.jitter * (rng or random).random())
        return max(jittered, retry_after or 0.0)


@runtime_checkable
class DeliveryChannel(Protocol):
    @property
    def name(self) -> str:
        """Stable id of this destination (the state file is keyed by it); never contains a secret."""
        ...

    def send(self, batch: ReportBatch, files: Sequence[Path], idempotency_key: str) -> str:
        """Send once; return a short note of the receiver's answer. Raise Retryable/PermanentDeliveryError."""
        ...


def channel_secrets(channel: object) -> tuple[str, ...]:
    """What must never be recorded or printed for a channel (its `secrets` attribute, when it has one)."""
    return tuple(s for s in getattr(channel, "secrets", ()) if s)


def redact(text: str, secrets: Sequence[str]) -> str:
    """`text` with every secret (longest first, so a token inside a URL goes with the URL) replaced by ***."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def url_secrets(url: str) -> tuple[str, ...]:
    """The parts of a URL that are credentials: the password in its userinfo, the query and each query value."""
    parts = urlsplit(url)
    found = [parts.password or "", unquote(parts.password or ""), parts.query]
    found += [v for _, v in parse_qsl(parts.query)]
    return tuple(f for f in found if f)


def public_url(url: str) -> str:
    """The URL as it may be shown: scheme, host, port and path; no userinfo, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


# --- Outbox -----------------------------------------------------------------------------------------------------


class Outbox:
    """`root/<batch_id>/`: copies of the batch's files and `state.json` (attempts per channel)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def folder(self, batch_id: str) -> Path:
        if not batch_id or "/" in batch_id or batch_id.startswith("."):
            raise ValueError(f"bad batch id {batch_id!r}")
        return self.root / batch_id

    @contextmanager
    def lock(self, batch_id: str) -> Iterator[None]:
        """Exclusive per-batch lock across processes, so two runs cannot send the same batch at once."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / f".{self.folder(batch_id).name}.lock").open("a") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def is_staged(self, batch_id: str) -> bool:
        return (self.folder(batch_id) / STATE_FILE).is_file()

    def stage(self, batch: ReportBatch, paths: Sequence[Path]) -> list[Path]:
        """Copy the batch's files into the outbox once; return the staged copies.

        The folder appears whole or not at all (built aside, then renamed). Once staged it is never rewritten:
        it is the record of what was (or will be) sent, and every retry sends exactly those bytes, even if the
        batch was rebuilt meanwhile.
        """
        folder = self.folder(batch.batch_id)
        if self.is_staged(batch.batch_id):
            return self.staged_files(batch.batch_id)
        self.root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".staging-{batch.batch_id}-", dir=self.root))
        try:
            names = []
            for src in map(Path, paths):
                shutil.copyfile(src, work / src.name)
                names.append(src.name)
            batch_json = f"{batch.batch_id}.json"
            if batch_json not in names:  # the outbox alone must be enough to retry later
                (work / batch_json).write_bytes(batch.model_dump_json(indent=2).encode("utf-8"))
            state: dict[str, Any] = {
                "batch_id": batch.batch_id,
                "platform": batch.platform.value,
                "items": len(batch.items),
                "staged_at": utcnow().isoformat(),
                "files": names,
                "channels": {},
            }
            (work / STATE_FILE).write_text(json.dumps(state, ensure_ascii=False, indent=2), "utf-8")
            for f in work.iterdir():
                with f.open("rb") as fh:
                    os.fsync(fh.fileno())
            if folder.exists():  # left half-staged by a crash before the rename below
                shutil.rmtree(folder)
            os.rename(work, folder)
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
        return self.staged_files(batch.batch_id)

    def load_state(self, batch_id: str) -> dict[str, Any]:
        path = self.folder(batch_id) / STATE_FILE
        if not path.is_file():
            return {"batch_id": batch_id, "files": [], "channels": {}}
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return data

    def save_state(self, batch_id: str, state: dict[str, Any]) -> None:
        data = json.dumps(state, ensure_ascii=False, indent=2, default=str).encode("utf-8")
        atomic_write_bytes(self.folder(batch_id) / STATE_FILE, data)

    def load_batch(self, batch_id: str) -> ReportBatch:
        return ReportBatch.model_validate_json((self.folder(batch_id) / f"{batch_id}.json").read_bytes())

    def staged_files(self, batch_id: str) -> list[Path]:
        return [self.folder(batch_id) / name for name in self.load_state(batch_id).get("files", [])]

    def batch_ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if not p.name.startswith(".") and self.is_staged(p.name))

    def withdraw(self, batch_id: str) -> bool:
        """Take a batch no channel has delivered out of the queue (its folder moves to `.withdrawn/`, kept as a
        record); True when it was queued. A batch some channel delivered raises: the partner already has it."""
        with self.lock(batch_id):
            if not self.is_staged(batch_id):
                return False
            channels = self.load_state(batch_id).get("channels", {})
            if any(entry.get("state") == DeliveryState.delivered.value for entry in channels.values()):
                raise ValueError(f"{batch_id} was already delivered; it cannot be withdrawn")
            gone = self.root / ".withdrawn" / self.folder(batch_id).name
            gone.parent.mkdir(parents=True, exist_ok=True)
            if gone.exists():
                shutil.rmtree(gone)
            os.rename(self.folder(batch_id), gone)
            return True

    def channel_state(self, batch_id: str, channel: str) -> DeliveryState | None:
        entry = self.load_state(batch_id)["channels"].get(channel)
        return DeliveryState(entry["state"]) if entry else None

    def requeue(self, batch_id: str, channel: str) -> None:
        """Give a dead-lettered batch a fresh set of attempts on a channel (keeps the history)."""
        with self.lock(batch_id):
            state = self.load_state(batch_id)
            entry = state["channels"].get(channel)
            if entry and entry["state"] == DeliveryState.dead_letter.value:
                entry["state"] = DeliveryState.pending.value
                entry["failures_before_requeue"] = entry.get("failures_before_requeue", 0) + _failures(entry)
                self.save_state(batch_id, state)


def _not_before(entry: dict[str, Any]) -> datetime | None:
    value = entry.get("not_before")
    moment = datetime.fromisoformat(value) if value else None
    return moment if moment is not None and moment > utcnow() else None


def _failures(entry: dict[str, Any]) -> int:
    counted = sum(1 for a in entry["attempts"] if a["outcome"] != "delivered")
    return counted - entry.get("failures_before_requeue", 0)


# --- deliver ----------------------------------------------------------------------------------------------------


class DeliveryResult(BaseModel):
    batch_id: str
    channel: str
    state: DeliveryState
    sent: bool  # True when this call got the batch accepted; False when already delivered or given up
    already_delivered: bool = False
    attempts: int  # attempts made by this call
    total_attempts: int  # over every run
    idempotency_key: str
    detail: str | None = None


def deliver(
    batch: ReportBatch,
    paths: Sequence[Path],
    channel: DeliveryChannel,
    state_dir: Path,
    *,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> DeliveryResult:
    """Stage the batch in the outbox at `state_dir` and send it on `channel` unless already delivered there."""
    policy = policy or RetryPolicy()
    outbox = Outbox(state_dir)
    key = batch.batch_id
    with outbox.lock(batch.batch_id):
        files = outbox.stage(batch, paths)
        batch = outbox.load_batch(batch.batch_id)  # send what was staged, byte for byte, on every retry
        state = outbox.load_state(batch.batch_id)
        entry = state["channels"].setdefault(
            channel.name, {"state": DeliveryState.pending.value, "idempotency_key": key, "attempts": []}
        )

        def result(sent: bool, made: int, detail: str | None, already: bool = False) -> DeliveryResult:
            return DeliveryResult(
                batch_id=batch.batch_id,
                channel=channel.name,
                state=DeliveryState(entry["state"]),
                sent=sent,
                already_delivered=already,
                attempts=made,
                total_attempts=len(entry["attempts"]),
                idempotency_key=entry["idempotency_key"],
                detail=detail,
            )

        if entry["state"] == DeliveryState.delivered.value:
            return result(False, 0, entry.get("response"), already=True)
        if entry["state"] == DeliveryState.dead_letter.value:
            return result(False, 0, entry["attempts"][-1]["detail"] if entry["attempts"] else None)
        waiting = _not_before(entry)
        if waiting is not None:  # the receiver asked for a later try than this run could wait
            return result(False, 0, f"waiting until {waiting.isoformat()} (Retry-After)")
        for attempt in entry["attempts"]:
            if attempt["outcome"] == "sending":  # we died mid-send; resend under the same key
                attempt["outcome"] = "interrupted"
                attempt["detail"] = "process stopped before the outcome was recorded"

        secrets = channel_secrets(channel)
        made = 0
        while True:
            made += 1
            attempt = {"n": len(entry["attempts"]) + 1, "started_at": utcnow().isoformat(), "outcome": "sending"}
            entry["attempts"].append(attempt)
            entry["state"] = DeliveryState.sending.value
            outbox.save_state(batch.batch_id, state)  # durable before anything leaves this machine
            retry_after: float | None = None
            try:
                note = channel.send(batch, files, entry["idempotency_key"])
            except PermanentDeliveryError as exc:
                attempt.update(outcome="permanent_error", detail=redact(str(exc), secrets)[:500])
                entry["state"] = DeliveryState.dead_letter.value
            except RetryableDeliveryError as exc:
                attempt.update(outcome="retryable_error", detail=redact(str(exc), secrets)[:500])
                retry_after = exc.retry_after
            except Exception as exc:  # an unforeseen error: retry, then dead-letter; never lose the batch
                attempt.update(outcome="error", detail=redact(f"{type(exc).__name__}: {exc}", secrets)[:500])
            else:
                note = redact(note, secrets)
                attempt.update(outcome="delivered", detail=note[:500])
                entry.update(state=DeliveryState.delivered.value, delivered_at=utcnow().isoformat(), response=note)
            attempt["finished_at"] = utcnow().isoformat()
            if entry["state"] == DeliveryState.sending.value:
                dead = _failures(entry) >= policy.max_attempts
                entry["state"] = (DeliveryState.dead_letter if dead else DeliveryState.failed).value
            entry.pop("not_before", None)
            wait = policy.delay(_failures(entry), retry_after, rng) if entry["state"] == "failed" else 0.0
            if wait > policy.max_delay:  # too long to hold this run: a later run picks the batch up
                entry["not_before"] = (utcnow() + timedelta(seconds=wait)).isoformat()
            outbox.save_state(batch.batch_id, state)
            if entry["state"] != DeliveryState.failed.value or "not_before" in entry:
                return result(entry["state"] == DeliveryState.delivered.value, made, attempt.get("detail"))
            sleep(wait)


def deliver_pending(
    state_dir: Path, channel: DeliveryChannel, *, policy: RetryPolicy | None = None, **kwargs: Any
) -> list[DeliveryResult]:
    """Deliver every batch in the outbox that `channel` has not taken yet (for the scheduler's delivery job)."""
    outbox = Outbox(state_dir)
    results = []
    for batch_id in outbox.batch_ids():
        if outbox.channel_state(batch_id, channel.name) in (DeliveryState.delivered, DeliveryState.dead_letter):
            continue
        batch = outbox.load_batch(batch_id)
        results.append(deliver(batch, outbox.staged_files(batch_id), channel, state_dir, policy=policy, **kwargs))
    return results


# --- channels ---------------------------------------------------------------------------------------------------


class FolderDelivery:
    """Drop the files into a partner's pick-up folder (e.g. an SFTP share), one sub-folder per batch."""

    def __init__(self, dest: Path) -> None:
        self.dest = Path(dest)

    @property
    def name(self) -> str:
        return f"folder:{self.dest}"

    def send(self, batch: ReportBatch, files: Sequence[Path], idempotency_key: str) -> str:
        target = self.dest / idempotency_key
        try:
            target.mkdir(parents=True, exist_ok=True)
            for src in files:
                with atomic_path(target / src.name) as tmp:
                    shutil.copyfile(src, tmp)
        except OSError as exc:
            raise RetryableDeliveryError(f"copy failed: {exc}") from exc
        return f"copied {len(files)} files to {target}"


def _message_id(key: str, sender: str) -> str:
    domain = sender.rsplit("@", 1)[-1].strip("<> ") if "@" in sender else "qingyuan.invalid"
    return f"<{key}@{domain}>"


def _summary(batch: ReportBatch) -> str:
    lines = [
        f"{batch.notifier.organisation} 违规内容下架通知",
        f"批次：{batch.batch_id}　平台：{batch.platform_name}　条目：{len(batch.items)}",
        f"已人工审核确认 {batch.reviewed_count} 条，未经人工审核 {batch.unreviewed_count} 条（各条审核状态见附件）",
        "",
        "请依据法律法规及平台规则审核并下架/删除以下内容。详情见附件（XLSX 清单、JSON、HTML 摘要、证据包及其 SHA-256）。",
        "",
    ]
    for item in batch.items:
        lines.append(f"{item.seq}. [{item.category_name}] {item.content_url}（作品ID {item.content_id}）")
    lines += [
        "",
        f"联系人：{batch.notifier.person} <{batch.notifier.contact}>",
        batch.notifier.good_faith_statement,
    ]
    return "\n".join(lines)


class SmtpSender:
    """An SMTP server and the addresses a channel sends from and to; shared by report delivery and alert mail."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if not recipients:
            raise ValueError("at least one recipient is needed")
        self.host, self.port, self.sender = host, port, sender
        self.recipients = list(recipients)
        self.username, self.password = username, password
        self.starttls, self.timeout = starttls, timeout
        self.ssl_context = ssl_context

    @property
    def name(self) -> str:
        return f"smtp:{self.host}:{self.port}:{_short_hash(','.join(sorted(self.recipients)))}"

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.password,) if self.password else ()

    def message_id(self, key: str) -> str:
        return _message_id(key, self.sender)

    def send_message(self, msg: EmailMessage) -> dict[str, Any]:
        """send_smtp with this channel's server; returns the recipients the server refused."""
        return send_smtp(
            msg,
            host=self.host,
            port=self.port,
            sender=self.sender,
            recipients=self.recipients,
            username=self.username,
            password=self.password,
            starttls=self.starttls,
            timeout=self.timeout,
            ssl_context=self.ssl_context,
        )


class SmtpDelivery(SmtpSender):
    """Email the batch with its files attached. Message-ID derives from the batch id so a resend can be deduped."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        max_attachment_bytes: int = 20 << 20,
    ) -> None:
        super().__init__(host, port, sender, recipients, username, password, starttls, timeout, ssl_context)
        self.max_attachment_bytes = max_attachment_bytes

    def build_message(self, batch: ReportBatch, files: Sequence[Path], idempotency_key: str) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = f"违规内容下架通知 {batch.batch_id}（{batch.platform_name}，{len(batch.items)} 条）"
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = self.message_id(idempotency_key)
        msg["X-Qingyuan-Batch"] = batch.batch_id
        msg["Auto-Submitted"] = "auto-generated"
        attached, omitted, total = [], [], 0
        for path in files:
            size = path.stat().st_size
            if total + size > self.max_attachment_bytes:  # mail servers refuse big messages; say what is left out
                omitted.append(path)
                continue
            attached.append(path)
            total += size
        body = _summary(batch)
        if omitted:
            body += "\n\n以下附件超出邮件大小限制未随信附上，可向联系人索取（可用 SHA-256 核验）：\n" + "\n".join(
                f"{p.name}  SHA-256 {sha256_path(p)}" for p in omitted
            )
        msg.set_content(body)
        for path in attached:
            fmt = format_of(path)  # the report format registry names each batch file's type
            ctype = fmt.mime if fmt else mimetypes.guess_type(path.name)[0]
            maintype, subtype = (ctype or "application/octet-stream").split("/", 1)
            params = {"charset": "utf-8"} if maintype == "text" else None  # our text files are UTF-8; say so
            msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name, params=params)
        return msg

    def send(self, batch: ReportBatch, files: Sequence[Path], idempotency_key: str) -> str:
        msg = self.build_message(batch, files, idempotency_key)
        refused = self.send_message(msg)
        note = f"accepted by {self.host}:{self.port} as {msg['Message-ID']}"
        if refused:
            note += f"; refused for {sorted(refused)}"
        return note


def send_smtp(
    msg: EmailMessage,
    *,
    host: str,
    port: int,
    sender: str,
    recipients: Sequence[str],
    username: str | None = None,
    password: str | None = None,
    starttls: bool = False,
    timeout: float = 30.0,
    ssl_context: ssl.SSLContext | None = None,
) -> dict[str, Any]:
    """Send one message; SMTP failures become Retryable (4xx, connection trouble) or Permanent (5xx) errors.

    `timeout` is a total deadline for the whole exchange, greeting included (smtplib's own timeout is per read, so a
    server trickling its replies could hold the send for ever): when it passes the connection is shut down.
    Returns the recipients the server refused while accepting the others.
    """
    smtp = smtplib.SMTP(timeout=timeout)  # not connected yet, so the deadline covers the greeting too
    smtp._host = host  # type: ignore[attr-defined]  # as the constructor sets it: STARTTLS checks the cert against it
    cut = threading.Event()

    def shut() -> None:
        cut.set()
        sock = smtp.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked read at once

    timer = threading.Timer(timeout, shut)
    timer.daemon = True
    timer.start()
    try:
        return _smtp_exchange(smtp, msg, host, port, sender, recipients, username, password, starttls, ssl_context)
    except (RetryableDeliveryError, PermanentDeliveryError) as exc:
        if cut.is_set():
            raise RetryableDeliveryError(
                f"Timeout: no complete SMTP exchange within the {timeout:g}s deadline"
            ) from exc
        raise
    finally:
        timer.cancel()


def _smtp_exchange(
    smtp: smtplib.SMTP,
    msg: EmailMessage,
    host: str,
    port: int,
    sender: str,
    recipients: Sequence[str],
    username: str | None,
    password: str | None,
    starttls: bool,
    ssl_context: ssl.SSLContext | None,
) -> dict[str, Any]:
    try:
        with smtp:
            code, greeting = smtp.connect(host, port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, greeting)
            if starttls:
                smtp.starttls(context=ssl_context or ssl.create_default_context())
            if username:
                smtp.login(username, password or "")
            return dict(smtp.send_message(msg, from_addr=sender, to_addrs=list(recipients)))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(400 <= c < 500 for c in codes):
            raise RetryableDeliveryError(f"recipients deferred: {codes}") from exc
        raise PermanentDeliveryError(f"recipients refused: {codes}") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise PermanentDeliveryError(f"server does not support: {exc}") from exc
    except smtplib.SMTPResponseException as exc:
        message = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
        if 400 <= exc.smtp_code < 500:
            raise RetryableDeliveryError(message) from exc
        raise PermanentDeliveryError(message) from exc
    except (smtplib.SMTPException, OSError) as exc:  # disconnects, refused connections, timeouts
        raise RetryableDeliveryError(f"{type(exc).__name__}: {exc}") from exc


def sign_request(secret: str | bytes, timestamp: str, idempotency_key: str, body: bytes) -> str:
    """The X-Qingyuan-Signature value: "v1=" + hex HMAC-SHA256 over timestamp, ".", key, ".", body."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    message = timestamp.encode("ascii") + b"." + idempotency_key.encode("utf-8") + b"." + body
    return "v1=" + hmac.new(key, message, hashlib.sha256).hexdigest()


def signed_headers(secret: str | bytes, idempotency_key: str, body: bytes) -> dict[str, str]:
    """Timestamp, signature and Idempotency-Key headers for one attempt (the timestamp is fresh each time)."""
    timestamp = str(int(time.time()))
    return {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign_request(secret, timestamp, idempotency_key, body),
        IDEMPOTENCY_HEADER: idempotency_key,
    }


def verify_request(
    secret: str | bytes,
    headers: dict[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: float = SIGNATURE_TOLERANCE,
) -> bool:
    """For receivers (and tests): the signature matches the timestamp, the Idempotency-Key and the body, and the
    timestamp is within `tolerance` seconds of `now`. Header names are matched case-insensitively."""
    lower = {k.lower(): v for k, v in headers.items()}
    timestamp, key = lower.get(TIMESTAMP_HEADER.lower(), ""), lower.get(IDEMPOTENCY_HEADER.lower(), "")
    signature = lower.get(SIGNATURE_HEADER.lower(), "")
    if not (timestamp.isdigit() and key and signature):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign_request(secret, timestamp, key, body), signature)


_RETRYABLE_STATUS = {408, 425, 429}


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the receiver asked us to wait: `Retry-After` as delta-seconds or as an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


async def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> httpx.Response:
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        return await client.post(url, content=body, headers=headers)


def post_signed(url: str, body: bytes, headers: dict[str, str], timeout: float) -> str:
    """POST once within a total deadline of `timeout` seconds (connect, send and the whole answer: httpx's own
    timeouts are per read, so a receiver trickling a byte at a time could hold it for ever). 5xx, 408/425/429,
    transport errors and the deadline are retryable; any other 4xx is permanent."""
    try:
        response = asyncio.run(asyncio.wait_for(_post(url, body, headers, timeout), timeout))
    except TimeoutError as exc:
        raise RetryableDeliveryError(f"Timeout: no complete answer within the {timeout:g}s deadline") from exc
    except httpx.TransportError as exc:  # connect errors, broken connections
        raise RetryableDeliveryError(f"{type(exc).__name__}: {exc}") from exc
    message = f"HTTP {response.status_code}: {response.text[:300]}"
    if response.is_success:
        return message
    if response.status_code >= 500 or response.status_code in _RETRYABLE_STATUS:
        raise RetryableDeliveryError(message, retry_after=_retry_after(response))
    raise PermanentDeliveryError(message)


class WebhookDelivery:
    """POST the batch JSON, HMAC-signed over timestamp, Idempotency-Key (the batch id) and body."""

    def __init__(self, url: str, secret: str, timeout: float = 30.0, name: str | None = None) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("webhook URL must be http(s)")
        self.url, self.secret, self.timeout = url, secret, timeout
        self._name = name

    @property
    def name(self) -> str:
        if self._name:
            return self._name
        # userinfo and query may hold a password or token: the name (kept in state, casebook, history) has neither
        return f"webhook:{public_url(self.url)}#{_short_hash(self.url)}"

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.secret, *url_secrets(self.url))

    def send(self, batch: ReportBatch, files: Sequence[Path], idempotency_key: str) -> str:
        body = batch.model_dump_json().encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            **signed_headers(self.secret, idempotency_key, body),
            "X-Qingyuan-Batch": batch.batch_id,
            "User-Agent": "qingyuan-delivery/1",
        }
        return post_signed(self.url, body, headers, self.timeout)
