"""Spider for the bundled demo site: feed (infinite scroll) -> video pages (JS caption + scrolled comments)
-> author pages (bio). Every page is rendered in chromium through scrapy-playwright."""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy_playwright.page import PageMethod

from core.records import CrawlInfo, Post
from core.settings import Settings
from crawlers.browser import SCROLL_UNTIL_DONE_JS
from crawlers.extract.demo import author_links, parse_author, parse_detail, video_links


def save_raw(raw_dir: Path, name: str, body: bytes) -> str:
    """Gzip the rendered page under raw_dir/demo/; returns the ref relative to raw_dir (content-addressed)."""
    digest = hashlib.sha256(body).hexdigest()
    ref = f"demo/{name}-{digest[:16]}.html.gz"
    path = raw_dir / ref
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(gzip.compress(body, mtime=0))
        tmp.replace(path)
    return ref


def _scroll(done: str, count: str, pause_ms: int, max_rounds: int) -> PageMethod:
    args = {"doneSelector": done, "countSelector": count, "pauseMs": pause_ms, "idleRounds": 12, "maxRounds": max_rounds}
    return PageMethod("evaluate", SCROLL_UNTIL_DONE_JS, args)


class DemoSpider(scrapy.Spider):
    name = "demo"

    def __init__(self, base_url: str = "http://127.0.0.1:8000", job: str = "demo", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")
        self.job = job

    @property
    def qy(self) -> Settings:
        if not hasattr(self, "_qy"):
            self._qy = Settings.model_validate(self.settings.getdict("QINGYUAN_SETTINGS"))
        return self._qy

    def _crawl_info(self) -> CrawlInfo:
        return CrawlInfo(spider=self.name, job=self.job, mode="browser")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(
            f"{self.base_url}/",
            callback=self.parse_feed,
            meta={
                "playwright": True,
                "playwright_page_methods": [
                    PageMethod("wait_for_selector", "#feed"),
                    _scroll("#feed", "#feed .card", 200, 400),
                ],
            },
        )

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        for url in video_links(response.text, response.url):
            yield self._detail_request(url)

    def _detail_request(self, url: str) -> scrapy.Request:
        post_id = url.rstrip("/").rsplit("/", 1)[-1]
        shot = self.qy.evidence_dir / "demo" / f"{post_id}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        return scrapy.Request(
            url,
            callback=self.parse_detail,
            cb_kwargs={"post_id": post_id, "screenshot": str(shot)},
            meta={
                "playwright": True,
                "playwright_page_methods": [
                    PageMethod("wait_for_selector", "#detail[data-state=ready], #detail[data-state=error]"),
                    _scroll("#comments", "li.comment", 120, 120),
                    PageMethod("screenshot", path=str(shot), full_page=True),
                ],
            },
        )

    def parse_detail(self, response: Response, post_id: str, screenshot: str) -> Iterator[Any]:
        posts = parse_detail(response.text, response.url)
        if not posts:
            self.crawler.stats.inc_value("qingyuan/empty_detail")
            self.logger.warning("no caption rendered at %s", response.url)
            return
        ref = save_raw(self.qy.raw_dir, f"video-{re.sub(r'[^0-9A-Za-z_-]', '_', post_id)}", response.body)
        self.crawler.stats.inc_value("qingyuan/raw_saved")
        if Path(screenshot).exists():
            self.crawler.stats.inc_value("qingyuan/screenshots")
        info = self._crawl_info()
        for post in posts:
            yield post.model_copy(update={"raw_ref": ref, "crawl": info})
        for url in author_links(response.text, response.url):
            yield scrapy.Request(
                url,
                callback=self.parse_author,
                meta={
                    "playwright": True,
                    "playwright_page_methods": [
                        PageMethod("wait_for_selector", "#profile[data-state=ready], #profile[data-state=error]")
                    ],
                },
            )

    def parse_author(self, response: Response) -> Iterator[Any]:
        uid = response.url.rstrip("/").rsplit("/", 1)[-1]
        posts: list[Post] = parse_author(response.text, response.url)
        if posts:
            ref = save_raw(self.qy.raw_dir, f"user-{re.sub(r'[^0-9A-Za-z_-]', '_', uid)}", response.body)
            for post in posts:
                yield post.model_copy(update={"raw_ref": ref, "crawl": self._crawl_info()})
        for url in video_links(response.text, response.url):  # the dupefilter drops the ones the feed gave
            yield self._detail_request(url)
