"""Send a digest of new alerts to the analysts on duty: a signed webhook or a plain-text email, with retries.

The digest id derives from the sorted alert ids, so a resend of the same alerts (a retry, or a run that died after
sending but before recording) carries the same Idempotency-Key / Message-ID and the receiver can drop it. The
webhook is signed exactly like report delivery (`alerts.takedown.delivery.signed_headers`: timestamp, key and body).
Transient failures (5xx, 408/425/429, timeouts, refused connections, SMTP 4xx) are retried with the backoff of
`RetryPolicy`; a permanent refusal, or running out of attempts, raises `NotifyError`.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from pydantic import BaseModel

from alerts.monitoring.registry import RuleSpec, evaluate
from alerts.monitoring.rules import Alert, AlertConfig, AlertLog, clean_text
from alerts.takedown.delivery import (
    PermanentDeliveryError,
    RetryableDeliveryError,
    RetryPolicy,
    SmtpDelivery,
    SmtpSender,
    WebhookDelivery,
    channel_secrets,
    post_signed,
    public_url,
    redact,
    signed_headers,
    url_secrets,
)
from core.records import Hit, utcnow

DIGEST_HEADER = "X-Qingyuan-Alert-Digest"


class NotifyError(RuntimeError):
    """The digest could not be delivered (permanent refusal or attempts exhausted). `counts` is set by run_alerts."""

    def __init__(self, message: str, attempts: int, counts: dict[str, int] | None = None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.counts = counts or {}


class AlertDigest(BaseModel):
    type: str = "qingyuan.alerts"
    digest_id: str
    created_at: datetime  # latest alert's created_at: the same alerts always give the same body
    count: int
    alerts: list[Alert]


def digest_id(alerts: Iterable[Alert]) -> str:
    ids = sorted({a.id for a in alerts})
    return "ad-" + hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()[:24]


def build_digest(alerts: Sequence[Alert]) -> AlertDigest:
    unique = list({a.id: a for a in alerts}.values())
    unique.sort(key=lambda a: (a.severity != "high", a.created_at, a.id))
    return AlertDigest(
        digest_id=digest_id(unique),
        created_at=max(a.created_at for a in unique),
        count=len(unique),
        alerts=unique,
    )


def digest_body(digest: AlertDigest) -> bytes:
    return json.dumps(digest.model_dump(mode="json"), ensure_ascii=False, sort_keys=True).encode("utf-8")


def digest_text(digest: AlertDigest) -> str:
    lines = [f"清源预警摘要 / Qingyuan alert digest {digest.digest_id}", f"新预警 {digest.count} 条 / new alerts", ""]
    for n, a in enumerate(digest.alerts, 1):
        keys = ", ".join(a.hit_keys[:10]) + (f" …(+{len(a.hit_keys) - 10})" if len(a.hit_keys) > 10 else "")
        lines += [
            f"{n}. [{a.severity.value}] {clean_text(a.title, 300)}",
            f"   {clean_text(a.summary, 300)}",
            f"   rule={a.rule.value} {a.subject_kind}={clean_text(a.subject)} platforms={','.join(a.platforms)}",
            f"   window {a.window_start.isoformat()} – {a.window_end.isoformat()}  id={a.id}",
            f"   hits: {clean_text(keys, 2000)}",
            "",
        ]
    lines.append("在分析台或 `qingyuan alerts` 中查看详情。")
    return "\n".join(lines)


# --- channels ---------------------------------------------------------------------------------------------------


@runtime_checkable
class AlertChannel(Protocol):
    @property
    def name(self) -> str:
        """Stable id of this destination (the alert log records digests per channel); never contains a secret."""
        ...

    def send_digest(self, digest: AlertDigest) -> str:
        """Send once; return a short note. Raise RetryableDeliveryError / PermanentDeliveryError."""
        ...


class WebhookAlertChannel:
    def __init__(self, url: str, secret: str, timeout: float = 30.0, name: str | None = None) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("webhook URL must be http(s)")
        self.url, self.secret, self.timeout, self._name = url, secret, timeout, name

    @property
    def name(self) -> str:
        if self._name:
            return self._name
        short = hashlib.sha256(self.url.encode("utf-8")).hexdigest()[:8]
        return f"webhook:{public_url(self.url)}#{short}"  # no password or token in the log

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.secret, *url_secrets(self.url))

    def send_digest(self, digest: AlertDigest) -> str:
        body = digest_body(digest)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            **signed_headers(self.secret, digest.digest_id, body),
            DIGEST_HEADER: digest.digest_id,
            "User-Agent": "qingyuan-alerts/1",
        }
        return post_signed(self.url, body, headers, self.timeout)


class EmailAlertChannel(SmtpSender):
    """Alert digests by mail, through the same SMTP settings and sending code as report delivery."""

    def build_message(self, digest: AlertDigest) -> EmailMessage:
        high = sum(1 for a in digest.alerts if a.severity == "high")
        msg = EmailMessage()
        # No crawled text in headers: only counts and ids we generated.
        msg["Subject"] = f"【清源预警】{digest.count} 条新预警（高 {high}）/ {digest.count} new alerts"
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = self.message_id(digest.digest_id)
        msg["X-Qingyuan-Alert-Digest"] = digest.digest_id
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(digest_text(digest), charset="utf-8")
        return msg

    def send_digest(self, digest: AlertDigest) -> str:
        msg = self.build_message(digest)
        self.send_message(msg)
        return f"accepted by {self.host}:{self.port} as {msg['Message-ID']}"


def as_alert_channel(channel: Any) -> AlertChannel:
    """Accept an alert channel, or the report-delivery WebhookDelivery / SmtpDelivery configured for a partner."""
    if isinstance(channel, WebhookDelivery):
        return WebhookAlertChannel(channel.url, channel.secret, channel.timeout)
    if isinstance(channel, SmtpDelivery):
        return EmailAlertChannel(
            channel.host,
            channel.port,
            channel.sender,
            channel.recipients,
            channel.username,
            channel.password,
            channel.starttls,
            channel.timeout,
            channel.ssl_context,
        )
    if isinstance(channel, AlertChannel):
        return channel
    raise TypeError(f"not an alert channel: {type(channel).__name__}")


# --- notify / run -----------------------------------------------------------------------------------------------


def notify(
    alerts: Sequence[Alert],
    channel: Any,
    *,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> int:
    """Send one digest of `alerts` on `channel`; return how many alerts it carried (0, and no send, when empty)."""
    if not alerts:
        return 0
    policy = policy or RetryPolicy()
    target = as_alert_channel(channel)
    digest = build_digest(alerts)
    secrets = channel_secrets(target)
    failures = 0
    while True:
        try:
            target.send_digest(digest)
            return digest.count
        except PermanentDeliveryError as exc:
            message = f"{target.name} refused digest {digest.digest_id}: {exc}"
            raise NotifyError(redact(message, secrets), failures + 1) from exc
        except RetryableDeliveryError as exc:
            failures += 1
            if failures >= policy.max_attempts:
                message = f"{target.name}: gave up after {failures} attempts: {exc}"
                raise NotifyError(redact(message, secrets), failures) from exc
            sleep(policy.delay(failures, exc.retry_after, rng))


def run_alerts(
    hits: Iterable[Hit],
    *,
    settings: Any,
    now: datetime | None = None,
    end: datetime | None = None,
    cfg: AlertConfig | None = None,
    rules: Sequence[RuleSpec] | None = None,
    channel: Any = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, int]:
    """Evaluate the rules (all, or `rules`) over the window ending at `end` (default `now`), log the alerts not seen
    before, and send one digest of what `channel` has not had yet.

    Alerts logged by an earlier run whose digest failed are sent again (if raised within the baseline period), so
    a failed send is retried on the next run rather than lost. On failure raises NotifyError carrying the counts.
    """
    now = now or utcnow()
    cfg = cfg or AlertConfig()
    hits = list(hits)
    raised = evaluate(hits, end or now, cfg, rules=rules, raised_at=now)
    log = AlertLog.for_settings(settings)
    new = log.add_new(raised)
    counts = {"evaluated_hits": len(hits), "raised": len(raised), "new": len(new), "notified": 0}
    if channel is None:
        return counts
    target = as_alert_channel(channel)
    oldest = now - cfg.baseline  # a channel configured today does not get months of old alerts
    pending = [a for a in log.unnotified(target.name) if a.created_at >= oldest]
    try:
        counts["notified"] = notify(pending, target, policy=policy, sleep=sleep)
    except NotifyError as exc:
        exc.counts = counts
        raise
    if pending:
        log.mark_notified(pending, target.name, digest_id(pending))
    return counts
