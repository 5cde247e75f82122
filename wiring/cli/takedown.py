"""Commands over the takedown workflow: report, re-check, takedown rates."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from core.labels import zh
from core.records import Platform
from core.settings import Settings, get_settings
from wiring.cli.base import add_plain_row, app, err, fail, open_store_for, out

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
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print what would be batched (items, counts, unreviewed); change nothing."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --dry-run: the plan as JSON.")] = False,
) -> None:
    """Build one takedown batch per platform (XLSX, JSON, HTML, evidence zip) and print the paths written.

    Items become batched (已入批次); they count as reported once a delivery to the partner succeeds."""
    from alerts.takedown.workflow import write_reports

    settings = get_settings()
    if platform is not None and platform not in {p.value for p in Platform}:
        raise fail(f"unknown platform {platform!r}")
    if dry_run:
        _print_plan(settings, platform, include_unreviewed, min_score, resend, as_json)
        return
    settings.ensure_dirs()
    store = open_store_for(settings)
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
    if not outcome.batches:
        err.print("nothing new to report")
        return
    err.print(
        f"{len(outcome.batches)} batches, {outcome.items} items batched (not yet delivered)"
        + (f", {outcome.unreviewed} of them never reviewed by a person" if outcome.unreviewed else "")
    )


def _print_plan(
    settings: Settings,
    platform: str | None,
    include_unreviewed: bool,
    min_score: float | None,
    resend: bool,
    as_json: bool,
) -> None:
    """What `report` would batch, read-only: no reconcile, no files, no casebook or outbox write."""
    from alerts.takedown.workflow import plan_reports
    from casebook import Casebook

    url = settings.casebook
    if not settings.casebook_url and not (settings.home / "casebook.sqlite3").is_file():
        url = "sqlite://"  # no casebook yet: read an empty one in memory rather than create the file
    store = open_store_for(settings)
    casebook = Casebook(url)
    try:
        plan = plan_reports(
            settings=settings,
            store=store,
            casebook=casebook,
            platform=platform,
            include_unreviewed=include_unreviewed,
            min_score=min_score,
            resend=resend,
        )
    finally:
        casebook.close()
        store.close()
    if as_json:
        payload = {
            "items": len(plan.items),
            "unreviewed": plan.unreviewed,
            "by_platform": plan.counts("platform"),
            "by_category": plan.counts("category"),
            "batches": [{"platform": b.platform.value, "items": b.keys} for b in plan.batches],
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    if not plan.items:
        out.print("dry run: nothing would be batched (nothing new to report); nothing was changed")
        return
    table = Table(title=f"dry run: {len(plan.items)} items would be batched; nothing was changed")
    for col in ("key", "platform", "category", "score", "reviewed by a person", "text"):
        table.add_column(col, overflow="fold")
    for item in plan.items:
        add_plain_row(
            table,
            item.key,
            item.platform,
            item.category or "-",
            f"{item.score:.2f}",
            "yes" if item.reviewed else "NO",
            item.text[:60],
        )
    out.print(table)
    out.print("per platform: " + ", ".join(f"{k} {v}" for k, v in plan.counts("platform").items()))
    out.print("per category: " + ", ".join(f"{k} {v}" for k, v in plan.counts("category").items()))
    out.print(f"never reviewed by a person: {plan.unreviewed} of {len(plan.items)}")


@app.command()
def recheck(
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many delivered posts.")] = 100,
) -> None:
    """Revisit delivered posts now and record which were taken down."""
    from wiring.crawling import recheck_reported

    settings = get_settings()
    settings.ensure_dirs()
    counts = recheck_reported(settings=settings, options={"limit": limit})
    out.print(json.dumps(counts, ensure_ascii=False))


@app.command()
def takedowns(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Per platform partner: items reported (delivered), taken down, still up, median time from delivery to
    takedown, and items batched but not yet delivered."""
    from alerts.takedown.workflow import takedown_stats

    rows = takedown_stats(get_settings())
    if as_json:
        payload = [{**vars(r), "takedown_rate": r.takedown_rate} for r in rows]
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    table = Table(title="takedowns per platform (reported = delivered to the partner)")
    columns = ("platform", "reported", "removed", "still up", "takedown rate", "median hours to takedown")
    for col in (*columns, "batched, not delivered"):
        table.add_column(col)
    for r in rows:
        hours = f"{r.median_hours_to_takedown:.1f}" if r.median_hours_to_takedown is not None else "-"
        table.add_row(
            zh("platform", r.platform),
            str(r.reported),
            str(r.removed),
            str(r.still_up),
            f"{r.takedown_rate:.0%}",
            hours,
            str(r.awaiting_delivery),
        )
    out.print(table)
