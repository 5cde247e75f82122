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
from core.records import STATUS_NAMES_ZH, Category, HitStatus, Platform
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
    progress_bar,
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
        bool, typer.Option("--reindex", help="Re-classify and re-index everything in the spool.")
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
        with progress_bar("indexing", len(posts)) as advance:
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
    store = open_store_for(settings)
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
            f"{hit.status.value} {STATUS_NAMES_ZH[hit.status]}",
            hit.post.author_name or hit.post.author_id or "-",
            text[:80] + ("…" if len(text) > 80 else ""),
        )
    out.print(table)
