"""Commands over posts and hits: classify, parse, index, search (the contracts other tools rely on)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from core.platforms import platform_names
from core.progress import progress
from core.settings import get_settings
from wiring.cli.base import (
    add_plain_row,
    app,
    err,
    fail,
    finish,
    load_classifier_for,
    open_store_for,
    out,
)

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
    from wiring.pipeline import classify_items

    settings = get_settings()
    if problem := input_problem(input):
        raise fail(problem)
    model = load_classifier_for(settings, classifier)
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
    with progress("classifying", total) as advance, open_output(output) as fh:
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
    finish(f"{summary} -> {output}", rejected)


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


# ---------------------------------------------------------------- parse


@app.command()
def parse(
    files: Annotated[list[Path], typer.Argument(help="Saved responses or pages from the platform.")],
    platform: Annotated[str, typer.Option("--platform", "-p", help=", ".join(platform_names()))],
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
        bool,
        typer.Option(
            "--reindex",
            help="Re-classify and re-index everything in the spool; on Elasticsearch first copy the index into its "
            "next version (current template) and move the alias, while searches and writes go on.",
        ),
    ] = False,
    keep_old: Annotated[
        bool, typer.Option("--keep-old", help="With --reindex on Elasticsearch: keep the old version (write-blocked).")
    ] = False,
    classifier: Annotated[str | None, typer.Option(help="auto | bert | lexicon")] = None,
) -> None:
    """Classify (where not yet classified) and index posts; indexing the same posts twice changes nothing.

    A line that is not a valid Post is named on stderr (file:line: reason) and counted; the rest are indexed and
    the exit status is 1."""
    from core.files import Rejected, input_problem
    from core.spool import Spool
    from wiring.pipeline import index_posts

    settings = get_settings()
    settings.ensure_dirs()
    if input is None and not reindex:
        raise fail("give --input POSTS.jsonl, or --reindex to rebuild from the spool")
    if input is not None and (problem := input_problem(input)):
        raise fail(problem)
    rejected: list[Rejected] = []
    posts = _read_post_lines(input, rejected) if input else list(Spool(settings.spool_dir))
    model = load_classifier_for(settings, classifier)
    store = open_store_for(settings)
    try:
        if reindex and settings.elasticsearch_url:
            store.reindex(keep_old=keep_old, progress=lambda line: err.print(line, soft_wrap=True))
        with progress("indexing", len(posts)) as advance:
            stats = index_posts(
                posts, settings=settings, store=store, classifier=model, progress=advance, reclassify=reindex
            )
        total = store.count()
    finally:
        store.close()
    finish(
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

SEARCH_HELP = (
    'Search indexed hits with the query language: words (AND), OR, NOT or -word, (groups), "phrases", '
    "field:value for platform, category, status, author, contact, kind, label (slugs or Chinese names), e.g. "
    "'(zx OR 征信) -律师 platform:抖音 status:待审核'. Only lead generation unless --include-benign. A query that "
    "starts with - goes after --: qingyuan search -- '-律师 征信'.\n\n"
    "On a terminal the result is a table as wide as the terminal; piped, one JSON object per line (--format csv "
    'for CSV, --format json for {"total", "hits": [Hit, ...]}). A query or option that cannot be used exits 2, '
    "saying why."
)
FORMATS = ("table", "jsonl", "json", "csv")


def _analyst(given: str | None) -> str:
    import getpass
    import os

    return given or os.environ.get("QINGYUAN_ANALYST") or getpass.getuser()


@app.command(help=SEARCH_HELP)
def search(
    query: Annotated[str | None, typer.Argument(help="The query; empty matches everything.")] = None,
    platform: Annotated[list[str] | None, typer.Option("--platform", "-p", help="Slug or Chinese name.")] = None,
    category: Annotated[list[str] | None, typer.Option("--category", "-c", help="Slug or Chinese name.")] = None,
    status: Annotated[list[str] | None, typer.Option("--status", "-s", help="Slug or Chinese name.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Published since: 7d, 24h, 2w, a date or datetime (Beijing).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Published before: as --since; a date includes that day.")] = None,
    min_score: Annotated[str | None, typer.Option("--min-score", help="0..1 (e.g. 0.95).")] = None,
    sort: Annotated[str | None, typer.Option(help="relevance | newest | oldest | score")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000, help="Hits per page.")] = 20,
    page: Annotated[int | None, typer.Option("--page", min=1, help="Page number (1 = first).")] = None,
    offset: Annotated[int | None, typer.Option("--offset", min=0, help="Hits to skip (instead of --page).")] = None,
    include_benign: Annotated[bool, typer.Option("--include-benign", help="Also show posts judged benign.")] = False,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="table | jsonl | json | csv")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Same as --format json: {"total": N, "hits": [...]}.')
    ] = False,
    saved: Annotated[str | None, typer.Option("--saved", help="Run the analyst's saved search of this name.")] = None,
    save: Annotated[str | None, typer.Option("--save", help="Also save this search under this name.")] = None,
    analyst: Annotated[
        str | None, typer.Option("--analyst", help="Whose saved searches (default $QINGYUAN_ANALYST, then $USER).")
    ] = None,
) -> None:
    from indexer.form import FormError, SearchForm

    settings = get_settings()
    fmt = "json" if as_json else fmt or ("table" if sys.stdout.isatty() else "jsonl")
    if fmt not in FORMATS:
        raise fail(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}", 2)
    if page is not None and offset is not None:
        raise fail("give --page or --offset, not both", 2)
    params: dict[str, Any] = {}
    if saved or save:
        from casebook import Casebook

        casebook = Casebook(settings.casebook)
        try:
            if saved:
                row = casebook.saved_search(_analyst(analyst), saved)
                if row is None:
                    names = ", ".join(s.name for s in casebook.saved_searches(_analyst(analyst))) or "none"
                    raise fail(f"no saved search {saved!r} for {_analyst(analyst)} (saved: {names})", 2)
                params.update(row.params)
            given = {
                "q": query,
                "platform": ",".join(platform) if platform else None,
                "category": ",".join(category) if category else None,
                "status": ",".join(status) if status else None,
                "since": since,
                "until": until,
                "min_score": min_score,
                "sort": sort,
                "include_benign": include_benign or None,
            }
            params.update({k: v for k, v in given.items() if v is not None})
            form = SearchForm(**params)
            if save:
                casebook.save_search(_analyst(analyst), save, form.params())
                err.print(f"saved as {save!r} for {_analyst(analyst)}")
        finally:
            casebook.close()
    else:
        form = SearchForm(
            q=query or "",
            platform=",".join(platform or ()),
            category=",".join(category or ()),
            status=",".join(status or ()),
            since=since or "",
            until=until or "",
            min_score=min_score or "",
            sort=sort or "relevance",
            include_benign=include_benign,
        )
    start = offset if offset is not None else ((page or 1) - 1) * limit
    try:
        q = form.to_query(limit=limit, offset=start)
    except FormError as exc:
        message = exc.message
        from indexer.query import QueryError

        if isinstance(exc.__cause__, QueryError):
            message += "\n" + exc.__cause__.pointer()
        raise fail(f"{exc.field}: {message}", 2) from None
    store = open_store_for(settings)
    try:
        result = store.search(q)
    finally:
        store.close()
    _print_result(result, fmt, start, limit)


def _print_result(result: Any, fmt: str, start: int, limit: int) -> None:
    from indexer.export import csv_lines, row

    if start >= result.total > 0:
        pages = -(-result.total // limit)
        err.print(f"no hits past {result.total}: the last page is {pages} (--page {pages})")
    if fmt == "json":
        payload = {"total": result.total, "offset": start, "hits": [h.model_dump(mode="json") for h in result.hits]}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    elif fmt == "jsonl":
        for hit in result.hits:
            sys.stdout.write(json.dumps(row(hit), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        for line in csv_lines(result.hits):
            sys.stdout.write(line)
    else:
        _print_table(result, start, limit)
    if fmt in ("jsonl", "csv"):  # the JSON answer carries its own total, and stays alone on its streams
        shown = f"{start + 1}-{start + len(result.hits)}" if result.hits else "none"
        err.print(f"{result.total} hits; shown {shown}")


def _print_table(result: Any, start: int, limit: int) -> None:
    from indexer.export import row, snippet

    page, pages = start // limit + 1, max(1, -(-result.total // limit))
    table = Table(title=f"{result.total} 条结果 · 第 {page}/{pages} 页", expand=True, show_lines=False)
    table.add_column("平台", no_wrap=True)
    table.add_column("时间（北京）", no_wrap=True)
    table.add_column("置信度", no_wrap=True, justify="right")
    table.add_column("类别", no_wrap=True, max_width=14, overflow="ellipsis")
    table.add_column("链接", overflow="fold", ratio=2)
    table.add_column("内容", no_wrap=True, overflow="ellipsis", ratio=3)
    for hit in result.hits:
        r = row(hit)
        add_plain_row(table, r["platform"], r["published_at"], r["score"], r["category"] or "-", r["url"] or hit.key,
                      snippet(r["text"], 200))  # fmt: skip
    out.print(table)
    if start + len(result.hits) < result.total:
        err.print(f"more: --page {page + 1}")
