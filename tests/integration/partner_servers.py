"""A partner's endpoints on loopback, shared by the report-delivery and alert tests: an aiosmtpd mail server that
keeps what it accepts, and an http.server webhook that checks signatures and counts deliveries by Idempotency-Key."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.smtp import SMTP as AioSMTP
from aiosmtpd.smtp import Envelope, Session

from alerts.takedown.delivery import verify_request
from tests.integration.loopback import QuietHandler, serve_http


@dataclass
class MailSink:
    """aiosmtpd handler: defers the first `defer` messages with 451, refuses all with 550 when `refuse`."""

    defer: int = 0
    refuse: bool = False
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    tries: int = 0

    async def handle_DATA(self, server: AioSMTP, session: Session, envelope: Envelope) -> str:
        self.tries += 1
        if self.refuse:
            return "550 5.7.1 policy rejection"
        if self.tries <= self.defer:
            return "451 4.3.0 try again later"
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        self.messages.append(message_from_bytes(raw, policy=default_policy))  # type: ignore[arg-type]
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 OK queued"


@contextmanager
def serve_smtp(sink: MailSink) -> Iterator[int]:
    """A real SMTP server (SMTPUTF8 on) on a free loopback port, run in a thread; yields the port."""
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(lambda: AioSMTP(sink, hostname="mx.test", enable_SMTPUTF8=True), "127.0.0.1", 0)
    )
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()


@dataclass
class Receiver:
    """A partner endpoint: answers from `script` (then `then`); a 200 whose signature does not match its timestamp,
    Idempotency-Key and body, or whose timestamp is stale by the receiver's clock, becomes 401; accepted
    deliveries are counted by Idempotency-Key in `processed` (the reply says when one is a duplicate)."""

    secret: str
    script: list[int] = field(default_factory=list)
    then: int = 200
    delay_first: float = 0.0
    trickle: float = 0.0  # > 0: answer 200 one byte every `trickle` seconds, as a hostile or broken receiver might
    trickled: list[int] = field(default_factory=list)  # bytes each trickling answer got out before we hung up
    retry_after: str | None = None  # sent with every non-200 answer
    clock: Callable[[], float] = time.time  # the receiver's clock, which a test may move on to replay a request
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    processed: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def serve_webhook(receiver: Receiver, path: str) -> Iterator[str]:
    """A real HTTP server on a free loopback port, run in a thread; yields the URL of `path` on it."""

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = self.read_body()
            with receiver.lock:
                receiver.requests.append((dict(self.headers.items()), body))
                n = len(receiver.requests)
                status = receiver.script[n - 1] if n <= len(receiver.script) else receiver.then
            if n == 1 and receiver.delay_first:
                time.sleep(receiver.delay_first)
            key = self.headers.get("Idempotency-Key", "")
            duplicate = False
            if status == 200 and receiver.trickle:
                self._trickle()
                return
            if status == 200:
                if not verify_request(receiver.secret, dict(self.headers.items()), body, now=receiver.clock()):
                    status = 401
                else:
                    with receiver.lock:
                        receiver.processed[key] = receiver.processed.get(key, 0) + 1
                        duplicate = receiver.processed[key] > 1
            extra = {"Retry-After": receiver.retry_after} if receiver.retry_after and status != 200 else None
            answer: dict[str, object] = {"ticket": f"T-{key}", "duplicate": duplicate}
            if status != 200:
                answer["path"] = self.path  # error pages often echo the URL, query token and all
            self.reply(status, json.dumps(answer).encode(), headers=extra)

        def _trickle(self) -> None:
            body = b'{"ticket": "slow"}' + b" " * 200
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            sent = 0
            try:
                for i in range(len(body)):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    sent += 1
                    time.sleep(receiver.trickle)
            except OSError:
                pass  # the sender hung up: what we want to see
            with receiver.lock:
                receiver.trickled.append(sent)

    with serve_http(Handler) as base:
        yield base + path
