"""Crawl jobs on the shared queue: what `qingyuan crawl ... --enqueue` and the scheduler put there."""

from __future__ import annotations

import json
from datetime import datetime

import redis
from pydantic import BaseModel, ConfigDict, Field

from core.records import utcnow
from fleet import keys

START_TASK = json.dumps({"start": True})  # the first frontier entry: the spider's own start requests


class CrawlJob(BaseModel):
    model_config = ConfigDict(frozen=True)

    job: str
    spider: str
    args: dict[str, str] = Field(default_factory=dict)
    enqueued_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


def enqueue_crawl(client: redis.Redis, job: CrawlJob) -> bool:
    """Put a crawl job on the queue and seed its frontier with its start task; False when a job of that name is
    already queued (a job name is its frontier and its seen-set, so two of them would share pages)."""
    if not client.hsetnx(keys.JOBS, job.job, job.model_dump_json()):
        return False
    pipe = client.pipeline(transaction=True)
    pipe.hdel(keys.JOBS_DONE, job.job)
    pipe.delete(keys.frontier(job.job), keys.seen(job.job))  # a finished job of the same name starts afresh
    pipe.xgroup_create(keys.frontier(job.job), keys.CRAWL_GROUP, id="0", mkstream=True)
    pipe.sadd(keys.seen(job.job), "start")
    pipe.xadd(keys.frontier(job.job), {"task": START_TASK})
    pipe.execute()
    return True


def active_jobs(client: redis.Redis) -> list[CrawlJob]:
    return [CrawlJob.model_validate_json(v) for v in client.hgetall(keys.JOBS).values()]


def finish_job(client: redis.Redis, job: CrawlJob) -> None:
    done = job.model_copy(update={"finished_at": utcnow()})
    pipe = client.pipeline(transaction=True)
    pipe.hdel(keys.JOBS, job.job)
    pipe.hset(keys.JOBS_DONE, job.job, done.model_dump_json())
    pipe.delete(keys.seen(job.job))
    pipe.execute()


def ensure_group(client: redis.Redis, stream: str, group: str) -> None:
    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def frontier_state(client: redis.Redis, job: str) -> tuple[int, int]:
    """(entries not yet delivered, entries delivered and not acknowledged) of a job's frontier."""
    for group in client.xinfo_groups(keys.frontier(job)):
        if group["name"] == keys.CRAWL_GROUP:
            lag = group.get("lag")
            return (int(lag) if lag is not None else int(client.xlen(keys.frontier(job)))), int(group["pending"])
    return 0, 0


def trim_acknowledged(client: redis.Redis, stream: str, group: str) -> int:
    """Drop the entries of `stream` that `group` has delivered and acknowledged (a stream keeps every entry until it
    is trimmed, so an unbounded post stream would hold every crawled post). Entries still pending stay, so a killed
    worker's batch can be claimed; only entries below both the oldest pending one and the group's last delivered one
    go, which also keeps the group's lag exact. Returns how many were dropped."""
    info = next((g for g in client.xinfo_groups(stream) if g["name"] == group), None)
    if info is None:
        return 0
    floor = str(info["last-delivered-id"])
    pending = client.xpending(stream, group)
    if pending["pending"]:
        floor = min(floor, str(pending["min"]), key=_stream_id)
    return int(client.xtrim(stream, minid=floor, approximate=False))


def _stream_id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
