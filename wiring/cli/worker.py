"""Shared mode (QINGYUAN_REDIS_URL): `qingyuan worker --role crawl|index` and `qingyuan fleet status`."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from core.settings import get_settings
from wiring.cli.base import add_plain_row, app, fail, out


class Role(StrEnum):
    CRAWL = "crawl"
    INDEX = "index"


@app.command()
def worker(
    role: Annotated[Role, typer.Option(help="crawl: fetch pages of queued crawl jobs; index: classify and index.")],
    accounts: Annotated[
        str | None, typer.Option(help="crawl: this machine's accounts (files, comma-separated, or @FILE).")
    ] = None,
    proxies: Annotated[
        str | None, typer.Option(help="crawl: this machine's proxies (comma-separated, or @FILE).")
    ] = None,
    source_address: Annotated[
        str | None, typer.Option(help="crawl: local address requests leave from (one IP per worker).")
    ] = None,
    arg: Annotated[
        list[str] | None, typer.Option("--arg", "-a", help="crawl: extra spider argument NAME=VALUE for this worker.")
    ] = None,
    batch: Annotated[int, typer.Option(help="index: stream messages (crawled pages) per batch.")] = 32,
    classifier: Annotated[str | None, typer.Option(help="index: auto | bert | lexicon")] = None,
    exit_when_idle: Annotated[
        float | None, typer.Option(help="Exit after this many seconds without work (default: run until stopped).")
    ] = None,
) -> None:
    """Run a fleet worker until stopped (SIGTERM finishes the current batch or job first)."""
    settings = get_settings()
    if not settings.redis_url:
        raise fail("workers need the shared mode: set QINGYUAN_REDIS_URL")
    if role is Role.CRAWL:
        from fleet.crawl_worker import CrawlWorkerOptions, run_crawl_worker

        extra = dict(a.split("=", 1) for a in arg or [] if "=" in a)
        options = CrawlWorkerOptions(
            accounts=accounts,
            proxies=proxies,
            source_address=source_address,
            exit_when_idle=exit_when_idle,
            spider_args=extra,
        )
        raise typer.Exit(run_crawl_worker(settings, options))
    from wiring.fleet import run_index_worker

    counts = run_index_worker(settings, classifier_kind=classifier, batch=batch, exit_when_idle=exit_when_idle)
    out.print(json.dumps(counts))


fleet_app = typer.Typer(help="Shared mode: the state of the fleet.", no_args_is_help=True)
app.add_typer(fleet_app, name="fleet")


@fleet_app.command("status")
def fleet_status_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole status as JSON.")] = False,
) -> None:
    """Queue depth, lag and dead letters: crawl jobs' frontiers, the post stream, dead letters, workers."""
    from rich.table import Table

    from fleet.connection import connect
    from fleet.status import fleet_status

    settings = get_settings()
    if not settings.redis_url:
        raise fail("the fleet needs the shared mode: set QINGYUAN_REDIS_URL")
    status = fleet_status(connect(settings.redis_url))
    if as_json:
        out.print(json.dumps(status, ensure_ascii=False))
        return
    jobs = Table("job", "spider", "pages queued", "to fetch", "in flight")
    for j in status["jobs"]:
        add_plain_row(
            jobs, j["job"], j["spider"], *(str(j[k]) for k in ("pages_queued", "pages_to_fetch", "pages_in_flight"))
        )
    out.print(jobs)
    posts = status["posts_stream"]
    out.print(
        f"post stream: {posts['length']} pages, {posts['undelivered']} not yet taken (lag), "
        f"{posts['unacknowledged']} in flight (oldest {posts['oldest_unacknowledged_s']} s); "
        f"{status['jobs_done']} jobs done; dead letters: {status['dead_letters']['count']}; "
        + ", ".join(f"{k} {v}" for k, v in sorted(status["counters"].items()))
    )
    for dead in status["dead_letters"]["newest"]:
        out.print(f"  dead {dead['id']} from {dead['source']}: {dead['reason']}", markup=False)
    workers = Table("worker", "role", "seconds since heartbeat")
    for name, beat in sorted(status["workers"].items()):
        add_plain_row(workers, name, str(beat.get("role")), str(beat["seconds_since_heartbeat"]))
    out.print(workers)
