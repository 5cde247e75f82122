"""Item pipelines: read the text in posts' images (OCR); validate Posts, drop repeats, append to the Spool in
batches (flushed on close)."""

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
        if not post.text.strip() and not post.ocr_text.strip() and not post.media:
            # An image-only post (a Tieba floor, a note) is kept for its media; only a post with nothing is dropped.
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


class OcrPipeline:
    """Fetch each post's images and attach the text OCR reads in them (`Post.image_text`).

    Runs in a worker thread so the reactor keeps crawling while onnxruntime works. Images are fetched from the
    spider's origin rewrite (a replay server in tests), never straight from a CDN the crawl was not pointed at.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        options = Settings.model_validate(crawler.settings.getdict("QINGYUAN_SETTINGS"))
        self.enabled = crawler.settings.getbool("QINGYUAN_OCR", options.ocr_images)
        self.limit = max(0, options.ocr_max_images)
        self.images_dir = options.evidence_dir / "images"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OcrPipeline:
        return cls(crawler)

    async def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if not self.enabled or not isinstance(item, Post) or not item.media or item.image_text:
            return item
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet.threads import deferToThread

        from core.ocr import attach_image_text, keep_in

        spider = spider or self.crawler.spider
        rewrite = getattr(spider, "url", None)
        fetch = _fetcher(rewrite if callable(rewrite) else None)
        keep = keep_in(self.images_dir / item.platform.value)
        post = await maybe_deferred_to_future(deferToThread(attach_image_text, item, fetch, self.limit, keep))
        stats = self.crawler.stats
        if stats is not None and post.image_text:
            stats.inc_value("qingyuan/ocr_images", len(post.image_text))
        return post


def _fetcher(rewrite: Any) -> Any:
    import httpx

    from core.ocr import MAX_BYTES

    def fetch(url: str) -> bytes | None:
        if not url.startswith(("http://", "https://")):
            return None
        target = rewrite(url) if rewrite else url
        try:
            with httpx.stream("GET", target, timeout=15, follow_redirects=True) as resp:
                if resp.status_code != 200:
                    return None
                data = bytearray()
                for chunk in resp.iter_bytes():
                    data.extend(chunk)
                    if len(data) > MAX_BYTES:
                        return None
                return bytes(data)
        except httpx.HTTPError:
            return None

    return fetch
