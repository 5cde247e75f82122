"""Scrapy settings for Qingyuan crawls, derived from the typed Settings (one place decides how crawls run)."""

from __future__ import annotations

import json
import os
from typing import Any

from core.platforms import PLATFORMS
from core.settings import Settings
from crawlers.browser import context_options, launch_options

# Spiders of crawlers/spiders/<platform>.py: their requests are signed per platform (crawlers.signing.middleware).


def scrapy_settings(settings: Settings, spider: str, job: str, *, progress: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {
        "BOT_NAME": "qingyuan",
        "LOG_LEVEL": os.environ.get("QINGYUAN_LOG_LEVEL", "WARNING"),
        "LOG_FORMAT": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        "TELNETCONSOLE_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
        "COOKIES_ENABLED": True,
        "CONCURRENT_REQUESTS": 8,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "DOWNLOAD_TIMEOUT": 60,
        # OCR runs first so an image-only post reaches the spool with the text read from its images.
        "ITEM_PIPELINES": {"crawlers.pipelines.OcrPipeline": 200, "crawlers.pipelines.SpoolPipeline": 300},
        "QINGYUAN_SPOOL_DIR": str(settings.spool_dir),
        "QINGYUAN_JOB": job,
        "QINGYUAN_PROGRESS": progress,
        "QINGYUAN_CRAWL_QUERIES": list(settings.crawl_queries),
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        # the whole typed Settings, so spiders and pipelines see the same data home as the parent
        "QINGYUAN_SETTINGS": json.loads(settings.model_dump_json()),
        "QINGYUAN_SPOOL_BATCH": 50,
        "QINGYUAN_PROGRESS_INTERVAL": 1.0,
        "EXTENSIONS": {"crawlers.middlewares.ProgressExtension": 500},
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
    }
    spec = PLATFORMS.get(spider)
    if spec is not None and spec.signed:
        # After the default-headers/user-agent middlewares (400/500), before compression (590) and cookies (700).
        values["DOWNLOADER_MIDDLEWARES"] = {"crawlers.signing.middleware.SigningMiddleware": 580}
        # auto: sign against the live platforms, not against a replay base_url; on | off force it.
        values["QINGYUAN_SIGNING"] = os.environ.get("QINGYUAN_SIGNING", "auto")
    if spec is not None and spec.browser:
        values.update(
            {
                "DOWNLOAD_HANDLERS": {
                    "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
                    "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
                },
                "PLAYWRIGHT_BROWSER_TYPE": "chromium",
                "PLAYWRIGHT_LAUNCH_OPTIONS": launch_options(settings.chromium_path),
                "PLAYWRIGHT_CONTEXTS": {"default": context_options()},
                "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": 30_000,
                # Platform spiders judge blocks per platform in parse (crawlers.extract.common.detect_soft_block);
                # browser-rendered pages are judged here before they reach the spider.
                "DOWNLOADER_MIDDLEWARES": {"crawlers.middlewares.SoftBlockMiddleware": 560},
                # each request is a chromium tab: 4 keep 2 cores busy without thrashing
                "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 4,
                "CONCURRENT_REQUESTS": 4,
                "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
                "AUTOTHROTTLE_TARGET_CONCURRENCY": 4.0,
                "AUTOTHROTTLE_START_DELAY": 0.1,
            }
        )
    return values
