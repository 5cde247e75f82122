"""`qingyuan worker --role crawl`: joins every queued crawl job that has pages to fetch, one at a time.

For a job with work (undelivered frontier entries, or unacknowledged ones older than `claim_after_s` whose worker
may be dead) it starts `fleet.crawl_child` - a Scrapy process bound to this worker's accounts, proxies and source
address - and waits for it to drain the job. Several workers on several machines join the same job and share its
frontier; each keeps its own politeness per IP.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import redis

from core.settings import Settings
from fleet import keys
from fleet.connection import backoff_delays, connect, retrying
from fleet.jobs import active_jobs, finish_job, frontier_state

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[1]
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: a SIGKILLed worker takes its Scrapy process with it."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def worker_name(role: str) -> str:
    return f"{socket.gethostname()}:{role}:{os.getpid()}"


def heartbeat(client: redis.Redis, name: str, role: str, **extra: Any) -> None:
    beat = {"role": role, "pid": os.getpid(), "host": socket.gethostname(), "at": time.time(), **extra}
    retrying("heartbeat", lambda: client.hset(keys.WORKERS, name, json.dumps(beat)))


@dataclass
class CrawlWorkerOptions:
    accounts: str | None = None
    proxies: str | None = None
    source_address: str | None = None
    exit_when_idle: float | None = None  # seconds with no job to join before exiting (tests, benchmarks)
    spider_args: dict[str, str] = field(default_factory=dict)


def _has_work(client: redis.Redis, job: str, claim_after_s: float) -> bool:
    undelivered, unacknowledged = frontier_state(client, job)
    if undelivered:
        return True
    if unacknowledged:
        idle = client.xpending_range(keys.frontier(job), keys.CRAWL_GROUP, "-", "+", 1, idle=int(claim_after_s * 1000))
        return bool(idle)
    return False


def run_crawl_worker(settings: Settings, options: CrawlWorkerOptions) -> int:
    assert settings.redis_url, "the fleet needs QINGYUAN_REDIS_URL"
    client = connect(settings.redis_url)
    name = worker_name("crawl")
    settings.ensure_dirs()
    log_dir = settings.state_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log.warning("crawl worker %s started (redis %s)", name, settings.redis_url.split("@")[-1])
    idle_since = time.monotonic()
    jobs_done = 0
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        child = _RUNNING[0]
        if child is not None and child.poll() is None:
            child.terminate()  # Scrapy stops gracefully; pages it did not commit are claimed by others

    signal.signal(signal.SIGTERM, stop)
    failures = backoff_delays(2.0, 60.0)
    while not stopping:
        heartbeat(client, name, "crawl", jobs=jobs_done)
        joined = False
        for job in retrying("listing jobs", lambda: active_jobs(client)):
            undelivered, unacknowledged = retrying("reading the frontier", partial(frontier_state, client, job.job))
            if not undelivered and not unacknowledged:
                retrying("finishing the job", partial(finish_job, client, job))
                continue
            if not retrying("reading the frontier", partial(_has_work, client, job.job, settings.claim_after_s)):
                continue
            joined = True
            summary = _run_child(client, settings, job.job, name, options, log_dir)
            jobs_done += 1
            log.warning("crawl worker %s: %s", name, json.dumps(summary, ensure_ascii=False))
            if summary.get("exit_code"):  # a crawl process that keeps failing must not spin
                delay = next(failures)
                log.warning("crawl worker %s: the crawl process failed; waiting %.0f s", name, delay)
                time.sleep(delay)
            else:
                failures = backoff_delays(2.0, 60.0)
            break
        if joined:
            idle_since = time.monotonic()
            continue
        if options.exit_when_idle is not None and time.monotonic() - idle_since > options.exit_when_idle:
            break
        time.sleep(0.5)
    log.warning("crawl worker %s stopping after %d job runs", name, jobs_done)
    return 0


_RUNNING: list[subprocess.Popen[bytes] | None] = [None]  # the crawl process, told to stop with the worker


def _run_child(
    client: redis.Redis, settings: Settings, job: str, name: str, options: CrawlWorkerOptions, log_dir: Path
) -> dict[str, Any]:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{job}-{name}")
    with tempfile.TemporaryDirectory(prefix="qy-fleet-") as tmp:
        settings_file, stats_file = Path(tmp) / "settings.json", Path(tmp) / "stats.json"
        settings_file.write_text(settings.model_dump_json(), encoding="utf-8")
        consumer = f"{name}:{time.time_ns()}"
        cmd = [
            sys.executable,
            "-m",
            "fleet.crawl_child",
            "--job",
            job,
            "--consumer",
            consumer,
            "--settings-file",
            str(settings_file),
            "--stats-file",
            str(stats_file),
            "--log-file",
            str(log_dir / f"fleet-crawl-{safe}.log"),
        ]
        if options.source_address:
            cmd += ["--source-address", options.source_address]
        spider_args = dict(options.spider_args)
        if options.accounts:
            spider_args["accounts"] = options.accounts
        if options.proxies:
            spider_args["proxies"] = options.proxies
        for k, v in spider_args.items():
            cmd += ["--arg", f"{k}={v}"]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        }
        with subprocess.Popen(cmd, env=env, cwd=str(REPO_ROOT), preexec_fn=_die_with_parent) as child:
            _RUNNING[0] = child
            try:
                while child.poll() is None:  # the worker's heartbeat goes on while its crawl runs
                    heartbeat(client, name, "crawl", job=job)
                    try:
                        child.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        pass
            finally:
                _RUNNING[0] = None
            rc = child.returncode
        if stats_file.exists():
            return {**json.loads(stats_file.read_text(encoding="utf-8")), "exit_code": rc}
        return {"job": job, "consumer": consumer, "exit_code": rc, "error": "no stats (see the crawl log)"}
