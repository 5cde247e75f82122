"""Alert rules over lead-generation hits: surges, contact-handle campaigns, near-duplicate post clusters.

Each rule is a plain function of (hits, end, cfg) so the scheduler, the CLI, the console and tests call it the same
way; `end` is where the window ends (the clock, or the newest post: see window.py) and the rules' names, titles and
parameters are registered in registry.py. A hit's time is `published_at`, falling back to `first_seen`. Dismissed
hits (analyst-judged false positives) and benign verdicts never count.

An alert's id is derived from its rule, subject and an aligned period (window-sized buckets since the epoch for
surges and near-duplicates, baseline-sized buckets for campaigns), so re-evaluating every few minutes raises the
same alert id again and `AlertLog.add_new` keeps only the first.
"""

from __future__ import annotations

import builtins
import fcntl
import hashlib
import json
import os
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any

from datasketch import MinHash, MinHashLSH
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alerts.monitoring.window import Anchor
from core.records import CATEGORY_NAMES_ZH, Category, Hit, HitStatus, Label, UtcDatetime, utcnow
from indexer.base import HitStore, SearchQuery, SortOrder

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
CAMPAIGN_CONTACT_TYPES = frozenset({"wechat", "qq", "phone", "telegram"})
MAX_SUBJECT_CHARS = 200


class AlertRule(StrEnum):
    surge = "surge"
    campaign = "campaign"
    near_duplicate = "near_duplicate"
    delivery_failed = "delivery_failed"  # a takedown batch was dead-lettered: a person must look at it


class Severity(StrEnum):
    medium = "medium"
    high = "high"


class AlertConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    surge_factor: float = Field(default=3.0, gt=0, description="Current window vs mean baseline window.")
    surge_min_count: int = Field(default=5, ge=1, description="Fewer hits than this in the window never surge.")
    window_hours: float = Field(
        default=24.0, gt=0, description="The recent period surges and near-duplicates look at, ending at the end."
    )
    baseline_days: float = Field(
        default=7.0, gt=0, description="The window: campaigns look over it; surges compare the recent period with it."
    )
    anchor: Anchor = Field(default=Anchor.now, description="Where the window ends: now, or the newest post (data).")
    campaign_min_accounts: int = Field(default=2, ge=2, description="Distinct accounts sharing one contact handle.")
    near_dup_threshold: float = Field(default=0.8, gt=0, le=1, description="Jaccard of character 3-gram sets.")
    near_dup_num_perm: int = Field(default=64, ge=16)
    near_dup_min_cluster: int = Field(default=3, ge=2, description="Distinct authors in a cluster.")
    near_dup_min_chars: int = Field(default=10, ge=3, description="Shorter normalised texts (扣1, 私信) never cluster.")
    near_dup_max_chars: int = Field(default=4000, ge=10, description="Only this much of a huge post is shingled.")
    max_hit_keys: int = Field(default=50, ge=1, description="Hit keys kept on one alert.")

    @property
    def recent(self) -> timedelta:
        return timedelta(hours=self.window_hours)

    @property
    def baseline(self) -> timedelta:
        return timedelta(days=self.baseline_days)


class Alert(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    rule: AlertRule
    severity: Severity
    title: str  # Chinese, for the analysts on duty
    summary: str  # English one-liner
    subject_kind: str  # category | slang | contact | cluster
    subject: str  # category slug / canonical slang term / "type:value" / cluster id
    window_start: UtcDatetime
    window_end: UtcDatetime
    current: int  # hits (surge), accounts (campaign) or posts (near_duplicate) now
    baseline: float = 0.0  # mean per window over the baseline period (surge); 0 for other rules
    accounts: int = 0  # distinct platform:author_id involved
    account_ids: tuple[str, ...] = ()  # those accounts (campaigns, near-duplicates), capped at max_hit_keys
    platforms: tuple[str, ...] = ()
    hit_keys: tuple[str, ...] = ()  # capped at AlertConfig.max_hit_keys
    created_at: UtcDatetime = Field(default_factory=utcnow)


# --- helpers ----------------------------------------------------------------------------------------------------


def clean_text(text: str, limit: int = MAX_SUBJECT_CHARS) -> str:
    """Crawled text put into titles and digests: no control/format/surrogate characters, bounded length."""
    out = "".join(ch if unicodedata.category(ch)[0] != "C" else "" for ch in text[: limit * 4])
    out = " ".join(out.split())
    return out[:limit] + ("…" if len(out) > limit else "")


def hit_time(hit: Hit) -> datetime:
    return hit.post.published_at or hit.first_seen


def _counts(hit: Hit) -> bool:
    return hit.verdict.label is Label.lead_gen and hit.status is not HitStatus.dismissed


def _account(hit: Hit) -> str | None:
    return f"{hit.post.platform.value}:{hit.post.author_id}" if hit.post.author_id else None


def _period_start(now: datetime, length: timedelta) -> datetime:
    buckets = (now - EPOCH) // length
    return EPOCH + buckets * length


def alert_id(rule: AlertRule, subject_kind: str, subject: str, period_start: datetime) -> str:
    raw = f"{rule.value}\x1f{subject_kind}\x1f{subject}\x1f{period_start.isoformat()}"
    return "al-" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def _keys(hits: Sequence[Hit], cfg: AlertConfig) -> tuple[str, ...]:
    ordered = sorted(hits, key=lambda h: (hit_time(h), h.key))
    return tuple(clean_text(h.key) for h in ordered[: cfg.max_hit_keys])


def _account_ids(accounts: set[str], cfg: AlertConfig) -> tuple[str, ...]:
    return tuple(clean_text(a) for a in sorted(accounts)[: cfg.max_hit_keys])


def _platforms(hits: Iterable[Hit]) -> tuple[str, ...]:
    return tuple(sorted({h.post.platform.value for h in hits}))


def _accounts(hits: Iterable[Hit]) -> set[str]:
    return {a for a in map(_account, hits) if a}


def _in_range(hits: Iterable[Hit], start: datetime, end: datetime) -> list[Hit]:
    """start < time <= end; `end` is `now`, so posts stamped later than now (clock skew) are ignored."""
    return [h for h in hits if _counts(h) and start < hit_time(h) <= end]


# --- surge ------------------------------------------------------------------------------------------------------


def _subjects(hit: Hit) -> set[tuple[str, str]]:
    subjects = {("slang", clean_text(m.canonical)) for m in hit.verdict.slang if m.canonical.strip()}
    if hit.verdict.category is not None:
        subjects.add(("category", hit.verdict.category.value))
    return subjects


def surge_alerts(hits: Sequence[Hit], now: datetime, cfg: AlertConfig | None = None) -> list[Alert]:
    """A category or canonical slang term whose count in the last window is far above its baseline mean per window."""
    cfg = cfg or AlertConfig()
    window_start = now - cfg.recent
    baseline_start = window_start - cfg.baseline
    windows_in_baseline = cfg.baseline / cfg.recent
    current: dict[tuple[str, str], list[Hit]] = defaultdict(list)
    before: dict[tuple[str, str], int] = defaultdict(int)
    for hit in _in_range(hits, baseline_start, now):
        in_window = hit_time(hit) > window_start
        for pair in _subjects(hit):
            if in_window:
                current[pair].append(hit)
            else:
                before[pair] += 1
    period = _period_start(now, cfg.recent)
    alerts = []
    for (kind, subject), members in sorted(current.items()):
        count = len(members)
        baseline = before[(kind, subject)] / windows_in_baseline
        threshold = cfg.surge_factor * max(baseline, 1.0)
        if count < cfg.surge_min_count or count < threshold:
            continue
        if kind == "category":
            name_zh, name_en = CATEGORY_NAMES_ZH[Category(subject)], subject
        else:
            name_zh, name_en = f"黑话「{subject}」", f"slang term {subject!r}"
        alerts.append(
            Alert(
                id=alert_id(AlertRule.surge, kind, subject, period),
                rule=AlertRule.surge,
                severity=Severity.high if count >= 2 * threshold else Severity.medium,
                title=f"激增：{name_zh} 近{cfg.window_hours:g}小时 {count} 条，基线均值 {baseline:.1f} 条",
                summary=f"Surge of {name_en}: {count} hits in the last {cfg.window_hours:g}h "
                f"vs a baseline mean of {baseline:.1f} per window",
                subject_kind=kind,
                subject=subject,
                window_start=window_start,
                window_end=now,
                current=count,
                baseline=round(baseline, 3),
                accounts=len(_accounts(members)),
                platforms=_platforms(members),
                hit_keys=_keys(members, cfg),
                created_at=now,
            )
        )
    return alerts


# --- campaign ---------------------------------------------------------------------------------------------------


def normalise_contact(kind: str, value: str) -> str:
    """One handle however it was written: NFKC (full-width digits), case-folded, no spaces; phones digits only."""
    text = unicodedata.normalize("NFKC", value).casefold()
    if kind == "phone":
        digits = "".join(ch for ch in text if ch.isdigit())
        return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] != "C")


def campaign_alerts(hits: Sequence[Hit], now: datetime, cfg: AlertConfig | None = None) -> list[Alert]:
    """One private-channel handle (wechat/qq/phone/telegram) posted by several distinct accounts: an agency's campaign.

    Handles are grouped by their value whatever channel word came before them: an agency gives the same id for
    WeChat, QQ and Telegram (飞机 youhua02026 and 卫星:youhua02026 are one campaign)."""
    cfg = cfg or AlertConfig()
    start = now - cfg.baseline
    by_contact: dict[str, list[Hit]] = defaultdict(list)
    channels: dict[str, set[str]] = defaultdict(set)
    for hit in _in_range(hits, start, now):
        seen: set[str] = set()
        for contact in hit.verdict.contacts:
            if contact.type not in CAMPAIGN_CONTACT_TYPES:
                continue
            subject = clean_text(normalise_contact(contact.type, contact.value))
            if not subject:
                continue
            channels[subject].add(contact.type)
            if subject not in seen:
                seen.add(subject)
                by_contact[subject].append(hit)
    period = _period_start(now, cfg.baseline)
    alerts = []
    for subject, members in sorted(by_contact.items()):
        accounts = _accounts(members)
        if len(accounts) < cfg.campaign_min_accounts:
            continue
        via = "/".join(sorted(channels[subject]))
        alerts.append(
            Alert(
                id=alert_id(AlertRule.campaign, "contact", subject, period),
                rule=AlertRule.campaign,
                severity=Severity.high if len(accounts) >= 2 * cfg.campaign_min_accounts else Severity.medium,
                title=f"引流团伙：联系方式 {subject}（{via}）出现在 {len(accounts)} 个账号的 {len(members)} 条内容中",
                summary=f"Campaign: contact {subject} ({via}) appears in {len(members)} hits from {len(accounts)} accounts "
                f"in the last {cfg.baseline_days:g} days",
                subject_kind="contact",
                subject=subject,
                window_start=start,
                window_end=now,
                current=len(accounts),
                accounts=len(accounts),
                account_ids=_account_ids(accounts, cfg),
                platforms=_platforms(members),
                hit_keys=_keys(members, cfg),
                created_at=now,
            )
        )
    return alerts


# --- near-duplicates --------------------------------------------------------------------------------------------


def normalise_for_shingles(text: str) -> str:
    """Letters only (after NFKC and case folding): whitespace, punctuation, digits, emoji and zero-width junk go,
    so the same script with a different phone number or decoration still matches."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] == "L")


def shingles(text: str, k: int = 3) -> set[str]:
    return {text[i : i + k] for i in range(len(text) - k + 1)}


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def near_duplicate_alerts(hits: Sequence[Hit], now: datetime, cfg: AlertConfig | None = None) -> list[Alert]:
    """Clusters of near-identical posts by distinct authors in the window (MinHash LSH finds candidate pairs; the
    exact Jaccard of the 3-gram sets confirms them, so an unlucky hash never joins unrelated posts)."""
    cfg = cfg or AlertConfig()
    window_start = now - cfg.recent
    members = sorted(_in_range(hits, window_start, now), key=lambda h: (hit_time(h), h.key))
    docs: list[tuple[Hit, set[str]]] = []
    seen_keys: set[str] = set()
    for hit in members:
        norm = normalise_for_shingles(hit.post.text[: cfg.near_dup_max_chars * 4])[: cfg.near_dup_max_chars]
        if len(norm) < cfg.near_dup_min_chars or hit.key in seen_keys:
            continue
        seen_keys.add(hit.key)
        docs.append((hit, shingles(norm)))
    if len(docs) < cfg.near_dup_min_cluster:
        return []
    lsh = MinHashLSH(threshold=cfg.near_dup_threshold, num_perm=cfg.near_dup_num_perm)
    signatures = []
    for i, (_, grams) in enumerate(docs):
        mh = MinHash(num_perm=cfg.near_dup_num_perm, seed=1)
        mh.update_batch([g.encode("utf-8", "surrogatepass") for g in grams])
        lsh.insert(str(i), mh)
        signatures.append(mh)
    uf = _UnionFind(len(docs))
    for i, mh in enumerate(signatures):
        for cand in lsh.query(mh):
            j = int(cand)
            if j <= i:
                continue
            a, b = docs[i][1], docs[j][1]
            if len(a & b) / len(a | b) >= cfg.near_dup_threshold:
                uf.union(i, j)
    clusters: dict[int, list[Hit]] = defaultdict(list)
    for i, (hit, _) in enumerate(docs):
        clusters[uf.find(i)].append(hit)
    period = _period_start(now, cfg.recent)
    alerts = []
    for group in clusters.values():
        accounts = _accounts(group)
        if len(accounts) < cfg.near_dup_min_cluster:
            continue
        first = group[0]  # earliest post: the cluster keeps its id as later copies join it
        cluster_id = "c-" + hashlib.sha256(first.key.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        sample = clean_text(first.post.text, 60)
        alerts.append(
            Alert(
                id=alert_id(AlertRule.near_duplicate, "cluster", cluster_id, period),
                rule=AlertRule.near_duplicate,
                severity=Severity.high if len(accounts) >= 2 * cfg.near_dup_min_cluster else Severity.medium,
                title=f"批量同文：{len(accounts)} 个账号发布 {len(group)} 条近似内容（示例：{sample}）",
                summary=f"Near-duplicate cluster: {len(group)} similar posts from {len(accounts)} accounts "
                f"in the last {cfg.window_hours:g}h",
                subject_kind="cluster",
                subject=cluster_id,
                window_start=window_start,
                window_end=now,
                current=len(group),
                accounts=len(accounts),
                account_ids=_account_ids(accounts, cfg),
                platforms=_platforms(group),
                hit_keys=_keys(group, cfg),
                created_at=now,
            )
        )
    return sorted(alerts, key=lambda a: a.id)


def recent_hits(store: HitStore, now: datetime, cfg: AlertConfig | None = None, page: int = 5000) -> list[Hit]:
    """Lead-gen hits published within the window and the recent period before `now` (the window's end), read
    through the HitStore.

    The store filters on published_at, so hits without one are not returned here (rules fall back to first_seen
    for hits passed in directly)."""
    cfg = cfg or AlertConfig()
    since = now - cfg.recent - cfg.baseline
    out: list[Hit] = []
    offset = 0
    while True:
        query = SearchQuery(labels=("lead_gen",), since=since, sort=SortOrder.newest, limit=page, offset=offset)
        result = store.search(query)
        out.extend(result.hits)
        offset += len(result.hits)
        if not result.hits or offset >= result.total:
            return out


def delivery_failed_alert(batch_id: str, platform: str, channel: str, detail: str, now: datetime) -> Alert:
    """The alert raised once per batch and channel when its delivery is given up (dead-lettered)."""
    subject = f"{batch_id}@{channel}"
    return Alert(
        id=alert_id(AlertRule.delivery_failed, "delivery", subject, EPOCH),
        rule=AlertRule.delivery_failed,
        severity=Severity.high,
        title=f"举报批次投递失败，需人工处理：{batch_id}",
        summary=clean_text(f"batch {batch_id} dead-lettered on {channel}: {detail}", 300),
        subject_kind="delivery",
        subject=subject,
        window_start=now,
        window_end=now,
        current=1,
        platforms=(platform,),
    )


# --- the alert log ----------------------------------------------------------------------------------------------


class AlertLog:
    """Append-only JSONL (`settings.state_dir / "alerts.jsonl"`) of every alert raised and every digest sent.

    Lines: {"kind": "alert", "alert": {...}} and {"kind": "notified", "channel", "digest_id", "ids", "at"}. A torn
    last line (a crash mid-write) is skipped on read. Writers hold an exclusive flock so two runs cannot both
    decide an alert is new.
    """

    FILENAME = "alerts.jsonl"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def for_settings(cls, settings: Any) -> AlertLog:
        return cls(Path(settings.state_dir) / cls.FILENAME)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(f".{self.path.name}.lock"), "a") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _records(self) -> Iterator[dict[str, Any]]:
        if not self.path.is_file():
            return
        with self.path.open("rb") as fh:
            for raw in fh:
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    yield record

    def _alerts(self) -> list[Alert]:
        out = []
        for record in self._records():
            if record.get("kind") == "alert":
                try:
                    out.append(Alert.model_validate(record.get("alert")))
                except ValidationError:
                    continue
        return out

    def _append(self, records: Sequence[dict[str, Any]]) -> None:
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
        with self.path.open("ab") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    def ids(self) -> set[str]:
        return {a.id for a in self._alerts()}

    def add_new(self, alerts: Sequence[Alert]) -> list[Alert]:
        """Log the alerts not logged before (by id) and return exactly those, in the given order."""
        with self._locked():
            known = self.ids()
            new = []
            for alert in alerts:
                if alert.id not in known:
                    known.add(alert.id)
                    new.append(alert)
            if new:
                self._append([{"kind": "alert", "alert": a.model_dump(mode="json")} for a in new])
            return new

    def unnotified(self, channel: str) -> list[Alert]:
        """Logged alerts no digest on `channel` has carried yet (e.g. a previous send failed), oldest first."""
        done: set[str] = set()
        for record in self._records():
            if record.get("kind") == "notified" and record.get("channel") == channel:
                done.update(str(i) for i in record.get("ids", []))
        return [a for a in self._alerts() if a.id not in done]

    def mark_notified(self, alerts: Sequence[Alert], channel: str, digest_id: str) -> None:
        if not alerts:
            return
        record = {
            "kind": "notified",
            "channel": channel,
            "digest_id": digest_id,
            "ids": [a.id for a in alerts],
            "at": utcnow().isoformat(),
        }
        with self._locked():
            self._append([record])

    def list(self, limit: int = 50, rule: AlertRule | str | None = None) -> builtins.list[Alert]:
        """Newest first (by created_at, then log order)."""
        alerts = self._alerts()
        if rule is not None:
            alerts = [a for a in alerts if a.rule == AlertRule(rule)]
        ordered = sorted(enumerate(alerts), key=lambda p: (p[1].created_at, p[0]), reverse=True)
        return [a for _, a in ordered[: max(0, limit)]]
