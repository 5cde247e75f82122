"""Soft-block detection and progress reporting for crawls.

Platforms answer blocks with HTTP 200 and an empty body, 461, "访问频次异常" or a captcha page: that is a soft
block (count it, back off, retry a little), never "no results".
"""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from crawlers.extract.common import detect_soft_block

PROGRESS_PREFIX = "QY-PROGRESS "
_HEAD = re.compile(rb"<head[\s>].*?</head>", re.I | re.S)


def is_soft_block(status: int, body: bytes) -> bool:
    """The platform spiders' own judgement (status codes, empty 200s, captcha wording where the site talks
    about the request), for spiders without a platform of their own.

    The demo site says nothing about the request outside a page's <head>: its API JSON (no envelope, every
    field is post text) and its rendered page bodies are all content, and a bank's notice warning
    "请勿泄露验证码" is not a captcha. So JSON is judged by status alone and a page by its head."""
    if body.lstrip()[:1] in (b"{", b"["):
        body = b"{}"
    elif head := _HEAD.search(body):
        body = head.group(0)
    return detect_soft_block("demo", status, body, expected_results=False) is not None


class SoftBlockMiddleware:
    """Counts soft blocks, retries each request up to `max_retries` times with a growing delay, then drops it."""

    def __init__(self, crawler: Crawler, max_retries: int = 2) -> None:
        self.stats = crawler.stats
        self.max_retries = max_retries

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SoftBlockMiddleware:
        return cls(crawler, crawler.settings.getint("QINGYUAN_SOFT_BLOCK_RETRIES", 2))

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Any:
        if not is_soft_block(response.status, response.body):
            return response
        assert self.stats is not None
        self.stats.inc_value("qingyuan/soft_blocks")
        tries = request.meta.get("qy_block_retries", 0)
        if tries >= self.max_retries:
            raise IgnoreRequest(f"soft block persisted: {request.url}")
        meta = {**request.meta, "qy_block_retries": tries + 1, "download_slot": request.meta.get("download_slot")}
        meta["download_delay"] = 2.0 * (tries + 1)
        return request.replace(dont_filter=True, meta=meta)


class ProgressExtension:
    """Prints one JSON progress line to stdout every few seconds (and at the end) for the parent process."""

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.last = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        ext = cls(crawler, crawler.settings.getfloat("QINGYUAN_PROGRESS_INTERVAL", 2.0))
        crawler.signals.connect(ext.tick, signal=signals.response_received)
        crawler.signals.connect(ext.tick, signal=signals.item_scraped)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def snapshot(self, stage: str) -> dict[str, Any]:
        s = self.crawler.stats.get_stats() if self.crawler.stats else {}
        return {
            "stage": stage,
            "pages": s.get("response_received_count", 0),
            "posts": s.get("qingyuan/posts", 0),
            "spooled": s.get("qingyuan/posts_spooled", 0),
            "comments": s.get("qingyuan/kind/comment", 0),
            "expected_pages": s.get("qingyuan/expected_pages"),
            "items": s.get("item_scraped_count", 0),
            "soft_blocks": s.get("qingyuan/soft_blocks", 0),
            "errors": s.get("log_count/ERROR", 0),
        }

    def tick(self, *args: Any, **kwargs: Any) -> None:
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self.emit(self.snapshot("crawling"))

    def closed(self, spider: Spider, reason: str) -> None:
        self.emit({**self.snapshot("closed"), "reason": reason})

    @staticmethod
    def emit(payload: dict[str, Any]) -> None:
        sys.stdout.write(PROGRESS_PREFIX + json.dumps(payload, ensure_ascii=False) + "\n")
        sys.stdout.flush()
