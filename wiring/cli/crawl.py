"""Commands that crawl: one crawl in its own process, and the demo (the main job end to end)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from core.progress import progress
from core.records import Platform
from core.settings import get_settings
from wiring.cli.base import app, err, fail, load_classifier_for, open_store_for, out

# ---------------------------------------------------------------- crawl and demo


class _CrawlCommand(TyperCommand):
    """`crawl --help` lists each platform spider's modes; read only when help is shown (importing the spiders
    costs a quarter second no other command should pay)."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from crawlers.spiders.platform_base import modes_help

        self.epilog = "Modes (--arg mode=NAME):\n\n" + "\n\n".join(modes_help().splitlines())
        super().format_help(ctx, formatter)


@app.command(cls=_CrawlCommand)
def crawl(
    spider: Annotated[str, typer.Argument(help="Spider name: demo, or a platform.")],
    job: Annotated[str | None, typer.Option(help="Job name (spool file); default: spider + date.")] = None,
    arg: Annotated[
        list[str] | None, typer.Option("--arg", "-a", help="Spider argument NAME=VALUE (repeatable).")
    ] = None,
    enqueue: Annotated[
        bool, typer.Option(help="Shared mode: queue the job for the crawl workers (QINGYUAN_REDIS_URL) instead.")
    ] = False,
) -> None:
    """Run one crawl in its own process; posts are spooled before anything downstream runs."""
    from crawlers.run import crawl_progress, known_spiders, run_crawl

    settings = get_settings()
    settings.ensure_dirs()
    spider_args: dict[str, str] = {}
    for item in arg or []:
        if "=" not in item:
            raise fail(f"--arg must be NAME=VALUE, got {item!r}")
        name, value = item.split("=", 1)
        if name in ("on_progress", "timeout"):  # run_crawl's own keywords: a string there would break the run
            raise fail(f"--arg {name} is not a spider argument")
        spider_args[name] = value
    job = job or f"{spider}-{datetime.now(timezone.utc):%Y%m%d}"
    if enqueue:
        if not settings.redis_url:
            raise fail("--enqueue needs the shared mode: set QINGYUAN_REDIS_URL")
        if spider not in known_spiders():
            raise fail(f"unknown spider {spider!r}; known: {', '.join(known_spiders())}")
        from wiring.fleet import enqueue_job

        queued = enqueue_job(settings, spider, job, spider_args)
        if not queued:
            raise fail(f"a job named {job!r} is already queued; give another --job")
        out.print(json.dumps({"enqueued": job, "spider": spider, "args": spider_args}, ensure_ascii=False))
        return
    extra: dict[str, Any] = dict(spider_args)  # the names were checked above
    with progress(f"crawling {spider} (pages)") as advance:
        stats = run_crawl(spider, settings, job, on_progress=crawl_progress(advance), **extra)
    out.print(json.dumps(stats.model_dump(mode="json"), ensure_ascii=False))


@app.command()
def demo(
    classifier: Annotated[str | None, typer.Option(help="auto | bert | lexicon")] = None,
) -> None:
    """The main job on embedded defaults: serve the demo site, crawl, classify, index, report."""
    from alerts.takedown.workflow import write_reports
    from core.spool import Spool
    from crawlers.run import crawl_progress, run_crawl
    from demo.accuracy import demo_accuracy
    from demo.server import serve_demo
    from wiring.pipeline import index_posts

    settings = get_settings()
    settings.ensure_dirs()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    err.print(f"[bold]Qingyuan demo[/] — data home {settings.home}")

    t0 = time.perf_counter()
    with serve_demo() as base_url:
        err.print(f"demo site at {base_url}")
        with progress("crawling demo site (pages)") as advance:
            stats = run_crawl("demo", settings, "demo", on_progress=crawl_progress(advance), base_url=base_url)
    timings["crawl"] = time.perf_counter() - t0
    err.print(
        f"crawl: {stats.pages} pages rendered, {stats.posts} posts fetched ({stats.comments} comments), "
        f"{stats.posts_spooled} new or changed spooled, {stats.errors} errors, {stats.soft_blocks} soft blocks"
    )
    if stats.exit_code != 0:
        raise fail(f"the demo crawl failed (exit {stats.exit_code}); rerun with -v for its log")

    t0 = time.perf_counter()
    posts = [p for p in Spool(settings.spool_dir) if p.platform is Platform("demo")]
    model = load_classifier_for(settings, classifier)
    store = open_store_for(settings)
    try:
        with progress(f"classifying with {model.info.name}", len(posts)) as advance:
            index_stats = index_posts(posts, settings=settings, store=store, classifier=model, progress=advance)
        timings["classify+index"] = time.perf_counter() - t0
        err.print(
            f"classify+index: {index_stats.seen} posts in spool, {index_stats.already_indexed} already indexed, "
            f"{index_stats.classified} classified, {index_stats.lead_gen} lead_gen, index holds {store.count()}"
        )
        err.print(demo_accuracy(store.get_many))
        t0 = time.perf_counter()
        outcome = write_reports(settings=settings, store=store, include_unreviewed=True)
        timings["report"] = time.perf_counter() - t0
    finally:
        store.close()
    timings["total"] = time.perf_counter() - started
    err.print("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    if outcome.batches:
        err.print(
            f"report: {len(outcome.batches)} batch(es), {outcome.items} items batched (已入批次, not yet delivered); "
            f"{outcome.unreviewed} of them auto-included without review by a person"
        )
        for path in outcome.paths:
            out.print(str(path))
    else:
        err.print(f"report: nothing new to report (earlier reports are in {settings.reports_dir})")
