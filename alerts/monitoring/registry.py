"""The alert rules, registered once: each rule's name, Chinese title, description, the settings it reads and the
function that evaluates it. The command line (`--rule`), the scheduler's alerts job (`rules = [...]`) and the
console's alerts page all read this table, so a name is checked, titled and described in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from alerts.monitoring.rules import (
    Alert,
    AlertConfig,
    AlertRule,
    campaign_alerts,
    near_duplicate_alerts,
    surge_alerts,
)
from alerts.monitoring.window import parse_anchor, parse_window
from core.labels import register_vocabulary
from core.records import Hit, utcnow

RuleFunction = Callable[[Sequence[Hit], datetime, AlertConfig], list[Alert]]


@dataclass(frozen=True)
class RuleSpec:
    name: AlertRule
    title_zh: str
    description: str
    parameters: tuple[str, ...]  # the AlertConfig fields it reads
    evaluate: RuleFunction | None = None  # None: raised by another stage (delivery), not by reading hits


_SPECS = (
    RuleSpec(
        AlertRule.surge,
        "类别/黑话激增",
        "A category or slang term with far more hits in the recent period than its mean over the window.",
        ("window_hours", "baseline_days", "surge_factor", "surge_min_count"),
        surge_alerts,
    ),
    RuleSpec(
        AlertRule.campaign,
        "引流团伙（共用联系方式）",
        "One WeChat/QQ/phone/Telegram handle posted by several distinct accounts within the window.",
        ("baseline_days", "campaign_min_accounts"),
        campaign_alerts,
    ),
    RuleSpec(
        AlertRule.near_duplicate,
        "批量同文",
        "Near-identical posts by several distinct accounts in the recent period (MinHash, then exact Jaccard).",
        ("window_hours", "near_dup_threshold", "near_dup_min_cluster", "near_dup_min_chars"),
        near_duplicate_alerts,
    ),
    RuleSpec(
        AlertRule.delivery_failed,
        "举报投递失败",
        "A takedown batch whose delivery was given up (dead-lettered); raised by the deliver job.",
        (),
    ),
)
RULES: dict[AlertRule, RuleSpec] = {spec.name: spec for spec in _SPECS}
if set(RULES) != set(AlertRule) or len(RULES) != len(_SPECS):
    raise RuntimeError("every AlertRule needs exactly one RuleSpec")  # caught by any import, i.e. every test
# The console's and the command line's Chinese names for the rules are these titles (one owner).
register_vocabulary("alert_rule", {spec.name.value: spec.title_zh for spec in _SPECS})


class UnknownRule(ValueError):
    """A rule name the registry does not know; the message lists the valid ones."""


def rule_names() -> list[str]:
    return [spec.name.value for spec in _SPECS]


def get_rules(names: Iterable[str]) -> tuple[RuleSpec, ...]:
    """The registered rules with these names (in registry order); UnknownRule names the bad one and the valid."""
    wanted = list(names)
    unknown = [n for n in wanted if n not in rule_names()]
    if unknown:
        raise UnknownRule(f"unknown rule {unknown[0]!r}; valid rules: {', '.join(rule_names())}")
    return tuple(spec for spec in _SPECS if spec.name.value in wanted)


def evaluate(
    hits: Sequence[Hit],
    end: datetime | None = None,
    cfg: AlertConfig | None = None,
    *,
    rules: Sequence[RuleSpec] | None = None,
    raised_at: datetime | None = None,
) -> list[Alert]:
    """The evaluated rules (all, or `rules`) over the same hits and the same window end.

    `raised_at` (default: `end`) stamps the alerts: with the window anchored on the data, `end` is the newest
    post's time, while the alert is raised now."""
    end = end or utcnow()
    if end.tzinfo is None:
        end = end.replace(tzinfo=timezone.utc)
    cfg = cfg or AlertConfig()
    hits = list(hits)
    alerts = [a for spec in (rules or _SPECS) if spec.evaluate for a in spec.evaluate(hits, end, cfg)]
    if raised_at is not None and raised_at != end:
        alerts = [a.model_copy(update={"created_at": raised_at}) for a in alerts]
    return alerts


PLAN_OPTIONS = frozenset({"window", "anchor", "rules"})  # options that shape the plan, beside AlertConfig's fields


@dataclass(frozen=True)
class AlertPlan:
    """What one evaluation runs: the rules' settings (window length and anchor included) and which rules."""

    cfg: AlertConfig
    rules: tuple[RuleSpec, ...]


def plan_from_options(
    options: Mapping[str, Any], *, window: str = "7d", anchor: str = "now"
) -> tuple[AlertPlan, dict[str, Any]]:
    """A job's or a command's options → the plan, and the options left for the alert channel.

    `window` ("7d") and `anchor` ("now" | "data") in `options` override the defaults given (the settings');
    `rules` is a list of registered names (default: every evaluated rule); any AlertConfig field may be set by
    name. ValueError (UnknownRule for a bad name) says what is wrong."""
    fields = {k: v for k, v in options.items() if k in AlertConfig.model_fields}
    length = parse_window(str(options.get("window") or window))
    fields.setdefault("baseline_days", length.total_seconds() / 86400)
    fields["anchor"] = parse_anchor(str(options.get("anchor") or anchor))
    names = options.get("rules")
    if isinstance(names, str):
        names = [names]
    rules = get_rules(names) if names else tuple(s for s in _SPECS if s.evaluate)
    rest = {k: v for k, v in options.items() if k not in AlertConfig.model_fields and k not in PLAN_OPTIONS}
    return AlertPlan(AlertConfig(**fields), rules), rest
