"""The `qingyuan` command line: thin wrappers over the stage functions in core/pipeline.py.

Command output (JSONL, JSON, tables, paths) goes to stdout; progress and logs go to stderr, so the
commands compose in shell pipelines. Contracts are in DESIGN.md; other tools rely on them.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from typer.core import TyperCommand

from core.logs import setup_logging
from core.records import Category, HitStatus, Platform
from core.settings import Settings, get_settings

app = typer.Typer(
    name="qingyuan",
    help="Qingyuan 清源: find, prove and take down posts that recruit for illegal debt-relief agencies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
users_app = typer.Typer(help="Analyst accounts for the web console.", no_args_is_help=True)
app.add_typer(users_app, name="users")

err = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)


def add_plain_row(table: Table, *cells: str) -> None:
    """A table row whose cells are shown as written: crawled text must never be read as rich markup."""
    table.add_row(*(Text(cell) for cell in cells))


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at INFO to stderr.")] = False) -> None:
    setup_logging("INFO" if verbose else None)


@contextmanager
def progress_bar(description: str, total: int | None = None) -> Iterator[Any]:
    """A progress display on stderr (quiet when stderr is not a terminal, e.g. in CI logs)."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )
    with progress:
        task = progress.add_task(description, total=total)

        def advance(n: int = 1, **fields: Any) -> None:
            progress.update(task, advance=n, **fields)

        advance.progress = progress  # type: ignore[attr-defined]
        advance.task = task  # type: ignore[attr-defined]
        yield advance


def _open_store(settings: Settings):  # type: ignore[no-untyped-def]
    from indexer import open_store

    return open_store(settings)


def _load_classifier(settings: Settings, kind: str | None = None):  # type: ignore[no-untyped-def]
    from classifiers.load import load_classifier

    try:
        return load_classifier(settings, kind)
    except (FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from exc


# ---------------------------------------------------------------- classify


@app.command()
def classify(
    input: Annotated[
        Path, typer.Option("--input", "-i", help="JSONL; each line has id and text (platform, kind optional).")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="JSONL of {id,label,score,category,slang,contacts}.")],
    classifier: Annotated[str | None, typer.Option(help="auto | bert | lexicon")] = None,
) -> None:
    """Classify posts: one verdict line per input line, in input order.

    A line that is not a JSON object with a string (or integer) `id` and a string `text`, or repeats an earlier
    id, is named on stderr (file:line: reason) and left out; the other lines are classified and written, and the
    exit status is 1. `--output -` writes to stdout; a device or FIFO is written directly.
    """
    from classifiers.base import ClassifyInput
    from core.files import Rejected, has_surrogates, input_problem, open_output, read_json_objects, repair_surrogates
    from core.pipeline import classify_items

    settings = get_settings()
    if problem := input_problem(input):
        raise fail(problem)
    model = _load_classifier(settings, classifier)
    rejected: list[Rejected] = []
    repaired = 0

    def read() -> Iterator[ClassifyInput]:
        nonlocal repaired
        first_line: dict[str, int] = {}
        for lineno, row in read_json_objects(input, rejected):
            item_id, problem = _classify_id(row.get("id"))
            text = row.get("text")
            if problem is None and not isinstance(text, str):
                problem = f"'text' must be a string, not {_json_type(text)}"
            context = row.get("context")
            if problem is None and context is not None and not isinstance(context, str):
                problem = f"'context' must be a string or null, not {_json_type(context)}"
            if problem is None and item_id in first_line:
                problem = f"duplicate id {item_id!r} (first on line {first_line[item_id]})"
            if problem is not None or not isinstance(text, str):
                rejected.append(Rejected(input, lineno, problem or "bad line"))
                continue
            first_line[item_id] = lineno
            repaired += has_surrogates(text) or bool(context and has_surrogates(context))
            yield ClassifyInput(
                id=item_id,
                text=repair_surrogates(text),
                platform=row.get("platform") if isinstance(row.get("platform"), str) else None,
                kind=row.get("kind") if isinstance(row.get("kind"), str) else None,
                context=repair_surrogates(context) if context else None,
            )

    with input.open("rb") as lines:
        total = sum(1 for line in lines if line.strip())
    counts = {"lead_gen": 0, "benign": 0}
    with progress_bar("classifying", total) as advance, open_output(output) as fh:
        for item, verdict in classify_items(model, read(), settings.batch_size, advance):
            counts[verdict.label.value] += 1
            row = {
                "id": item.id,
                "label": verdict.label.value,
                "score": round(verdict.score, 6),
                "category": verdict.category.value if verdict.category else None,
                "slang": [
                    s.model_dump(mode="json", include={"surface", "canonical", "start", "end"}) for s in verdict.slang
                ],
                "contacts": [
                    c.model_dump(mode="json", include={"type", "value", "start", "end"}) for c in verdict.contacts
                ],
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    summary = f"classified {sum(counts.values())} posts: {counts['lead_gen']} lead_gen, {counts['benign']} benign"
    if repaired:
        summary += f"; {repaired} with broken surrogates in their text repaired"
    _finish(f"{summary} -> {output}", rejected)


def _json_type(value: Any) -> str:
    names = {
        type(None): "null",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "an object",
    }
    return names.get(type(value), type(value).__name__)


def _classify_id(value: Any) -> tuple[str, str | None]:
    """The line's id as a string, or why it is not one (an id must round-trip exactly, so nothing is repaired)."""
    from core.files import has_surrogates

    if isinstance(value, int) and not isinstance(value, bool):
        return str(value), None
    if not isinstance(value, str) or not value:
        return "", f"'id' must be a non-empty string or an integer, not {_json_type(value) if value != '' else 'empty'}"
    if has_surrogates(value):
        return "", "'id' holds a lone surrogate (broken UTF-16), which cannot be written back"
    return value, None


_SHOWN_REJECTS = 50


def _finish(summary: str, rejected: list[Any]) -> None:
    """Print the summary with the count of rejected lines, name each one (the first 50), exit 1 if any."""
    if not rejected:
        err.print(summary, soft_wrap=True)
        return
    for line in rejected[:_SHOWN_REJECTS]:  # one line each, unwrapped, so a script can read them
        err.print(Text(f"rejected {line}"), style="red", soft_wrap=True)
    if len(rejected) > _SHOWN_REJECTS:
        err.print(f"... and {len(rejected) - _SHOWN_REJECTS} more rejected lines", soft_wrap=True)
    err.print(f"{summary}; {len(rejected)} line{'s' if len(rejected) > 1 else ''} rejected", soft_wrap=True)
    raise typer.Exit(1)


# ---------------------------------------------------------------- parse


@app.command()
def parse(
    files: Annotated[list[Path], typer.Argument(help="Saved responses or pages from the platform.")],
    platform: Annotated[
        str, typer.Option("--platform", "-p", help="douyin, kuaishou, xiaohongshu, weibo, bilibili, zhihu, tieba, demo")
    ],
    now: Annotated[
        str | None,
        typer.Option("--now", help="ISO time relative dates (3小时前, 7-6) are read against when a file carries none."),
    ] = None,
) -> None:
    """Parse saved platform responses into Post JSONL on stdout (the response shape is detected)."""
    from core.files import input_problem
    from crawlers.extract import PLATFORMS, UnknownShape, parse_file

    if platform not in PLATFORMS:
        raise fail(f"unknown platform {platform!r}; choose one of: {', '.join(sorted(PLATFORMS))}")
    try:
        ref = datetime.fromisoformat(now) if now else None
    except ValueError as exc:
        raise fail(f"--now {now!r} is not an ISO time (e.g. 2024-08-10T12:00:00+08:00)") from exc
    if ref is not None and ref.tzinfo is None:
        ref = ref.replace(tzinfo=timezone.utc)
    parsed: list[Any] = []
    for path in files:
        if problem := input_problem(path):
            raise fail(problem)
        try:
            posts = parse_file(platform, path, now=ref)
        except (UnknownShape, ValueError) as exc:
            raise fail(f"{path}: {exc}") from exc
        parsed += posts
        err.print(f"{path}: {len(posts)} posts")
    if platform == "weibo":  # a saved statuses/extend answer completes the truncated post it expands
        from crawlers.extract.weibo import merge_long_texts

        parsed = merge_long_texts(parsed)
    for post in parsed:
        sys.stdout.write(post.model_dump_json() + "\n")


@app.command()
def ocr(images: Annotated[list[Path], typer.Argument(help="Image files (PNG, JPEG, WebP, GIF, BMP).")]) -> None:
    """Read the text in images (offline PP-OCR): one JSON line per image {"file", "text", "lines"}."""
    from core.ocr import as_json, read_many

    failed = 0
    for file, text, error in read_many(images):
        if text is None:
            failed += 1
            sys.stdout.write(json.dumps({"file": file, "text": "", "lines": [], "error": error}, ensure_ascii=False))
        else:
            sys.stdout.write(json.dumps(as_json(text, file), ensure_ascii=False))
        sys.stdout.write("\n")
    if failed:
        raise fail(f"{failed} of {len(images)} images could not be read")


# ---------------------------------------------------------------- index


@app.command()
def index(
    input: Annotated[Path | None, typer.Option("--input", "-i", help="Posts JSONL in the spool format.")] = None,
    reindex: Annotated[
        bool, typer.Option("--reindex", help="Re-classify and re-index everything in the spool.")
    ] = False,
    classifier: Annotated[str | None, typer.Option(help="auto | bert | lexicon")] = None,
) -> None:
    """Classify (where not yet classified) and index posts; indexing the same posts twice changes nothing.

    A line that is not a valid Post is named on stderr (file:line: reason) and counted; the rest are indexed and
    the exit status is 1."""
    from core.files import Rejected, input_problem
    from core.pipeline import index_posts
    from core.spool import Spool

    settings = get_settings()
    settings.ensure_dirs()
    if input is None and not reindex:
        raise fail("give --input POSTS.jsonl, or --reindex to rebuild from the spool")
    if input is not None and (problem := input_problem(input)):
        raise fail(problem)
    rejected: list[Rejected] = []
    posts = _read_post_lines(input, rejected) if input else list(Spool(settings.spool_dir))
    model = _load_classifier(settings, classifier)
    store = _open_store(settings)
    try:
        with progress_bar("indexing", len(posts)) as advance:
            stats = index_posts(
                posts, settings=settings, store=store, classifier=model, progress=advance, reclassify=reindex
            )
        total = store.count()
    finally:
        store.close()
    _finish(
        f"read {stats.seen} posts: {stats.already_indexed} already indexed, {stats.classified} classified "
        f"({stats.lead_gen} lead_gen), {stats.indexed} written; index holds {total}",
        rejected,
    )


def _read_post_lines(path: Path, rejected: list[Any]) -> list[Any]:
    from core.files import Rejected, read_json_objects
    from core.records import Post

    posts = []
    for lineno, row in read_json_objects(path, rejected):
        try:
            posts.append(Post.model_validate(row))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'post'}: {e['msg']}" for e in exc.errors()[:3])
            rejected.append(Rejected(path, lineno, f"not a valid post ({problems})"))
    return posts


# ---------------------------------------------------------------- search


def _parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise fail(f"--since must be an ISO date such as 2026-11-01 ({exc})") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@app.command()
def search(
    query: Annotated[
        str, typer.Argument(help='Words (segmented); "a phrase" in quotes matches exactly; empty matches all.')
    ] = "",
    platform: Annotated[list[Platform] | None, typer.Option("--platform", "-p")] = None,
    category: Annotated[list[Category] | None, typer.Option("--category", "-c")] = None,
    status: Annotated[list[HitStatus] | None, typer.Option("--status", "-s")] = None,
    since: Annotated[str | None, typer.Option(help="Published on or after this ISO date.")] = None,
    min_score: Annotated[float | None, typer.Option("--min-score")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, max=10_000)] = 20,
    include_benign: Annotated[bool, typer.Option("--include-benign", help="Also show posts judged benign.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"total": N, "hits": [Hit, ...]}.')] = False,
) -> None:
    """Search indexed hits."""
    from indexer.base import SearchQuery

    settings = get_settings()
    q = SearchQuery(
        text=query,
        platforms=tuple(platform or ()),
        categories=tuple(category or ()),
        statuses=tuple(status or ()),
        labels=() if include_benign else ("lead_gen",),
        since=_parse_since(since),
        min_score=min_score,
        limit=limit,
    )
    store = _open_store(settings)
    try:
        result = store.search(q)
    finally:
        store.close()
    if as_json:
        payload = {"total": result.total, "hits": [h.model_dump(mode="json") for h in result.hits]}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"{result.total} hits", show_lines=False)
    for col in ("key", "score", "category", "status", "author", "text"):
        table.add_column(col, overflow="fold")
    for hit in result.hits:
        text = " ".join(hit.post.text.split())
        add_plain_row(
            table,
            hit.key,
            f"{hit.verdict.score:.2f}",
            hit.verdict.category.value if hit.verdict.category else "-",
            hit.status.value,
            hit.post.author_name or hit.post.author_id or "-",
            text[:80] + ("…" if len(text) > 80 else ""),
        )
    out.print(table)


# ---------------------------------------------------------------- report


@app.command()
def report(
    platform: Annotated[str | None, typer.Option("--platform", "-p")] = None,
    include_unreviewed: Annotated[
        bool, typer.Option("--include-unreviewed", help="Also report unreviewed hits above --min-score.")
    ] = False,
    min_score: Annotated[float | None, typer.Option("--min-score")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder for the batch files (default: <home>/reports).")
    ] = None,
    resend: Annotated[
        bool, typer.Option("--resend", help="Include items already reported in an earlier batch.")
    ] = False,
) -> None:
    """Build one takedown batch per platform (XLSX, JSON, HTML, evidence zip) and print the paths written."""
    from core.pipeline import write_reports

    settings = get_settings()
    settings.ensure_dirs()
    if platform is not None and platform not in {p.value for p in Platform}:
        raise fail(f"unknown platform {platform!r}")
    store = _open_store(settings)
    try:
        outcome = write_reports(
            settings=settings,
            store=store,
            platform=platform,
            include_unreviewed=include_unreviewed,
            min_score=min_score,
            out_dir=out_dir,
            resend=resend,
        )
    finally:
        store.close()
    for path in outcome.paths:
        out.print(str(path))
    err.print(f"{len(outcome.batches)} batches, {outcome.items} items" if outcome.batches else "nothing new to report")


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
) -> None:
    """Run one crawl in its own process; posts are spooled before anything downstream runs."""
    from crawlers.run import run_crawl

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
    extra: dict[str, Any] = dict(spider_args)  # the names were checked above
    stats = run_crawl(spider, settings, job, **extra)
    out.print(json.dumps(stats.model_dump(mode="json"), ensure_ascii=False))


@app.command()
def demo(
    classifier: Annotated[str | None, typer.Option(help="auto | bert | lexicon")] = None,
) -> None:
    """The main job on embedded defaults: serve the demo site, crawl, classify, index, report."""
    from core.pipeline import index_posts, write_reports
    from core.spool import Spool
    from crawlers.run import run_crawl
    from demo.server import serve_demo

    settings = get_settings()
    settings.ensure_dirs()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    err.print(f"[bold]Qingyuan demo[/] — data home {settings.home}")

    t0 = time.perf_counter()
    with serve_demo() as base_url:
        err.print(f"demo site at {base_url}")
        with progress_bar("crawling demo site (pages)") as advance:

            def on_progress(event: dict[str, Any]) -> None:
                advance(0, total=event.get("expected_pages"), completed=event.get("pages", 0))

            stats = run_crawl("demo", settings, "demo", on_progress=on_progress, base_url=base_url)
    timings["crawl"] = time.perf_counter() - t0
    err.print(
        f"crawl: {stats.pages} pages rendered, {stats.posts} posts fetched ({stats.comments} comments), "
        f"{stats.posts_spooled} new or changed spooled, {stats.errors} errors, {stats.soft_blocks} soft blocks"
    )
    if stats.exit_code != 0:
        raise fail(f"the demo crawl failed (exit {stats.exit_code}); rerun with -v for its log")

    t0 = time.perf_counter()
    posts = [p for p in Spool(settings.spool_dir) if p.platform is Platform.demo]
    model = _load_classifier(settings, classifier)
    store = _open_store(settings)
    try:
        with progress_bar(f"classifying with {model.info.name}", len(posts)) as advance:
            index_stats = index_posts(posts, settings=settings, store=store, classifier=model, progress=advance)
        timings["classify+index"] = time.perf_counter() - t0
        err.print(
            f"classify+index: {index_stats.seen} posts in spool, {index_stats.already_indexed} already indexed, "
            f"{index_stats.classified} classified, {index_stats.lead_gen} lead_gen, index holds {store.count()}"
        )
        _print_demo_accuracy(store)
        t0 = time.perf_counter()
        outcome = write_reports(settings=settings, store=store, include_unreviewed=True)
        timings["report"] = time.perf_counter() - t0
    finally:
        store.close()
    timings["total"] = time.perf_counter() - started
    err.print("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    if outcome.batches:
        err.print(f"report: {len(outcome.batches)} batch(es), {outcome.items} items")
        for path in outcome.paths:
            out.print(str(path))
    else:
        err.print(f"report: nothing new to report (earlier reports are in {settings.reports_dir})")


def _print_demo_accuracy(store: Any) -> None:
    """The demo site knows the truth about every post: say how the classifier did on it."""
    from demo.content import truth

    gold = truth()
    hits = {h.key: h for h in store.get_many(list(gold))}
    flagged = {k for k, h in hits.items() if h.verdict.is_hit}
    leads = {k for k, (label, _) in gold.items() if label == "lead_gen"}
    tp = len(flagged & leads)
    precision = tp / len(flagged) if flagged else 0.0
    recall = tp / len(leads) if leads else 0.0
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    right_category = sum(
        1 for k in flagged & leads if hits[k].verdict.category and hits[k].verdict.category.value == gold[k][1]
    )
    err.print(
        f"against the demo's ground truth ({len(leads)} lead_gen of {len(gold)}): precision {precision:.3f}, "
        f"recall {recall:.3f}, F1 {f1:.3f}, category right on {right_category}/{tp} true hits"
    )
    from demo.content import ocr_accuracy

    err.print(ocr_accuracy({k: h.post.ocr_text for k, h in hits.items() if h.post.image_text}))


def main() -> None:  # pragma: no cover - console entry
    app()


# ---------------------------------------------------------------- schedule

schedule_app = typer.Typer(help="Unattended operation from a TOML schedule (APScheduler).", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")
ScheduleFile = Annotated[Path, typer.Option("--config", "-f", help="Schedule TOML file.")]
DEFAULT_SCHEDULE = Path("schedule.toml")


def _schedule(path: Path):  # type: ignore[no-untyped-def]
    import scheduler

    if not path.is_file():
        raise fail(f"schedule file not found: {path}")
    try:
        scheduler.load_schedule(path)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    return scheduler


@schedule_app.command("run")
def schedule_run(
    config: ScheduleFile = DEFAULT_SCHEDULE,
    stop_after: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (tests, one-off runs).")
    ] = None,
) -> None:
    """Run the schedule until SIGTERM or Ctrl-C; running jobs finish first."""
    scheduler = _schedule(config)
    err.print(f"scheduler running from {config}; Ctrl-C or SIGTERM stops it cleanly")
    scheduler.run_forever(config, stop_after=stop_after)


@schedule_app.command("list")
def schedule_list(config: ScheduleFile = DEFAULT_SCHEDULE) -> None:
    """Jobs with their trigger, next run time and last outcome."""
    scheduler = _schedule(config)
    settings = get_settings()
    sched = scheduler.open_store_for_cli(settings, config)
    try:
        table = Table(title="jobs")
        for col in ("id", "kind", "trigger", "next run (UTC)", "last outcome"):
            table.add_column(col)
        kinds = {j.id: j.kind for j in scheduler.load_schedule(config).jobs}
        for job in sched.get_jobs():
            last = scheduler.read_history(settings, job.id, limit=1)
            outcome = f"{last[0]['outcome']} at {last[0]['end'][:19]}" if last else "-"
            nxt = job.next_run_time.strftime("%Y-%m-%d %H:%M:%S") if job.next_run_time else "paused"
            table.add_row(job.id, kinds.get(job.id, "?"), str(job.trigger), nxt, outcome)
        out.print(table)
    finally:
        sched.shutdown(wait=False)


@schedule_app.command("run-now")
def schedule_run_now(job: str, config: ScheduleFile = DEFAULT_SCHEDULE) -> None:
    """Run one job immediately in this process and print its counts."""
    from core.pipeline import JobFailed

    scheduler = _schedule(config)
    try:
        counts = scheduler.run_job(str(config.resolve()), job)
    except KeyError as exc:
        raise fail(str(exc)) from exc
    except JobFailed as exc:  # it ran, and something in it failed: show the counts, exit non-zero
        out.print(json.dumps(exc.counts, ensure_ascii=False, default=str))
        raise fail(str(exc)) from exc
    out.print(json.dumps(counts, ensure_ascii=False, default=str))


def _pause_resume(job: str, config: Path, pause: bool) -> None:
    scheduler = _schedule(config)
    sched = scheduler.open_store_for_cli(get_settings(), config)
    try:
        if sched.get_job(job) is None:
            raise fail(f"no job {job!r} in {config}")
        (sched.pause_job if pause else sched.resume_job)(job)
    finally:
        sched.shutdown(wait=False)
    err.print(f"{job} {'paused' if pause else 'resumed'}")


@schedule_app.command("pause")
def schedule_pause(job: str, config: ScheduleFile = DEFAULT_SCHEDULE) -> None:
    """Pause a job (kept in the job store across restarts)."""
    _pause_resume(job, config, pause=True)


@schedule_app.command("resume")
def schedule_resume(job: str, config: ScheduleFile = DEFAULT_SCHEDULE) -> None:
    """Resume a paused job."""
    _pause_resume(job, config, pause=False)


@schedule_app.command("history")
def schedule_history(
    job: Annotated[str | None, typer.Argument()] = None,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 20,
) -> None:
    """Recent job runs: start, end, outcome, counts."""
    import scheduler

    rows = scheduler.read_history(get_settings(), job, limit)
    table = Table(title="job history")
    for col in ("job", "start", "end", "outcome", "counts / error"):
        table.add_column(col, overflow="fold")
    for row in rows:
        detail = row.get("error") or json.dumps(row.get("counts", {}), ensure_ascii=False, default=str)[:200]
        add_plain_row(table, row["job"], row["start"][:19], row.get("end", "")[:19], row.get("outcome", "?"), detail)
    out.print(table)


# ---------------------------------------------------------------- web console and accounts


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Bind address; beyond loopback it needs HTTPS (below).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535)] = 8765,
    certfile: Annotated[Path | None, typer.Option(help="PEM certificate (chain): serve HTTPS.")] = None,
    keyfile: Annotated[Path | None, typer.Option(help="PEM private key of --certfile.")] = None,
    behind_proxy: Annotated[
        bool, typer.Option("--behind-proxy", help="A reverse proxy terminates TLS and forwards here.")
    ] = False,
    forwarded_allow_ips: Annotated[
        str, typer.Option(help="With --behind-proxy: the proxy addresses whose X-Forwarded-* headers are trusted.")
    ] = "127.0.0.1",
    insecure_http: Annotated[
        bool, typer.Option("--insecure-http", help="Allow plain HTTP on a non-loopback address anyway.")
    ] = False,
) -> None:
    """Serve the analyst console (HTTPS with --certfile/--keyfile, or behind a TLS proxy with --behind-proxy)."""
    from webui.app import serve as serve_app
    from webui.app import transport_problem

    problem = transport_problem(
        host, certfile=certfile, keyfile=keyfile, behind_proxy=behind_proxy, insecure_http=insecure_http
    )
    if problem:
        raise fail(problem, code=2)
    settings = get_settings()
    settings.ensure_dirs()
    scheme = "https" if certfile else "http"
    if insecure_http and not certfile and not behind_proxy:
        err.print(f"[yellow]warning:[/] plain HTTP on {host}: passwords and cookies cross the network in clear")
    if behind_proxy:
        err.print(f"reverse-proxy mode: trusting X-Forwarded-* from {forwarded_allow_ips}; Secure cookies, HSTS")
    err.print(
        f"analyst console on {scheme}://{host}:{port}/ (add accounts with `qingyuan users add NAME --password-stdin`)"
    )
    serve_app(
        settings,
        host=host,
        port=port,
        certfile=certfile,
        keyfile=keyfile,
        behind_proxy=behind_proxy,
        forwarded_allow_ips=forwarded_allow_ips,
    )


@users_app.command("add")
def users_add(
    name: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add an analyst account (or reset its password)."""
    from webui.auth import add_user

    if not password_stdin:
        raise fail("pass the password on standard input with --password-stdin (never on the command line)")
    password = sys.stdin.readline().rstrip("\r\n")
    settings = get_settings()
    settings.ensure_dirs()
    try:
        add_user(settings, name, password)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    err.print(f"analyst {name!r} saved")


# ---------------------------------------------------------------- alerts


@app.command()
def alerts(
    limit: Annotated[int, typer.Option("--limit", "-n")] = 20,
    rule: Annotated[str | None, typer.Option(help="surge | campaign | near_duplicate")] = None,
    evaluate: Annotated[
        bool, typer.Option("--evaluate", help="Evaluate the rules on recent hits first (no sending).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List raised alerts (surges, campaigns sharing a contact, near-duplicate clusters), newest first."""
    from alerts.rules import AlertLog

    settings = get_settings()
    settings.ensure_dirs()
    if evaluate:
        from core.pipeline import evaluate_alerts

        counts = evaluate_alerts(settings=settings, options={})
        err.print(f"evaluated {counts['evaluated_hits']} hits: {counts['new']} new alerts")
    items = AlertLog.for_settings(settings).list(limit=limit, rule=rule)
    if as_json:
        sys.stdout.write(json.dumps([a.model_dump(mode="json") for a in items], ensure_ascii=False) + "\n")
        return
    table = Table(title=f"{len(items)} alerts")
    for col in ("raised", "rule", "severity", "title", "current / baseline", "accounts"):
        table.add_column(col, overflow="fold")
    for a in items:
        add_plain_row(
            table,
            a.created_at.strftime("%Y-%m-%d %H:%M"),
            a.rule.value,
            a.severity.value,
            a.title,
            f"{a.current} / {a.baseline:.1f}",
            str(a.accounts),
        )
    out.print(table)


@app.command()
def recheck(
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many reported posts.")] = 100,
) -> None:
    """Revisit reported posts now and record which were taken down."""
    from core.crawling import recheck_reported

    settings = get_settings()
    settings.ensure_dirs()
    counts = recheck_reported(settings=settings, options={"limit": limit})
    out.print(json.dumps(counts, ensure_ascii=False))


@app.command()
def takedowns(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Takedown rate and median time to takedown per platform partner."""
    from core.pipeline import takedown_stats

    rows = takedown_stats(get_settings())
    if as_json:
        payload = [{**vars(r), "takedown_rate": r.takedown_rate} for r in rows]
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    table = Table(title="takedowns per platform")
    for col in ("platform", "reported", "removed", "still up", "takedown rate", "median hours to takedown"):
        table.add_column(col)
    for r in rows:
        hours = f"{r.median_hours_to_takedown:.1f}" if r.median_hours_to_takedown is not None else "-"
        table.add_row(r.platform, str(r.reported), str(r.removed), str(r.still_up), f"{r.takedown_rate:.0%}", hours)
    out.print(table)


# ---------------------------------------------------------------- model training and evaluation


@app.command()
def train(
    out_dir: Annotated[Path, typer.Option("--out", help="Model folder to write.")] = Path("classifiers/models/default"),
    seed: Annotated[int, typer.Option()] = 13,
    base_model: Annotated[
        Path | None, typer.Option("--base-model", help="Fine-tune this Hugging Face Chinese BERT on disk.")
    ] = None,
    from_reviews: Annotated[
        bool, typer.Option("--from-reviews", help="Add the analysts' review decisions as training data.")
    ] = False,
    pretrain_steps: Annotated[int | None, typer.Option(help="Masked-LM pretraining steps (own model only).")] = None,
) -> None:
    """Train the classifier (pretrain, fine-tune, export ONNX int8, write the model card); logs progress."""
    import subprocess

    cmd = [sys.executable, "-m", "classifiers.train", "--out", str(out_dir), "--seed", str(seed)]
    if base_model is not None:
        if not (base_model / "config.json").is_file():
            raise fail(f"--base-model {base_model}: no config.json there (a Hugging Face BERT checkpoint folder)")
        cmd += ["--base-model", str(base_model)]
    if pretrain_steps is not None:
        cmd += ["--pretrain-steps", str(pretrain_steps)]
    if from_reviews:
        settings = get_settings()
        settings.ensure_dirs()
        path = export_review_examples(settings, settings.state_dir / "reviews.jsonl")
        cmd += ["--extra-train", str(path)]
    raise typer.Exit(subprocess.call(cmd))


def export_review_examples(settings: Settings, path: Path) -> Path:
    """Analysts' decisions as training Examples; a confirmation without a category change keeps the model's."""
    from webui.export import export_reviews

    written = export_reviews(settings, path)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    missing = [r["id"] for r in rows if r["label"] == "lead_gen" and not r.get("category")]
    if missing:
        store = _open_store(settings)
        try:
            found = {h.key: h for h in store.get_many(missing)}
        finally:
            store.close()
    kept = []
    for row in rows:
        if row["label"] == "lead_gen" and not row.get("category"):
            hit = found.get(row["id"])
            if hit is None or hit.verdict.category is None:
                continue  # a lead without a category cannot train the category head
            row["category"] = hit.verdict.category.value
        platform = row["id"].split(":", 1)[0]
        kept.append({**row, "platform": platform if platform in Platform.__members__ else "demo", "source": "review"})
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), encoding="utf-8")
    err.print(f"{written} review decisions exported, {len(kept)} usable as training data -> {path}")
    return path


@app.command()
def evaluate(
    data: Annotated[
        Path, typer.Option("--data", help="Labelled JSONL: id, text, label (lead_gen|benign), category, ...")
    ],
    classifier: Annotated[str | None, typer.Option(help="auto | bert | lexicon")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Precision, recall and F1 overall, per category, per difficulty and obfuscation, and topic-word false positives."""
    from classifiers.base import ClassifyInput
    from classifiers.train.data import load_jsonl
    from classifiers.train.metrics import evaluate as score_examples
    from core.pipeline import classify_items

    settings = get_settings()
    if not data.is_file():
        raise fail(f"data file not found: {data}")
    try:
        gold = load_jsonl(data)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    if not gold:
        raise fail(f"{data} holds no examples")
    model = _load_classifier(settings, classifier)
    items = (ClassifyInput(id=ex.id, text=ex.text, platform=ex.platform, kind=ex.kind) for ex in gold)
    with progress_bar(f"evaluating {model.info.name}", len(gold)) as advance:
        verdicts = [v for _, v in classify_items(model, items, settings.batch_size, advance)]
    report = score_examples(
        gold,
        [v.label.value for v in verdicts],
        [v.score for v in verdicts],
        [v.category.value if v.category else None for v in verdicts],
        name=f"{model.info.name} {model.info.version}",
    )
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, default=str) + "\n")
    else:
        out.print(report.to_markdown(), markup=False)
