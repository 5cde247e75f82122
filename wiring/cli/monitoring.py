"""Commands for the operators on duty: the alerts raised (`qingyuan alerts`)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from core.settings import get_settings
from wiring.cli.base import add_plain_row, app, err, fail, out


@app.command()
def alerts(
    limit: Annotated[int, typer.Option("--limit", "-n")] = 20,
    rule: Annotated[
        list[str] | None,
        typer.Option(
            "--rule", help="Only this rule (repeatable): surge | campaign | near_duplicate | delivery_failed."
        ),
    ] = None,
    evaluate: Annotated[
        bool, typer.Option("--evaluate", help="Evaluate the rules on the window's hits first (no sending).")
    ] = False,
    window: Annotated[
        str | None,
        typer.Option("--window", help="How far back the rules look, e.g. 7d or 36h (QINGYUAN_ALERT_WINDOW)."),
    ] = None,
    anchor: Annotated[
        str | None,
        typer.Option("--anchor", help="Where the window ends: now, or data (the newest post in the index)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List raised alerts (surges, campaigns sharing a contact, near-duplicate clusters), newest first."""
    from alerts.monitoring.registry import RULES
    from alerts.monitoring.rules import AlertLog
    from wiring.pipeline import alert_plan, evaluate_alerts

    settings = get_settings()
    options: dict[str, Any] = {"window": window, "anchor": anchor, "rules": rule or None}
    try:
        plan, _ = alert_plan(settings, options)
    except ValueError as exc:
        raise fail(str(exc), code=2) from exc
    settings.ensure_dirs()
    if evaluate:
        counts = evaluate_alerts(settings=settings, options=options)
        err.print(
            f"evaluated {counts['evaluated_hits']} hits in the window ending {counts['window_end']}: "
            f"{counts['raised']} alerts, {counts['new']} new"
        )
    names = {s.name for s in plan.rules} if rule else None
    items = [a for a in AlertLog.for_settings(settings).list(limit=10**9) if names is None or a.rule in names]
    items = items[: max(0, limit)]
    if as_json:
        sys.stdout.write(json.dumps([a.model_dump(mode="json") for a in items], ensure_ascii=False) + "\n")
        return
    table = Table(title=f"{len(items)} alerts")
    for col in ("raised", "rule", "severity", "title", "current / baseline", "accounts", "hits"):
        table.add_column(col, overflow="fold")
    for a in items:
        add_plain_row(
            table,
            a.created_at.strftime("%Y-%m-%d %H:%M"),
            f"{a.rule.value} {RULES[a.rule].title_zh}",
            a.severity.value,
            a.title,
            f"{a.current} / {a.baseline:.1f}",
            ", ".join(a.account_ids) or str(a.accounts),
            ", ".join(a.hit_keys[:5]) + (f" (+{len(a.hit_keys) - 5})" if len(a.hit_keys) > 5 else ""),
        )
    out.print(table)
