"""The takedown workflow: build and write report batches, deliver them, and count takedowns.

One path for the command line, the scheduler and the console. The casebook owns every workflow fact (batch, its
files, deliveries, re-checks); the index keeps a searchable copy of each hit's status, written from the casebook
after it, and `reconcile` brings the copy back in line at the start of every run, so a run killed between the two
writes converges on the next one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casebook.book import REOPENED
from core.records import Category, Hit, HitStatus, Platform, utcnow
from core.settings import Settings
from indexer.base import HitStore, SearchQuery, SortOrder, iter_hits

if TYPE_CHECKING:
    from alerts.takedown.delivery import DeliveryChannel, DeliveryResult
    from alerts.takedown.report import ReportBatch, ReviewFacts
    from casebook import Casebook, Reopened

log = logging.getLogger(__name__)


def lead_gen_hits(store: HitStore, platform: str | None = None) -> Iterator[Hit]:
    query = SearchQuery(
        labels=("lead_gen",),
        platforms=(Platform(platform),) if platform else (),
        sort=SortOrder.first_seen,
    )
    return iter_hits(store, query)


@dataclass
class ReportOutcome:
    batches: list[str] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    items: int = 0
    unreviewed: int = 0  # items auto-included that no person reviewed


@dataclass(frozen=True)
class PlannedItem:
    key: str
    platform: str
    category: str | None
    score: float
    reviewed: bool  # a person confirmed it (False: auto-included by --include-unreviewed)
    text: str


@dataclass
class ReportPlan:
    """What a build would batch, before anything is written: the dry run and the console's preview."""

    batches: list[ReportBatch] = field(default_factory=list)
    items: list[PlannedItem] = field(default_factory=list)

    @property
    def unreviewed(self) -> int:
        return sum(not i.reviewed for i in self.items)

    def counts(self, by: str) -> dict[str, int]:
        """Items per `platform` or `category` (uncategorised as "-")."""
        out: dict[str, int] = {}
        for item in self.items:
            name = getattr(item, by) or "-"
            out[name] = out.get(name, 0) + 1
        return dict(sorted(out.items()))


def _apply_reviews(hits: list[Hit], casebook: Casebook, settings: Settings) -> tuple[list[Hit], dict[str, ReviewFacts]]:
    """The analyst's word wins: a reviewed category replaces the model's, who decided and when go in the notice (by
    account id, or as the role when `report_reviewer` is `role`), and the casebook's state (the owner) replaces the
    index's copy of the status. A hit a person reopened waits for a person: it is left out, never auto-included as
    "unreviewed" (a reopen leaves no standing decision, so such a hit would otherwise look never reviewed)."""
    from alerts.takedown.report import REVIEWER_ROLE_ZH, ReviewFacts

    keys = [h.key for h in hits]
    latest = casebook.latest_reviews(keys)
    standing = casebook.reviewed_by(keys)
    tracked = casebook.tracked_keys()
    states = casebook.states([k for k in keys if k in tracked])
    facts: dict[str, ReviewFacts] = {}
    reviewed: list[Hit] = []
    for hit in hits:
        review = latest.get(hit.key)
        decided = standing.get(hit.key)
        if decided is not None:
            facts[hit.key] = ReviewFacts(
                reviewed=True,
                reviewer=decided.analyst if settings.report_reviewer == "id" else REVIEWER_ROLE_ZH,
                reviewed_at=decided.at,
                decision=decided.decision,
                note=(review.reason or None) if review is not None and review.decision == decided.decision else None,
            )
        if review is not None and review.category_to and review.category_to in Category.__members__:
            hit = hit.model_copy(
                update={"verdict": hit.verdict.model_copy(update={"category": Category(review.category_to)})}
            )
        if hit.key in states:  # claimed stays claimed here: an item under review is never auto-included
            hit = hit.model_copy(update={"status": states[hit.key]})
        if hit.status is HitStatus.new and review is not None and review.decision == REOPENED:
            continue
        reviewed.append(hit)
    return reviewed, facts


def plan_reports(
    *,
    settings: Settings,
    store: HitStore,
    casebook: Casebook,
    platform: str | None = None,
    include_unreviewed: bool = False,
    min_score: float | None = None,
    resend: bool = False,
    only: set[str] | None = None,
) -> ReportPlan:
    """The batches a build would make now, in memory: reads the index and the casebook, writes nothing.

    `only` keeps just those keys (the console's preview after the analyst removed items)."""
    from alerts.takedown.report import build_batches

    hits, reviews = _apply_reviews(list(lead_gen_hits(store, platform)), casebook, settings)
    if only is not None:
        hits = [h for h in hits if h.key in only]
    already = set() if resend else {h.key for h in hits if h.report_ids} | casebook.reported_keys(platform)
    if not resend:  # an item a reopen took out of a superseded batch carries that id but is free to batch again
        states = {h.key: h.status for h in hits}
        already = {k for k in already if states.get(k) not in (HitStatus.new, HitStatus.confirmed)}
    batches = build_batches(
        hits,
        settings=settings,
        include_unreviewed=include_unreviewed,
        min_score=settings.report_min_score if min_score is None else min_score,
        platform=platform,
        already_reported=already,
        resend=resend,
        reviews=reviews,
    )
    plan = ReportPlan(batches=batches)
    for batch in batches:
        for item in batch.items:
            plan.items.append(
                PlannedItem(
                    key=item.hit_key,
                    platform=batch.platform.value,
                    category=item.category.value if item.category else None,
                    score=item.detection.score,
                    reviewed=item.review.reviewed,
                    text=item.text,
                )
            )
    return plan


def write_reports(
    *,
    settings: Settings,
    store: HitStore,
    platform: str | None = None,
    include_unreviewed: bool = False,
    min_score: float | None = None,
    out_dir: Path | None = None,
    resend: bool = False,
    only: set[str] | None = None,
) -> ReportOutcome:
    """Build one takedown batch per platform from reportable hits, write it, record it, queue it, mark it batched
    (reported means delivered: that comes when a delivery succeeds).

    Order matters for crash safety: files, then the casebook (the owner: from here the batch exists), then the
    outbox, then the index's copy of the status. `reconcile` at the start of every run finishes whatever a killed
    run left after the casebook write; a run killed before it rebuilds the same batch id (ids derive from the keys).
    """
    from alerts.takedown.formats import write_files
    from casebook import Casebook

    casebook = Casebook(settings.casebook)
    try:
        reconcile(settings=settings, store=store, casebook=casebook)
        plan = plan_reports(
            settings=settings,
            store=store,
            casebook=casebook,
            platform=platform,
            include_unreviewed=include_unreviewed,
            min_score=min_score,
            resend=resend,
            only=only,
        )
        outcome = ReportOutcome(unreviewed=plan.unreviewed)
        target = Path(out_dir) if out_dir else settings.reports_dir
        for batch in plan.batches:
            files = write_files(batch, target)
            if casebook.get_batch(batch.batch_id) is None:
                casebook.add_batch(
                    batch.batch_id, batch.platform, batch.keys, {k: str(p) for k, p in files.items()}, resend=resend
                )
            _stage(settings, batch, list(files.values()))
            store.set_status(batch.keys, HitStatus.batched, report_id=batch.batch_id)
            outcome.paths.extend(files.values())
            outcome.batches.append(batch.batch_id)
            outcome.items += len(batch.keys)
        return outcome
    finally:
        casebook.close()


def _stage(settings: Settings, batch: Any, files: list[Path]) -> None:
    from alerts.takedown.delivery import Outbox

    outbox = Outbox(settings.outbox_dir)
    with outbox.lock(batch.batch_id):
        outbox.stage(batch, files)


@dataclass
class Reconciled:
    statuses: int = 0  # index copies brought in line with the casebook
    staged: int = 0  # batches the casebook holds that were missing from the outbox
    withdrawn: int = 0  # superseded batches still queued in the outbox


def index_status(state: HitStatus) -> HitStatus:
    """The index's copy of a casebook state: a claim is a lease that expires on its own, so the index keeps new."""
    return HitStatus.new if state is HitStatus.claimed else state


def reconcile(*, settings: Settings, store: HitStore, casebook: Casebook) -> Reconciled:
    """Bring the index's searchable status and the outbox in line with the casebook, which owns both facts.

    Every hit the casebook knows (a review, a batch, a re-check) gets the casebook's state in the index, with the
    ids of its live batches; an index written before batched/delivered existed holds `reported`, which becomes
    batched or delivered here. A recorded batch never staged is staged from its recorded files; a superseded one
    still queued is withdrawn. Run at the start of every report run and console start, so a crash between the
    writes converges."""
    from alerts.takedown.delivery import Outbox
    from alerts.takedown.report import ReportBatch

    done = Reconciled()
    outbox = Outbox(settings.outbox_dir)
    batch_of: dict[str, str] = {}
    for batch in sorted(casebook.list_batches(limit=1_000_000), key=lambda b: b.created_at):
        json_path = Path((batch.paths or {}).get("json", ""))
        if batch.status == "superseded":
            if outbox.is_staged(batch.id):
                try:
                    done.withdrawn += outbox.withdraw(batch.id)
                except ValueError:
                    log.error("superseded batch %s was delivered meanwhile; left in the outbox", batch.id)
            continue
        for key in batch.item_keys:
            batch_of[key] = batch.id
        if batch.status == "built" and not outbox.is_staged(batch.id) and json_path.is_file():
            files = [Path(p) for p in (batch.paths or {}).values() if Path(p).is_file()]
            _stage(settings, ReportBatch.model_validate_json(json_path.read_bytes()), files)
            done.staged += 1
    states = casebook.states(sorted(casebook.tracked_keys()))
    by_target: dict[tuple[HitStatus, str | None], list[str]] = {}
    for hit in store.get_many(list(states)):
        wanted = index_status(states[hit.key])
        report_id = batch_of.get(hit.key)
        if hit.status is not wanted or (report_id and report_id not in hit.report_ids):
            by_target.setdefault((wanted, report_id), []).append(hit.key)
    for (status, report_id), keys in by_target.items():
        done.statuses += store.set_status(keys, status, report_id=report_id)
    return done


def reopen_hit(
    *, settings: Settings, store: HitStore, casebook: Casebook, key: str, analyst: str, reason: str
) -> Reopened:
    """Reopen a decision (see Casebook.reopen): casebook first, then the withdrawn batch leaves the outbox, then
    the index's copy of every touched hit. Raises IllegalTransition for a delivered (or new) item."""
    from alerts.takedown.delivery import Outbox

    done = casebook.reopen(key, analyst, reason)
    outbox = Outbox(settings.outbox_dir)
    for batch_id in done.superseded:
        try:
            outbox.withdraw(batch_id)
        except ValueError:  # a channel delivered it after the casebook last heard: the partner has it
            log.error("batch %s was delivered before it could be withdrawn; tell the partner of %s", batch_id, key)
    touched = [key, *done.others]
    states = casebook.states(touched)
    for status in {index_status(s) for s in states.values()}:
        store.set_status([k for k in touched if index_status(states[k]) is status], status)
    return done


def delivery_channel(options: dict[str, Any]) -> DeliveryChannel:
    """A delivery channel from a job's options; secrets come from environment variables, never the file."""
    from alerts.takedown.delivery import FolderDelivery, SmtpDelivery, WebhookDelivery

    kind = options.get("channel", "folder")
    if kind == "folder":
        return FolderDelivery(Path(options["path"]))
    if kind == "smtp":
        recipients = options["recipients"]
        return SmtpDelivery(
            host=options.get("host", "127.0.0.1"),
            port=int(options.get("port", 25)),
            sender=options["sender"],
            recipients=[recipients] if isinstance(recipients, str) else list(recipients),
            username=options.get("username"),
            password=os.environ.get(options["password_env"]) if options.get("password_env") else None,
            starttls=bool(options.get("starttls", False)),
        )
    if kind == "webhook":
        secret_env = options.get("secret_env", "QINGYUAN_WEBHOOK_SECRET")
        secret = os.environ.get(secret_env)
        if not secret:
            raise ValueError(f"webhook delivery needs its HMAC secret in the environment variable {secret_env}")
        return WebhookDelivery(options["url"], secret)
    raise ValueError(f"unknown delivery channel {kind!r}: folder, smtp or webhook")


def record_delivery(casebook: Casebook, result: DeliveryResult) -> None:
    """One delivery outcome into the casebook (its delivery row and the batch's status): the only place that
    bookkeeping is written, for the scheduler's deliver job and the console's send alike."""
    casebook.record_delivery(result.batch_id, result.channel, result.state.value, result.detail or "")
    if casebook.get_batch(result.batch_id) is None:
        return
    if result.sent:
        casebook.set_batch_status(result.batch_id, "sent")
    elif result.state.value in ("failed", "dead_letter"):
        casebook.set_batch_status(result.batch_id, "failed")


def _copy_delivered(settings: Settings, casebook: Casebook, batch_ids: list[str]) -> None:
    """The index's copy follows the casebook: the delivered batches' items are reported now. Best effort: when
    the index is busy or down, the next reconcile (report run, re-check, console start) copies it."""
    from indexer import open_store

    try:
        store = open_store(settings)
    except Exception:  # the casebook holds the fact; the copy can wait for reconcile
        log.warning("index unavailable; delivered status of %s left to reconcile", batch_ids, exc_info=True)
        return
    try:
        for batch_id in batch_ids:
            row = casebook.get_batch(batch_id)
            if row is not None:
                states = casebook.states(list(row.item_keys))
                keys = [k for k, s in states.items() if s is HitStatus.delivered]
                store.set_status(keys, HitStatus.delivered, report_id=batch_id)
    except Exception:
        log.warning("could not copy delivered status of %s to the index; reconcile will", batch_ids, exc_info=True)
    finally:
        store.close()


class _OneAttempt(Exception):
    """Raised from the retry sleep: a console request makes one attempt; the scheduled deliver job retries."""


def deliver_batch(
    settings: Settings, casebook: Casebook, batch_id: str, channel: DeliveryChannel | None
) -> DeliveryResult:
    """Deliver one recorded batch now: stage it in the outbox and, when there is a channel, make one attempt on
    it (the console's "send"); the outcome is recorded as the scheduled deliver job records its own."""
    from alerts.takedown.delivery import DeliveryResult, DeliveryState, deliver
    from alerts.takedown.report import ReportBatch

    row = casebook.get_batch(batch_id)
    if row is None:
        raise KeyError(batch_id)
    if row.status == "superseded":
        raise ValueError(f"{batch_id} was superseded (an item was reopened); its other items go in a new batch")
    paths = {k: Path(p) for k, p in (row.paths or {}).items()}
    json_path = paths.get("json", settings.reports_dir / f"{batch_id}.json")
    report = ReportBatch.model_validate_json(json_path.read_bytes())
    files = [p for kind, p in sorted(paths.items()) if kind != "json" and p.is_file()] + [json_path]
    if channel is None:
        _stage(settings, report, files)
        result = DeliveryResult(
            batch_id=batch_id,
            channel="outbox",
            state=DeliveryState.pending,
            sent=False,
            already_delivered=False,
            attempts=0,
            total_attempts=0,
            idempotency_key=batch_id,
            detail="queued in the outbox for the scheduled deliver job",
        )
        casebook.record_delivery(batch_id, "outbox", "queued", result.detail or "")
        return result

    def stop(_delay: float) -> None:
        raise _OneAttempt()

    try:
        result = deliver(report, files, channel, settings.outbox_dir, sleep=stop)
    except _OneAttempt:
        result = DeliveryResult(
            batch_id=batch_id,
            channel=channel.name,
            state=DeliveryState.failed,
            sent=False,
            already_delivered=False,
            attempts=1,
            total_attempts=1,
            idempotency_key=batch_id,
            detail="failed; left in the outbox for the scheduled deliver job to retry",
        )
    record_delivery(casebook, result)
    return result


class JobFailed(RuntimeError):
    """A job ran to its end but something in it failed (e.g. a batch was dead-lettered): exit non-zero, keep counts."""

    def __init__(self, message: str, counts: dict[str, Any]) -> None:
        super().__init__(message)
        self.counts = counts


def deliver_pending(*, settings: Settings, options: dict[str, Any]) -> dict[str, Any]:
    """Send every batch queued in the outbox that this channel has not taken, and record each outcome.

    A batch dead-lettered by this run raises a `delivery_failed` alert (once per batch and channel) and makes the
    run fail with JobFailed after everything else was sent and recorded."""
    from alerts.monitoring.rules import AlertLog, delivery_failed_alert
    from alerts.takedown.delivery import DeliveryState, Outbox, RetryPolicy
    from alerts.takedown.delivery import deliver_pending as send_pending
    from casebook import Casebook

    channel = delivery_channel(options)
    policy = RetryPolicy(
        max_attempts=int(options.get("max_attempts", 5)),
        base_delay=float(options.get("base_delay", 1.0)),
        max_delay=float(options.get("max_delay", 60.0)),
    )
    results = send_pending(settings.outbox_dir, channel, policy=policy)
    casebook = Casebook(settings.casebook)
    try:
        for result in results:
            record_delivery(casebook, result)
        if any(r.sent for r in results):
            _copy_delivered(settings, casebook, [r.batch_id for r in results if r.sent])
    finally:
        casebook.close()
    states: dict[str, int] = {}
    for result in results:
        states[result.state.value] = states.get(result.state.value, 0) + 1
    counts = {"channel": channel.name, "batches": len(results), "states": states}
    dead = [r for r in results if r.state is DeliveryState.dead_letter]
    if dead:
        outbox = Outbox(settings.outbox_dir)
        AlertLog.for_settings(settings).add_new(
            [
                delivery_failed_alert(
                    r.batch_id, outbox.load_state(r.batch_id).get("platform", ""), r.channel, r.detail or "", utcnow()
                )
                for r in dead
            ]
        )
        names = ", ".join(r.batch_id for r in dead)
        raise JobFailed(f"{len(dead)} batches dead-lettered on {channel.name}: {names}", counts)
    return counts


@dataclass
class TakedownStats:
    platform: str
    reported: int = 0  # delivered to the partner (a delivery succeeded): what "reported" means
    removed: int = 0
    still_up: int = 0
    median_hours_to_takedown: float | None = None
    awaiting_delivery: int = 0  # in a built batch that no delivery has reached the partner with yet

    @property
    def takedown_rate(self) -> float:
        return self.removed / self.reported if self.reported else 0.0


def takedown_stats(settings: Settings) -> list[TakedownStats]:
    """Per platform partner: items reported (delivered), taken down, still up, median time from delivery to
    takedown, and items batched but not yet delivered (counted apart: the partner has not seen them)."""
    from statistics import median

    from casebook import Casebook

    casebook = Casebook(settings.casebook)
    try:
        batches = [b for b in casebook.list_batches(limit=1_000_000) if b.status != "superseded"]
        delivered_at = casebook.delivered_at()
        rechecks = casebook.list_rechecks(limit=10_000_000)
    finally:
        casebook.close()
    reported_at: dict[str, tuple[str, Any]] = {}
    waiting: dict[str, str] = {}
    for batch in sorted(batches, key=lambda b: delivered_at.get(b.id, b.created_at)):
        for key in batch.item_keys:
            if batch.id in delivered_at:
                reported_at.setdefault(key, (batch.platform, delivered_at[batch.id]))
            else:
                waiting.setdefault(key, batch.platform)
    latest: dict[str, Any] = {}
    removed_at: dict[str, Any] = {}
    for row in sorted(rechecks, key=lambda r: r.at):
        latest[row.hit_key] = row.outcome
        if row.outcome == "removed":
            removed_at.setdefault(row.hit_key, row.at)
    stats: dict[str, TakedownStats] = {}
    hours: dict[str, list[float]] = {}
    for key, (platform, at) in reported_at.items():
        entry = stats.setdefault(platform, TakedownStats(platform))
        entry.reported += 1
        if key in removed_at:
            entry.removed += 1
            hours.setdefault(platform, []).append(max(0.0, (removed_at[key] - at).total_seconds() / 3600))
        elif latest.get(key) == "still_up":
            entry.still_up += 1
    for key, platform in waiting.items():
        if key not in reported_at:
            stats.setdefault(platform, TakedownStats(platform)).awaiting_delivery += 1
    for platform, values in hours.items():
        stats[platform].median_hours_to_takedown = median(values)
    return sorted(stats.values(), key=lambda s: s.platform)
