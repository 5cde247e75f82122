"""Connecting to Redis, and surviving its restarts: every worker call goes through `retrying`, which backs off
(0.5 s doubling to 10 s) while Redis is unreachable and says so in the log, once when it is lost and once when back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import redis

T = TypeVar("T")
log = logging.getLogger(__name__)

TRANSIENT = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)


def connect(url: str) -> redis.Redis:
    # A short socket timeout: a Redis that vanished is noticed in seconds, not at the kernel's TCP timeout.
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=15, socket_connect_timeout=5)


def backoff_delays(first: float = 0.5, cap: float = 10.0):  # type: ignore[no-untyped-def]
    delay = first
    while True:
        yield delay
        delay = min(cap, delay * 2)


def retrying(what: str, call: Callable[[], T], *, give_up_after: float | None = None) -> T:
    """`call()`, retried with back-off while Redis is unreachable or loading its append-only file."""
    lost_at: float | None = None
    delays = backoff_delays()
    while True:
        try:
            result = call()
        except TRANSIENT as exc:
            now = time.monotonic()
            if lost_at is None:
                lost_at = now
                log.warning("redis unreachable during %s (%s); reconnecting with back-off", what, exc)
            if give_up_after is not None and now - lost_at > give_up_after:
                raise
            time.sleep(next(delays))
            continue
        if lost_at is not None:
            log.warning("redis reachable again after %.1f s (%s)", time.monotonic() - lost_at, what)
        return result
