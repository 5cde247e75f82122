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
from core.settings import get_settings
from wiring.cli.base import app, err, fail, open_store_for, out

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
    from alerts.takedown.workflow import write_reports

    settings = get_settings()
    settings.ensure_dirs()
    if platform is not None and platform not in {p.value for p in Platform}:
        raise fail(f"unknown platform {platform!r}")
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
    err.print(f"{len(outcome.batches)} batches, {outcome.items} items" if outcome.batches else "nothing new to report")


@app.command()
def recheck(
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many reported posts.")] = 100,
) -> None:
    """Revisit reported posts now and record which were taken down."""
    from wiring.crawling import recheck_reported

    settings = get_settings()
    settings.ensure_dirs()
    counts = recheck_reported(settings=settings, options={"limit": limit})
    out.print(json.dumps(counts, ensure_ascii=False))


@app.command()
def takedowns(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Takedown rate and median time to takedown per platform partner."""
    from alerts.takedown.workflow import takedown_stats

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
        table.add_row(
            zh("platform", r.platform),
            str(r.reported),
            str(r.removed),
            str(r.still_up),
            f"{r.takedown_rate:.0%}",
            hours,
        )
    out.print(table)
