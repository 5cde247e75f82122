"""Wiring for the shared mode: queueing crawl jobs and running workers with this machine's stores and classifier.

The fleet's logic is in `fleet/`; this module only gathers its dependencies (the classify-and-index function is
the single-machine one, `wiring.pipeline.index_posts`, so a post gets the same verdict either way).
"""

from __future__ import annotations

import logging
from typing import Any

from core.records import Post
from core.settings import Settings
from indexer.base import HitStore

log = logging.getLogger(__name__)


def enqueue_job(settings: Settings, spider: str, job: str, args: dict[str, str]) -> bool:
    from fleet.connection import connect, retrying
    from fleet.jobs import CrawlJob, enqueue_crawl

    assert settings.redis_url
    client = connect(settings.redis_url)
    crawl_job = CrawlJob(job=job, spider=spider, args=args)
    return bool(retrying("queueing a crawl job", lambda: enqueue_crawl(client, crawl_job), give_up_after=30))


def run_index_worker(
    settings: Settings, *, classifier_kind: str | None = None, batch: int = 32, exit_when_idle: float | None = None
) -> dict[str, Any]:
    from dataclasses import asdict

    from casebook import Casebook
    from classifiers.load import load_classifier
    from fleet.index_worker import IndexWorker, open_with_backoff
    from indexer import open_store
    from wiring.pipeline import index_posts

    if not settings.elasticsearch_url:
        log.warning("index worker on the embedded index: run only one (set QINGYUAN_ELASTICSEARCH_URL for more)")
    classifier = load_classifier(settings, classifier_kind)
    store = open_with_backoff("the index", lambda: open_store(settings))
    book = open_with_backoff("the casebook", lambda: Casebook(settings.casebook))

    def index(posts: list[Post], into: HitStore) -> None:
        index_posts(posts, settings=settings, store=into, classifier=classifier, known=set())

    try:
        worker = IndexWorker(settings, store=store, casebook=book, index_posts=index, batch_messages=batch)
        return asdict(worker.run(exit_when_idle=exit_when_idle))
    finally:
        store.close()
        book.close()
