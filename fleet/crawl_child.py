"""One crawl worker's Scrapy process for one job: serves the job's frontier until it is drained, then exits.

python -m fleet.crawl_child --job J --consumer NAME --settings-file S.json [--stats-file OUT.json] [--log-file L]
    [--source-address 127.0.0.2] [--arg accounts=...] [--arg proxies=...]

A Twisted reactor cannot restart, so the worker starts one of these per job it joins (crawlers.run does the same
for a single-machine crawl). It dies with its worker (PR_SET_PDEATHSIG, set by the parent).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from core.settings import Settings
from fleet import keys
from fleet.connection import connect, retrying
from fleet.jobs import CrawlJob, finish_job, frontier_state

log = logging.getLogger(__name__)


def scrapy_overrides(source_address: str | None) -> dict[str, Any]:
    from scrapy.settings import Settings as ScrapySettings

    return {
        "ITEM_PIPELINES": {},  # a page's posts are committed with the page (fleet.frontier), not spooled here
        "SPIDER_MIDDLEWARES": {"fleet.frontier.FrontierMiddleware": 10},  # sees the output last, as it leaves
        "DOWNLOADER_MIDDLEWARES_BASE": {
            **ScrapySettings().getdict("DOWNLOADER_MIDDLEWARES_BASE"),
            "fleet.frontier.ReleaseOnFailure": 1,  # nearest the engine: sees a download's final failure
        },
        "DUPEFILTER_CLASS": "scrapy.dupefilters.BaseDupeFilter",  # the job's seen-set in Redis decides
        "QINGYUAN_SOURCE_ADDRESS": source_address or "",
        "QINGYUAN_PROGRESS": False,
        "EXTENSIONS": {},
    }


def _load_watermarks(client: Any, spider: Any) -> None:
    """A platform spider's watermarks (newest publish time per seed) come from Redis, shared by every worker."""
    if not hasattr(spider, "_since"):
        return
    marks = retrying("reading watermarks", lambda: client.hgetall(keys.watermarks(spider.name)))
    for seed, iso in marks.items():
        when = datetime.fromisoformat(iso)
        if seed not in spider._since or when > spider._since[seed]:
            spider._since[seed] = when


def _save_watermarks(client: Any, spider: Any) -> None:
    """Merge this worker's newest publish times in, never moving a watermark backwards."""
    for seed, newest in getattr(spider, "_newest", {}).items():
        name = keys.watermarks(spider.name)
        current = retrying("reading watermarks", partial(client.hget, name, seed))
        if current is None or datetime.fromisoformat(current) < newest:
            retrying("writing watermarks", partial(client.hset, name, seed, newest.isoformat()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fleet.crawl_child")
    parser.add_argument("--job", required=True)
    parser.add_argument("--consumer", required=True)
    parser.add_argument("--settings-file", required=True)
    parser.add_argument("--stats-file", default=None)
    parser.add_argument("--log-file", default=None)
    parser.add_argument("--source-address", default=None)
    parser.add_argument("--arg", action="append", default=[])
    ns = parser.parse_args(argv)

    from scrapy import signals
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings as ScrapySettings

    from crawlers.pipelines import OcrPipeline
    from crawlers.run import _spider_class
    from crawlers.settings import scrapy_settings as project_settings
    from fleet.frontier import Frontier, fleet_spider

    qy = Settings.model_validate_json(Path(ns.settings_file).read_text(encoding="utf-8"))
    assert qy.redis_url, "the fleet needs QINGYUAN_REDIS_URL"
    client = connect(qy.redis_url)
    raw_job = retrying("reading the job", lambda: client.hget(keys.JOBS, ns.job))
    if raw_job is None:
        return 0  # finished meanwhile
    job = CrawlJob.model_validate_json(raw_job)
    values = project_settings(qy, job.spider, job.job)
    values.update(scrapy_overrides(ns.source_address))
    if ns.source_address:
        values["DOWNLOADER_MIDDLEWARES"] = {
            **values.get("DOWNLOADER_MIDDLEWARES", {}),
            "fleet.frontier.SourceAddressMiddleware": 50,
        }
    scrapy_settings = ScrapySettings(values, priority="project")
    if ns.log_file:
        scrapy_settings.set("LOG_FILE", ns.log_file, priority="cmdline")
    args = {**job.args, **dict(a.split("=", 1) for a in ns.arg)}
    started = time.monotonic()
    process = CrawlerProcess(scrapy_settings)
    crawler = process.create_crawler(fleet_spider(_spider_class(job.spider)))
    frontier = Frontier(
        qy.redis_url,
        job.job,
        ns.consumer,
        claim_after_s=qy.claim_after_s,
        max_tries=qy.max_tries,
        artefact_root=qy.artefact_root,
    )
    crawler.qy_frontier = frontier  # type: ignore[attr-defined]
    crawler.qy_ocr = OcrPipeline(crawler)  # type: ignore[attr-defined]

    def opened(spider: Any) -> None:
        _load_watermarks(client, spider)

    def closed(spider: Any, reason: str) -> None:
        if frontier._keepalive is not None:
            frontier._keepalive.cancel()
        _save_watermarks(client, spider)

    crawler.signals.connect(opened, signal=signals.spider_opened)
    crawler.signals.connect(closed, signal=signals.spider_closed)
    process.crawl(crawler, job=job.job, **args)
    process.start()
    undelivered, unacknowledged = retrying("reading the frontier", lambda: frontier_state(client, job.job))
    drained = undelivered == 0 and unacknowledged == 0
    if drained:
        retrying("finishing the job", lambda: finish_job(client, job))
    stats = crawler.stats.get_stats() if crawler.stats else {}
    summary = {
        "job": job.job,
        "spider": job.spider,
        "consumer": ns.consumer,
        "finish_reason": str(stats.get("finish_reason", "")),
        "pages": stats.get("response_received_count", 0),
        "pages_committed": stats.get("qingyuan/fleet/pages_committed", 0),
        "posts": stats.get("qingyuan/posts", 0),
        "posts_streamed": stats.get("qingyuan/posts_spooled", 0),
        "claimed": frontier.claimed,
        "dead_lettered": frontier.dead,
        "errors": stats.get("log_count/ERROR", 0),
        "drained": drained,
        "duration_s": round(time.monotonic() - started, 2),
    }
    if ns.stats_file:
        Path(ns.stats_file).write_text(json.dumps(summary), encoding="utf-8")
    return 0 if summary["finish_reason"] == "finished" else 1


if __name__ == "__main__":
    raise SystemExit(main())  # Scrapy's root handler logs everything, ours included, to --log-file
