"""The alerts page: the rules evaluated now over a chosen window (what matched, linked to the hits and to search),
and the per-day trend of hits by category or platform."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from alerts.monitoring.registry import RULES, AlertPlan, evaluate, plan_from_options, rule_names
from alerts.monitoring.rules import Alert, AlertLog, AlertRule, hit_time, recent_hits
from alerts.monitoring.trend import BEIJING, MEASURE_NAMES_ZH, Measure, Trend, TrendBy, group_name_zh, read_trend
from alerts.monitoring.window import ANCHOR_NAMES_ZH, Anchor, format_window, window_end
from core.records import Hit, utcnow
from webui.app import Console
from webui.pages.common import con, need_user, render

router = APIRouter()
TREND_DAYS_MAX = 90


@dataclass(frozen=True)
class AlertView:
    """One alert as the page shows it: the alert, its rule's Chinese title, its hits' times and a search link."""

    alert: Alert
    rule_zh: str
    first_at: datetime | None
    last_at: datetime | None
    search: str | None


def _search_link(alert: Alert) -> str | None:
    """The search that shows what the alert matched, or None where search cannot say it (clusters, deliveries)."""
    params: dict[str, str] = {"label": "lead_gen", "sort": "newest"}
    if alert.subject_kind == "contact" or alert.subject_kind == "slang":
        params["q"] = '"' + alert.subject.replace('"', "") + '"'  # the handle or term, matched exactly
    elif alert.subject_kind == "category":
        params["category"] = alert.subject
    else:
        return None
    if alert.subject_kind != "contact":
        params["since"] = alert.window_start.astimezone(BEIJING).date().isoformat()
        params["until"] = alert.window_end.astimezone(BEIJING).date().isoformat()
    return "/search?" + urlencode(params)


def _views(alerts: list[Alert], hits: dict[str, Hit]) -> list[AlertView]:
    views = []
    for alert in alerts:
        times = sorted(hit_time(hits[k]) for k in alert.hit_keys if k in hits)
        views.append(
            AlertView(
                alert,
                RULES[alert.rule].title_zh,
                times[0] if times else None,
                times[-1] if times else None,
                _search_link(alert),
            )
        )
    return views


def _current_alerts(c: Console, plan: AlertPlan, now: datetime) -> tuple[datetime, list[AlertView]]:
    """The evaluated rules over the window now (nothing is logged: looking is not raising), plus the delivery
    failures logged within the window's length."""
    end = window_end(plan.cfg.anchor, c.store, now)
    hits = recent_hits(c.store, end, plan.cfg)
    found = evaluate(hits, end, plan.cfg, rules=plan.rules, raised_at=now)
    if RULES[AlertRule.delivery_failed] in plan.rules:
        since = now - plan.cfg.baseline
        logged = AlertLog.for_settings(c.settings).list(limit=200, rule=AlertRule.delivery_failed)
        found += [a for a in logged if a.created_at >= since]
    order = {spec.name: n for n, spec in enumerate(RULES.values())}
    found.sort(key=lambda a: (order[a.rule], a.severity != "high", -a.current, a.id))
    return end, _views(found, {h.key: h for h in hits})


@router.get("/alerts")
def alerts_page(
    request: Request,
    user: str = Depends(need_user),
    window: str = "",
    anchor: str = "",
    rule: str = "",
    by: str = "category",
    days: int = Query(14, ge=1, le=TREND_DAYS_MAX),
) -> Response:
    c = con(request)
    defaults = {"window": c.settings.alert_window, "anchor": c.settings.alert_anchor}
    options: dict[str, Any] = {"window": window.strip()[:20] or None, "anchor": anchor or None}
    options["rules"] = [rule] if rule else rule_names()
    error = None
    try:
        plan, _ = plan_from_options(options, **defaults)
    except ValueError as exc:
        error = f"条件无效：{exc}"
        plan, _ = plan_from_options({"rules": rule_names()}, **defaults)
    now = utcnow()
    end, views = _current_alerts(c, plan, now)
    trend_by = TrendBy(by) if by in TrendBy.__members__ else TrendBy.category
    trend = read_trend(c.store, c.casebook, by=trend_by, days=days, now=now)
    form = {
        "window": format_window(timedelta(days=plan.cfg.baseline_days)),
        "anchor": plan.cfg.anchor.value,
        "rule": rule if rule in rule_names() else "",
        "by": trend_by.value,
        "days": days,
    }
    return render(
        request,
        "alerts.html",
        form=form,
        error=error,
        views=views,
        window_start=end - plan.cfg.baseline,
        window_end=end,
        rules=list(RULES.values()),
        anchors=[(a.value, ANCHOR_NAMES_ZH[a]) for a in Anchor],
        trend=trend,
        group_name=lambda g: group_name_zh(trend.by, g),
        measures=[(m.value, MEASURE_NAMES_ZH[m]) for m in Measure],
        chart=_chart(trend),
    )


def _chart(trend: Trend) -> dict[str, Any]:
    """Bar geometry for the inline SVG (attributes, not styles: the console's CSP allows no inline style)."""
    bar, gap, height = 10, 10, 120
    top = max(trend.max_daily(), 1)
    columns = []
    for n, day in enumerate(trend.days):
        total = trend.totals[day]
        x = n * (3 * bar + gap) + gap
        bars = []
        for i, measure in enumerate(Measure):
            value = getattr(total, measure.value)
            h = round(height * value / top)
            bars.append({"x": x + i * bar, "y": height - h, "h": h, "measure": measure.value, "value": value})
        columns.append({"day": day, "x": x, "bars": bars})
    return {"width": len(trend.days) * (3 * bar + gap) + gap + 30, "height": height, "bar": bar, "top": top,
            "columns": columns}  # fmt: skip
