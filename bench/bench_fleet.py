"""Posts/s end to end (queued crawl job -> crawl workers -> post stream -> index worker -> index and casebook) with
1, 2 and 4 crawl workers against a local fake platform that allows `rate` requests per second per client address.

Each crawl worker sends from its own address (127.0.0.2, .3, ...), so the platform's limit applies per worker as it
does per machine in production; the figures show how far adding crawler machines scales. A real redis-server is
started on loopback; the index worker uses the embedded index and casebook in a temporary data home.

    .venv/bin/python bench/bench_fleet.py [--pages 120] [--per-page 10] [--rate 5] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from fleetbench.site import RateLimitedSite, serve_site  # noqa: E402

from casebook import Casebook  # noqa: E402
from fleet import keys  # noqa: E402
from fleet.connection import connect  # noqa: E402
from fleet.jobs import CrawlJob, enqueue_crawl  # noqa: E402
from tests.integration.redis_server import serve_redis  # noqa: E402

QINGYUAN = str(Path(sys.executable).with_name("qingyuan"))


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def _start(role: str, env: dict[str, str], log: Path, *extra: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as fh:
        return subprocess.Popen(
            [QINGYUAN, "worker", "--role", role, *extra],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_for_workers(client, role: str, count: int, timeout: float = 180.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        beats = [v for v in client.hvals(keys.WORKERS) if f'"role": "{role}"' in v]
        if len(beats) >= count:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{count} {role} worker(s) did not start within {timeout:.0f} s")


def run_round(redis_url: str, n_workers: int, args: argparse.Namespace, work: Path) -> dict[str, float]:
    client = connect(redis_url)
    client.flushall()
    home = work / f"home-{n_workers}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "bench")]),
        "QINGYUAN_HOME": str(home),
        "QINGYUAN_REDIS_URL": redis_url,
        "QINGYUAN_PLATFORM_MODULES": "fleetbench.platform",
        "QINGYUAN_OCR_IMAGES": "false",
    }
    env.pop("QINGYUAN_ELASTICSEARCH_URL", None)
    env.pop("QINGYUAN_CASEBOOK_URL", None)
    total = args.pages * args.per_page
    site = RateLimitedSite(args.pages, args.per_page, args.rate, salt=f"w{n_workers}")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with serve_site(site) as url:
            procs.append(_start("index", env, work / f"index-{n_workers}.log", "--batch", "16"))
            _wait_for_workers(client, "index", 1)
            for i in range(n_workers):
                address = f"127.0.0.{2 + i}"
                procs.append(_start("crawl", env, work / f"crawl-{n_workers}-{i}.log", "--source-address", address))
            _wait_for_workers(client, "crawl", n_workers)
            book = Casebook(f"sqlite:///{home / 'casebook.sqlite3'}")
            started = time.monotonic()
            enqueue_crawl(
                client,
                CrawlJob(job=f"bench-{n_workers}", spider="fleetbench", args={"base_url": url, "rate": str(args.rate)}),
            )
            first = None
            done = 0
            deadline = started + args.timeout
            while time.monotonic() < deadline:
                done = book.count_intake()
                if done and first is None:
                    first = time.monotonic()
                if done >= total:
                    break
                time.sleep(0.2)
            ended = time.monotonic()
            book.close()
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    seconds = ended - started
    steady = (done / (ended - first)) if first and ended > first else 0.0
    return {
        "workers": n_workers,
        "posts": done,
        "seconds": seconds,
        "posts_per_s": done / seconds if seconds else 0.0,
        "steady_posts_per_s": steady,
        "addresses": len(site.served),
        "requests": sum(site.served.values()),
        "refused_429": site.refused,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=120)
    parser.add_argument("--per-page", type=int, default=10)
    parser.add_argument("--rate", type=float, default=2.0, help="requests/s the platform allows one address")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    print(f"CPU: {cpu_model()} x {os.cpu_count()}")
    print(
        f"fake platform: {args.pages} pages x {args.per_page} posts, {args.rate:g} requests/s per address; "
        "1 index worker (embedded index, default classifier)"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="qy-bench-fleet-") as tmp, serve_redis() as server:
        for n in [int(x) for x in args.workers.split(",")]:
            rows.append(run_round(server.url, n, args, Path(tmp)))
            r = rows[-1]
            print(
                f"{n} crawl worker(s): {r['posts']:.0f} posts in {r['seconds']:.1f} s = {r['posts_per_s']:.1f} posts/s "
                f"end to end ({r['steady_posts_per_s']:.1f}/s from the first post indexed), "
                f"ratio to one {r['posts_per_s'] / rows[0]['posts_per_s']:.2f}x; "
                f"{r['requests']:.0f} requests from {r['addresses']:.0f} addresses, {r['refused_429']:.0f} refused (429)",
                flush=True,
            )


if __name__ == "__main__":
    main()
