"""Every Redis name the fleet uses, in one place (a worker, the CLI and `fleet status` read the same ones)."""

from __future__ import annotations

PREFIX = "qy"
JOBS = f"{PREFIX}:jobs"  # hash: job name -> CrawlJob JSON, while the job has pages to fetch
JOBS_DONE = f"{PREFIX}:jobs:done"  # hash: job name -> CrawlJob JSON with its finish time
POSTS = f"{PREFIX}:posts"  # stream: one entry per crawled page, field "posts" = JSON list of Posts
FINGERPRINTS = f"{PREFIX}:fingerprints"  # hash: post key -> content fingerprint of its newest streamed version
DEAD = f"{PREFIX}:dead"  # stream: messages given up on, with where they came from and why
COUNTERS = f"{PREFIX}:counters"  # hash: pages_claimed, messages_claimed, dead_letters (for monitoring)
WORKERS = f"{PREFIX}:workers"  # hash: worker name -> heartbeat JSON {role, pid, host, at, done}
CRAWL_GROUP = "crawl"
INDEX_GROUP = "index"


def frontier(job: str) -> str:
    """Stream of the pages a job still has to fetch, consumed by the crawl group."""
    return f"{PREFIX}:frontier:{job}"


def seen(job: str) -> str:
    """Set of the page fingerprints a job has queued (a page is queued once per job, whoever found it)."""
    return f"{PREFIX}:seen:{job}"


def watermarks(spider: str) -> str:
    """Hash: seed -> newest publish time seen (ISO, UTC), shared by every worker crawling that spider."""
    return f"{PREFIX}:watermarks:{spider}"
