"""Alert digests against real servers on loopback: http.server for the signed webhook (failing, then recovering)
and aiosmtpd for the email digest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from alerts.monitoring.notify import EmailAlertChannel, NotifyError, WebhookAlertChannel, digest_id, notify, run_alerts
from alerts.monitoring.rules import AlertLog
from alerts.takedown.delivery import RetryPolicy, SmtpDelivery, WebhookDelivery, verify_request
from core.records import Category, ContactMatch, Hit, utcnow
from core.settings import Settings
from tests import factories
from tests.integration.partner_servers import MailSink, Receiver, serve_webhook

pytestmark = pytest.mark.integration

SECRET = "alert-秘钥"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, jitter=0.5)


def make_hit(i: int, text: str, wechat: str) -> Hit:
    post = factories.make_post(
        f"n{i}",
        text,
        platform="xiaohongshu",
        url="",
        fetched_at=utcnow(),
        author_id=f"acct{i}",
        published_at=NOW - timedelta(hours=1 + i),
    )
    verdict = factories.make_verdict(
        score=0.97,
        category=Category.credit_repair,
        contacts=[ContactMatch(type="wechat", value=wechat, start=0, end=len(wechat))],
    )
    return factories.make_hit(post, verdict, first_seen=NOW)


def campaign_hits() -> list[Hit]:
    """Five accounts, one WeChat id, one script with swapped phone numbers: a surge, a campaign and a cluster."""
    script = "征信修复洗白，黑户白户都能做，逾期记录可以消除，不成功全额退款 <script>x</script> 电话 {phone}"
    return [make_hit(i, script.format(phone=13800000000 + i), "zx_help01") for i in range(5)]


# --- webhook ------------------------------------------------------------------------------------------------------


@pytest.fixture()
def webhook() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver(SECRET)
    with serve_webhook(receiver, "/hooks/alerts?token=t0k") as url:
        yield receiver, url


def test_webhook_digest_is_signed_retried_and_sent_once(webhook: tuple[Receiver, str], tmp_path: Path) -> None:
    receiver, url = webhook
    receiver.script = [503]
    settings = Settings(home=tmp_path)
    channel = WebhookAlertChannel(url, SECRET, timeout=5)
    counts = run_alerts(campaign_hits(), settings=settings, now=NOW, channel=channel, policy=FAST)
    assert counts["new"] == 3 and counts["notified"] == 3  # category surge, campaign, near-duplicate cluster

    assert len(receiver.requests) == 2  # one 503, one accepted
    logged = AlertLog.for_settings(settings).list(limit=10)
    expected_key = digest_id(logged)
    assert receiver.processed == {expected_key: 1}
    for headers, body in receiver.requests:
        assert headers["Idempotency-Key"] == expected_key
        assert verify_request(SECRET, headers, body)
        assert not verify_request("wrong", headers, body)
    payload = json.loads(receiver.requests[-1][1].decode("utf-8"))
    assert payload["digest_id"] == expected_key and payload["count"] == 3
    assert {a["rule"] for a in payload["alerts"]} == {"surge", "campaign", "near_duplicate"}
    campaign = next(a for a in payload["alerts"] if a["rule"] == "campaign")
    assert campaign["subject"] == "zx_help01" and campaign["accounts"] == 5

    again = run_alerts(campaign_hits(), settings=settings, now=NOW + timedelta(minutes=15), channel=channel)
    assert again == {"evaluated_hits": 5, "raised": 3, "new": 0, "notified": 0}
    assert len(receiver.requests) == 2


def test_webhook_permanent_refusal_raises_and_report_channel_is_accepted(webhook: tuple[Receiver, str]) -> None:
    receiver, url = webhook
    from alerts.monitoring.registry import evaluate

    alerts = evaluate(campaign_hits(), NOW)
    with pytest.raises(NotifyError):
        notify(alerts, WebhookAlertChannel(url, "not-the-secret", timeout=5), policy=FAST)  # receiver answers 401
    assert len(receiver.requests) == 1
    # the partner's report webhook configuration works for alerts too
    assert notify(alerts, WebhookDelivery(url, SECRET, timeout=5), policy=FAST) == len(alerts)
    assert receiver.processed == {digest_id(alerts): 1}


# --- SMTP ---------------------------------------------------------------------------------------------------------


def test_email_digest_reaches_a_real_smtp_server(smtp_server: tuple[MailSink, int], tmp_path: Path) -> None:
    sink, port = smtp_server
    settings = Settings(home=tmp_path)
    channel = EmailAlertChannel("127.0.0.1", port, "alerts@qingyuan.example", ["oncall@qingyuan.example"], timeout=5)
    counts = run_alerts(campaign_hits(), settings=settings, now=NOW, channel=channel, policy=FAST)
    assert counts["notified"] == 3
    (msg,) = sink.messages
    assert sink.envelopes == [("alerts@qingyuan.example", ["oncall@qingyuan.example"])]
    key = digest_id(AlertLog.for_settings(settings).list(limit=10))
    assert msg["Message-ID"] == f"<{key}@qingyuan.example>"
    assert "3 条新预警" in str(msg["Subject"])
    body = msg.get_content()
    assert "引流团伙" in body and "zx_help01（wechat）" in body and "xiaohongshu:n0" in body
    assert "激增" in body and "批量同文" in body

    # the report SmtpDelivery configuration is accepted too; nothing new means no mail
    report_channel = SmtpDelivery("127.0.0.1", port, "alerts@qingyuan.example", ["oncall@qingyuan.example"], timeout=5)
    assert run_alerts(campaign_hits(), settings=settings, now=NOW, channel=report_channel)["notified"] == 0
    assert len(sink.messages) == 1
