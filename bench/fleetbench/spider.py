"""The fake platform's spider: the index page names every listing page; each listing page holds full posts.

Polite per IP: one request at a time, `rate` requests per second (the platform's limit for one address)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from core.records import CrawlInfo
from fleetbench.parser import parse


class FleetBenchSpider(scrapy.Spider):
    name = "fleetbench"
    custom_settings = {  # noqa: RUF012 - Scrapy's own convention
        "AUTOTHROTTLE_ENABLED": False,
        "RANDOMIZE_DOWNLOAD_DELAY": False,
        "CONCURRENT_REQUESTS": 2,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "RETRY_HTTP_CODES": [429, 500, 502, 503],
        "RETRY_TIMES": 5,
    }

    def __init__(self, base_url: str = "", rate: str = "5", job: str = "", **kw: Any) -> None:
        super().__init__(**kw)
        self.base_url = base_url.rstrip("/")
        self.download_delay = 1.0 / float(rate)
        self.job = job

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(f"{self.base_url}/index", callback=self.parse_index)

    def parse_index(self, response: Response) -> Iterator[scrapy.Request]:
        for page in json.loads(response.text)["pages"]:
            yield scrapy.Request(f"{self.base_url}/page/{page}", callback=self.parse_page)

    def parse_page(self, response: Response) -> Iterator[Any]:
        info = CrawlInfo(spider=self.name, job=self.job, mode="api")
        for post in parse(response.body, response.url):
            yield post.model_copy(update={"crawl": info})
