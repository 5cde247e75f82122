"""Spider for the bundled demo site: feed (infinite scroll) -> video pages (JS caption + scrolled comments)
-> author pages (bio). Every page is rendered in chromium through scrapy-playwright; each video and author page
is kept as a full-page screenshot (evidence) and as gzipped rendered HTML (raw response); each caption, comment
and bio on them also as a crop of that screenshot around it, outlined (crawlers/itemcrop.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy_playwright.page import PageMethod

from core.evidence import screenshot_path
from core.records import CrawlInfo, Post
from core.settings import Settings
from crawlers.browser import SCROLL_UNTIL_DONE_JS, ItemSelector, item_boxes_method
from crawlers.extract.common import UnknownShape
from crawlers.extract.demo import author_links, feed_cards, parse_author, parse_detail, video_links
from crawlers.itemcrop import keep_item_crops
from crawlers.rawstore import save_raw

# The items on each page and where their ids are (what crawlers.extract.demo reads them from).
VIDEO_ITEMS = (
    ItemSelector("article.post[data-post-id]", "data-post-id"),
    ItemSelector("li.comment[data-comment-id]", "data-comment-id"),
)
PROFILE_ITEMS = (ItemSelector("#profile [data-role=bio]", "data-user-id", prefix="user-"),)


def _scroll(done: str, count: str, pause_ms: int, max_rounds: int, enough: int | None = None) -> PageMethod:
    args = {
        "doneSelector": done,
        "countSelector": count,
        "pauseMs": pause_ms,
        "idleRounds": 12,
        "maxRounds": max_rounds,
        "enough": enough or 0,
    }
    return PageMethod("evaluate", SCROLL_UNTIL_DONE_JS, args)


def _last_segment(url: str) -> str:
    return url.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class DemoSpider(scrapy.Spider):
    name = "demo"

    def __init__(
        self, base_url: str = "http://127.0.0.1:8000", job: str = "demo", max_posts: str | int | None = None, **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.base_url = base_url.rstrip("/")
        self.job = job
        self.max_posts = int(max_posts) if max_posts not in (None, "", "0", 0) else None
        self.scheduled_videos: set[str] = set()

    @property
    def qy(self) -> Settings:
        if not hasattr(self, "_qy"):
            self._qy = Settings.model_validate(self.settings.getdict("QINGYUAN_SETTINGS"))
        return self._qy

    def _stamp(self, post: Post, ref: str) -> Post:
        return post.model_copy(
            update={"raw_ref": ref, "crawl": CrawlInfo(spider=self.name, job=self.job, mode="browser")}
        )

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(
            f"{self.base_url}/",
            callback=self.parse_feed,
            meta={
                "playwright": True,
                "playwright_page_methods": [
                    PageMethod("wait_for_selector", "#feed"),
                    _scroll("#feed", "#feed .card", 200, 400, self.max_posts),
                ],
            },
        )

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        cards = feed_cards(response.text, response.url)
        if self.max_posts is not None:
            cards = cards[: self.max_posts]
        authors = {a for _, a in cards if a}
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("qingyuan/expected_pages", 1 + len(cards) + len(authors))
        if not cards:
            self.logger.error("feed rendered no posts at %s", response.url)
        for url, _ in cards:
            yield from self._detail_request(url)

    def _detail_request(self, url: str) -> Iterator[scrapy.Request]:
        if url in self.scheduled_videos:
            return
        if self.max_posts is not None and len(self.scheduled_videos) >= self.max_posts:
            return
        self.scheduled_videos.add(url)
        shot = screenshot_path(self.qy, "demo", _last_segment(url))
        shot.parent.mkdir(parents=True, exist_ok=True)
        yield scrapy.Request(
            url,
            callback=self.parse_video,
            cb_kwargs={"shot": str(shot)},
            meta={
                "playwright": True,
                "playwright_page_methods": [
                    PageMethod("wait_for_selector", "#detail[data-state=ready], #detail[data-state=error]"),
                    _scroll("#comments", "li.comment", 120, 150),  # comments arrive only while scrolling
                    PageMethod("evaluate", "window.scrollTo(0, 0)"),
                    item_boxes_method(VIDEO_ITEMS),
                    PageMethod("screenshot", path=str(shot), full_page=True),
                ],
            },
        )

    def parse_video(self, response: Response, shot: str) -> Iterator[Any]:
        assert self.crawler.stats is not None
        try:
            posts = parse_detail(response.text, response.url)
        except UnknownShape:
            self.crawler.stats.inc_value("qingyuan/unrendered")
            self.logger.error("no caption rendered at %s", response.url)
            return
        ref = save_raw(self.qy.raw_dir, "demo", f"video-{posts[0].post_id}.html", response.body)
        self.crawler.stats.inc_value("qingyuan/raw_saved")
        self.crawler.stats.inc_value("qingyuan/screenshots")
        self._crop_items(response, shot)
        for post in posts:
            yield self._stamp(post, ref)
        for url in author_links(response.text, response.url):
            shot_path = screenshot_path(self.qy, "demo", f"user-{_last_segment(url)}")
            yield scrapy.Request(
                url,
                callback=self.parse_author,
                meta={
                    "playwright": True,
                    "playwright_page_methods": [
                        PageMethod("wait_for_selector", "#profile[data-state=ready], #profile[data-state=error]"),
                        item_boxes_method(PROFILE_ITEMS),
                        PageMethod("screenshot", path=str(shot_path), full_page=True),
                    ],
                },
                cb_kwargs={"shot": str(shot_path)},
            )

    def _crop_items(self, response: Response, shot: str) -> None:
        crops = keep_item_crops(self.qy, "demo", Path(shot), response.meta.get("playwright_page_methods", ()))
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("qingyuan/item_crops", crops)

    def parse_author(self, response: Response, shot: str = "") -> Iterator[Any]:
        assert self.crawler.stats is not None
        try:
            posts = parse_author(response.text, response.url)
        except UnknownShape:
            self.crawler.stats.inc_value("qingyuan/unrendered")
            self.logger.error("no profile rendered at %s", response.url)
            return
        self.crawler.stats.inc_value("qingyuan/screenshots")
        if posts and shot:
            self._crop_items(response, shot)
        if posts:
            ref = save_raw(self.qy.raw_dir, "demo", f"user-{_last_segment(response.url)}.html", response.body)
            self.crawler.stats.inc_value("qingyuan/raw_saved")
            for post in posts:
                yield self._stamp(post, ref)
        if self.max_posts is None:  # the dupefilter drops the videos the feed already gave
            for url in video_links(response.text, response.url):
                yield from self._detail_request(url)
