"""What to watch in a fleet (`qingyuan fleet status`): queue depth, lag and dead letters, per job and stream."""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from fleet import keys
from fleet.jobs import active_jobs, frontier_state


def _group(client: redis.Redis, stream: str, name: str) -> dict[str, Any]:
    if not client.exists(stream):
        return {"length": 0, "undelivered": 0, "unacknowledged": 0, "oldest_unacknowledged_s": 0.0}
    out: dict[str, Any] = {"length": int(client.xlen(stream)), "undelivered": 0, "unacknowledged": 0}
    for group in client.xinfo_groups(stream):
        if group["name"] == name:
            lag = group.get("lag")
            out["undelivered"] = int(lag) if lag is not None else out["length"]
            out["unacknowledged"] = int(group["pending"])
    oldest = client.xpending_range(stream, name, "-", "+", 1) if out["unacknowledged"] else []
    out["oldest_unacknowledged_s"] = round(int(oldest[0]["time_since_delivered"]) / 1000, 1) if oldest else 0.0
    return out


def fleet_status(client: redis.Redis, recent_dead: int = 5) -> dict[str, Any]:
    """Jobs with their frontier depth; the post stream's depth (undelivered = lag behind the crawlers) and
    unacknowledged messages; dead letters with the newest reasons; workers with their last heartbeat age."""
    jobs = []
    for job in active_jobs(client):
        undelivered, unacknowledged = frontier_state(client, job.job)
        jobs.append(
            {
                "job": job.job,
                "spider": job.spider,
                "pages_queued": int(client.scard(keys.seen(job.job))),
                "pages_to_fetch": undelivered,
                "pages_in_flight": unacknowledged,
                "enqueued_at": job.enqueued_at.isoformat(),
            }
        )
    posts = _group(client, keys.POSTS, keys.INDEX_GROUP)
    newest: list[Any] = list(client.xrevrange(keys.DEAD, count=recent_dead) or []) if client.exists(keys.DEAD) else []
    now = time.time()
    workers = {}
    for name, raw in client.hgetall(keys.WORKERS).items():
        beat = json.loads(raw)
        workers[name] = {**beat, "seconds_since_heartbeat": round(now - float(beat.get("at", 0)), 1)}
    return {
        "jobs": jobs,
        "jobs_done": int(client.hlen(keys.JOBS_DONE)),
        "posts_stream": posts,
        "posts_known": int(client.hlen(keys.FINGERPRINTS)),
        "dead_letters": {
            "count": int(client.xlen(keys.DEAD)) if client.exists(keys.DEAD) else 0,
            "newest": [{"id": i, "source": f.get("source"), "reason": f.get("reason")} for i, f in newest],
        },
        "counters": {k: int(v) for k, v in client.hgetall(keys.COUNTERS).items()},
        "workers": workers,
    }
