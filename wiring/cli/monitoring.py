"""Commands for the operators on duty: the alerts raised (`qingyuan alerts`) and the per-day trend of hits
(`qingyuan trend`)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from alerts.monitoring import registry as _rule_names  # noqa: F401  (registers the rules' Chinese names)
from core.labels import zh
from core.settings import get_settings
from wiring.cli.base import add_plain_row, app, err, fail, open_store_for, out


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
            zh("alert_rule", a.rule),
            zh("severity", a.severity),
            a.title,
            f"{a.current} / {a.baseline:.1f}",
            ", ".join(a.account_ids) or str(a.accounts),
            ", ".join(a.hit_keys[:5]) + (f" (+{len(a.hit_keys) - 5})" if len(a.hit_keys) > 5 else ""),
        )
    out.print(table)


@app.command()
def trend(
    days: Annotated[int, typer.Option("--days", min=1, max=366, help="Beijing days ending today.")] = 14,
    by: Annotated[str, typer.Option("--by", help="category | platform")] = "category",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Lead-gen hits per day by category or platform: first seen, confirmed (reviews) and taken down (re-checks)."""
    from alerts.monitoring.trend import TrendBy, group_name_zh, read_trend
    from casebook import Casebook

    if by not in TrendBy.__members__:
        raise fail(f"--by {by!r}: use one of {', '.join(TrendBy)}", code=2)
    settings = get_settings()
    settings.ensure_dirs()
    store, casebook = open_store_for(settings), Casebook(settings.casebook)
    try:
        result = read_trend(store, casebook, by=TrendBy(by), days=days)
    finally:
        store.close()
        casebook.close()
    if as_json:
        payload = {
            "by": result.by.value,
            "days": [d.isoformat() for d in result.days],
            "rows": [
                {**_counts(r), "group": r.group, "name_zh": group_name_zh(result.by, r.group)} for r in result.rows
            ],
            "totals": [_counts(result.totals[d]) for d in result.days],
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    title = "类别" if result.by is TrendBy.category else "平台"
    table = Table(title=f"{days} 天趋势（按{title}，北京时间）")
    for col in ("日期", title, "首次发现", "确认", "下架"):
        table.add_column(col)
    for r in result.rows:
        add_plain_row(
            table, r.day.isoformat(), group_name_zh(result.by, r.group), str(r.first_seen), str(r.confirmed),
            str(r.taken_down),
        )  # fmt: skip
    total = [sum(getattr(result.totals[d], m) for d in result.days) for m in ("first_seen", "confirmed", "taken_down")]
    table.add_section()
    add_plain_row(table, "合计", "", *(str(n) for n in total))
    out.print(table)


def _counts(row: Any) -> dict[str, Any]:
    return {
        "day": row.day.isoformat(),
        "first_seen": row.first_seen,
        "confirmed": row.confirmed,
        "taken_down": row.taken_down,
    }
