"""Run one crawl in its own process (a Twisted reactor cannot restart), and read back what it did.

    stats = run_crawl("demo", settings, job="demo", base_url=url, on_progress=print)

The child (`python -m crawlers.run`) runs Scrapy, spools posts through crawlers.pipelines.SpoolPipeline,
prints one JSON progress line per flush on stdout, and writes its final stats to a JSON file. The parent
enforces a timeout: SIGTERM first (Scrapy closes gracefully and flushes the spool), SIGKILL if that hangs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from core.settings import Settings, get_settings

log = logging.getLogger(__name__)

SPIDERS: dict[str, str] = {
    "demo": "crawlers.spiders.demo.DemoSpider",
    "douyin": "crawlers.spiders.douyin.DouyinSpider",
    "kuaishou": "crawlers.spiders.kuaishou.KuaishouSpider",
    "xiaohongshu": "crawlers.spiders.xiaohongshu.XiaohongshuSpider",
    "weibo": "crawlers.spiders.weibo.WeiboSpider",
    "bilibili": "crawlers.spiders.bilibili.BilibiliSpider",
    "zhihu": "crawlers.spiders.zhihu.ZhihuSpider",
    "tieba": "crawlers.spiders.tieba.TiebaSpider",
}


class CrawlStats(BaseModel):
    spider: str
    job: str
    pages: int = 0
    posts: int = 0
    comments: int = 0
    errors: int = 0
    soft_blocks: int = 0
    gone: int = 0
    duration: float = 0.0
    finish_reason: str = ""
    exit_code: int = 0
    timed_out: bool = False
    raw: dict[str, Any] = Field(default_factory=dict)


def _sum(stats: dict[str, Any], prefix: str) -> int:
    return int(sum(v for k, v in stats.items() if k.startswith(prefix) and isinstance(v, int | float)))


def summarise(spider: str, job: str, stats: dict[str, Any]) -> CrawlStats:
    return CrawlStats(
        spider=spider,
        job=job,
        pages=int(stats.get("response_received_count", 0)),
        posts=int(stats.get("qingyuan/spooled", 0)),
        comments=int(stats.get("qingyuan/comments", 0)),
        errors=int(stats.get("qingyuan/errors", 0)) + _sum(stats, "log_count/ERROR"),
        soft_blocks=_sum(stats, "qingyuan/soft_block/"),
        gone=_sum(stats, "qingyuan/gone/"),
        finish_reason=str(stats.get("finish_reason", "")),
        raw={k: v for k, v in stats.items() if isinstance(v, int | float | str)},
    )


def run_crawl(
    spider: str,
    settings: Settings,
    job: str,
    *,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    timeout: float | None = None,
    **spider_args: Any,
) -> CrawlStats:
    """Run `spider` in a child process with `spider_args` (strings, as `scrapy crawl -a` takes them)."""
    if spider not in SPIDERS:
        raise ValueError(f"unknown spider {spider!r}; choose one of: {', '.join(sorted(SPIDERS))}")
    settings.ensure_dirs()
    with tempfile.TemporaryDirectory(prefix="qy-crawl-") as tmp:
        stats_file = Path(tmp) / "stats.json"
        cmd = [sys.executable, "-m", "crawlers.run", "--spider", spider, "--job", job, "--stats-out", str(stats_file)]
        for name, value in spider_args.items():
            cmd += ["--arg", f"{name}={value}"]
        env = {**os.environ, "QINGYUAN_HOME": str(settings.home)}
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
        timed_out = threading.Event()

        def stop_on_timeout() -> None:
            timed_out.set()
            log.warning("crawl %s/%s passed its %.0fs timeout: stopping it", spider, job, timeout)
            proc.send_signal(signal.SIGTERM)  # Scrapy closes gracefully and the pipeline flushes
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()

        timer = threading.Timer(timeout, stop_on_timeout) if timeout else None
        if timer:
            timer.daemon = True
            timer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if on_progress and isinstance(event, dict) and event.get("event") == "progress":
                    on_progress(event)
            code = proc.wait()
        finally:
            if timer:
                timer.cancel()
            if proc.poll() is None:
                proc.kill()
        raw = json.loads(stats_file.read_text(encoding="utf-8")) if stats_file.exists() else {}
    stats = summarise(spider, job, raw)
    stats.duration = time.monotonic() - started
    stats.exit_code = code
    stats.timed_out = timed_out.is_set()
    if code != 0 and not stats.timed_out:
        log.error("crawl %s/%s exited with %d", spider, job, code)
    return stats


def _child(spider: str, job: str, stats_out: Path, args: dict[str, str]) -> int:
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.misc import load_object

    from crawlers.settings import scrapy_settings

    settings = get_settings()
    # Scrapy's own root handler, at the LOG_LEVEL in scrapy_settings, logs to stderr; stdout carries progress.
    process = CrawlerProcess(scrapy_settings(settings, spider, job, progress=True))
    crawler = process.create_crawler(load_object(SPIDERS[spider]))
    final: dict[str, Any] = {}

    def on_closed(spider: Any, reason: str) -> None:
        final.update(crawler.stats.get_stats())
        final["finish_reason"] = reason

    crawler.signals.connect(on_closed, signals.spider_closed)
    process.crawl(crawler, job=job, **args)
    process.start()
    stats = final or crawler.stats.get_stats() or {}
    stats_out.write_text(json.dumps(stats, default=str, ensure_ascii=False), encoding="utf-8")
    return 0 if stats.get("finish_reason") in ("finished", "shutdown", None) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one Qingyuan crawl (normally started by run_crawl).")
    parser.add_argument("--spider", required=True, choices=sorted(SPIDERS))
    parser.add_argument("--job", required=True)
    parser.add_argument("--stats-out", required=True, type=Path)
    parser.add_argument("--arg", action="append", default=[], help="NAME=VALUE spider argument")
    ns = parser.parse_args(argv)
    args = dict(item.split("=", 1) for item in ns.arg)
    return _child(ns.spider, ns.job, ns.stats_out, args)


if __name__ == "__main__":
    sys.exit(main())
