"""Item pipeline: validate Posts, drop repeats, append to the Spool in batches (flushed on close)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from core.records import Post
from core.settings import Settings
from core.spool import Spool, content_fingerprint


class SpoolPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        spool_dir = crawler.settings.get("QINGYUAN_SPOOL_DIR")
        if not spool_dir:
            spool_dir = Settings.model_validate(crawler.settings.getdict("QINGYUAN_SETTINGS")).spool_dir
        self.spool = Spool(spool_dir)
        self.batch_size = crawler.settings.getint("QINGYUAN_SPOOL_BATCH", 50)
        self.skip_known = crawler.settings.getbool("QINGYUAN_SKIP_KNOWN", True)
        self.job = "default"
        self.buffer: list[Post] = []
        self.seen: set[str] = set()
        self.known: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SpoolPipeline:
        return cls(crawler)

    def open_spider(self, spider: Spider | None = None) -> None:
        spider = spider or self.crawler.spider
        self.job = str(
            self.crawler.settings.get("QINGYUAN_JOB")
            or getattr(spider, "job", None)
            or getattr(spider, "name", "default")
        )
        if self.skip_known:  # a re-crawl only spools what changed, so a second run adds nothing
            self.known = self.spool.fingerprints()  # the index files; no post is parsed

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        stats = self.crawler.stats
        assert stats is not None
        try:
            post = item if isinstance(item, Post) else Post.model_validate(item)
        except ValidationError as exc:
            stats.inc_value("qingyuan/invalid_items")
            raise DropItem(f"invalid post: {exc.error_count()} errors") from exc
        if not post.text.strip():
            stats.inc_value("qingyuan/empty_text")
            raise DropItem(f"empty text: {post.key}")
        if post.key in self.seen:
            stats.inc_value("qingyuan/duplicates")
            raise DropItem(f"duplicate in run: {post.key}")
        self.seen.add(post.key)
        stats.inc_value(f"qingyuan/kind/{post.kind.value}")
        stats.inc_value("qingyuan/posts")
        if self.known.get(post.key) == content_fingerprint(post):
            stats.inc_value("qingyuan/unchanged")
            return post
        self.buffer.append(post)
        if len(self.buffer) >= self.batch_size:
            self.flush()
        return post

    def flush(self) -> None:
        if self.buffer:
            n = self.spool.append(self.buffer, job=self.job)
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("qingyuan/posts_spooled", n)
            self.buffer = []

    def close_spider(self, spider: Spider | None = None) -> None:
        self.flush()
