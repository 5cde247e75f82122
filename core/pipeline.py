"""Stage wiring: plain functions over records that the CLI, the scheduler and the web UI call.

This module and core/cli.py are the only parts of core that import the stages (import-linter enforces the rest).
Each function takes its dependencies as arguments, so a scheduled job is a thin wrapper that gathers them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifiers.base import Classifier, ClassifyInput
from core.evidence import collect_evidence
from core.records import Category, Hit, HitStatus, Label, Post, Verdict, utcnow
from core.settings import Settings
from indexer.base import HitStore, SearchQuery, SortOrder

if TYPE_CHECKING:
    from alerts.delivery import DeliveryChannel
    from alerts.report import ReviewFacts
    from indexer.casebook import Casebook

log = logging.getLogger(__name__)

Progress = Callable[[int], None]  # called with how many items were just finished


def batched(items: Iterable[object], size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def classify_items(
    classifier: Classifier, items: Iterable[ClassifyInput], batch_size: int = 32, progress: Progress | None = None
) -> Iterator[tuple[ClassifyInput, Verdict]]:
    """Stream verdicts in input order, a batch at a time (constant memory on huge inputs)."""
    for batch in batched(items, batch_size):
        verdicts = classifier.classify(batch)
        if len(verdicts) != len(batch):
            raise RuntimeError(f"classifier returned {len(verdicts)} verdicts for {len(batch)} inputs")
        yield from zip(batch, verdicts, strict=True)
        if progress:
            progress(len(batch))


def post_text(post: Post) -> str:
    text = post.text if not post.title or post.title in post.text else f"{post.title}\n{post.text}"
    # Text read from the post's images is classified with it: the pitch is often only in the picture.
    return f"{text}\n{post.ocr_text}".strip() if post.ocr_text else text


def post_input(post: Post, context: str | None = None) -> ClassifyInput:
    return ClassifyInput(
        id=post.key, text=post_text(post), platform=post.platform.value, kind=post.kind.value, context=context
    )


def thread_texts(posts: dict[str, Post], store: HitStore, depth: int = 3) -> dict[str, str]:
    """For each comment in `posts`, the text of the post its thread hangs under (the video or note, found by
    following parent keys up to `depth` levels, through this batch and then the index), keyed by comment key."""
    known: dict[str, Post] = dict(posts)

    def fetch(keys: set[str]) -> None:
        wanted = [k for k in keys if k and k not in known]
        known.update({hit.key: hit.post for hit in store.get_many(wanted)} if wanted else {})

    heads = {key: p.parent_key for key, p in posts.items() if p.parent_key}
    tops: dict[str, str] = {}
    for _ in range(depth):
        fetch(set(heads.values()))
        climbing: dict[str, str] = {}
        for key, parent in heads.items():
            if parent in known:
                tops[key] = parent  # the highest ancestor found so far
                grand = known[parent].parent_key
                if grand:
                    climbing[key] = grand
        if not climbing:
            break
        heads = climbing
    return {key: post_text(known[top]) for key, top in tops.items()}


@dataclass
class IndexStats:
    seen: int = 0
    already_indexed: int = 0
    classified: int = 0
    lead_gen: int = 0
    indexed: int = 0
    by_category: dict[str, int] = field(default_factory=dict)


def index_posts(
    posts: Iterable[Post],
    *,
    settings: Settings,
    store: HitStore,
    classifier: Classifier,
    progress: Progress | None = None,
    reclassify: bool = False,
) -> IndexStats:
    """Classify posts not yet in the store and index them (benign ones too, so analysts can search for misses).

    Idempotent: a post whose key is already indexed is skipped, which also keeps its review status.
    """
    stats = IndexStats()
    known = set() if reclassify else store.keys()
    fresh: dict[str, Post] = {}
    for post in posts:
        stats.seen += 1
        if post.key in known:
            stats.already_indexed += 1
            if progress:
                progress(1)
            continue
        fresh[post.key] = post  # the newest fetch of a key wins
    previous = {h.key: h for h in store.get_many(list(fresh))} if reclassify else {}
    threads = thread_texts(fresh, store)
    for chunk in batched(fresh.values(), 256):
        hits: list[Hit] = []
        inputs = (post_input(p, threads.get(p.key)) for p in chunk)
        for item, verdict in classify_items(classifier, inputs, settings.batch_size, progress):
            post = fresh[item.id]
            old = previous.get(post.key)
            hits.append(
                Hit(
                    post=post,
                    verdict=verdict,
                    evidence=collect_evidence(settings, post),
                    status=old.status if old else HitStatus.new,
                    report_ids=old.report_ids if old else (),
                    first_seen=old.first_seen if old else post.fetched_at,
                )
            )
            stats.classified += 1
            if verdict.label is Label.lead_gen:
                stats.lead_gen += 1
                cat = verdict.category.value if verdict.category else "unknown"
                stats.by_category[cat] = stats.by_category.get(cat, 0) + 1
        stats.indexed += store.upsert(hits)
    return stats


def iter_hits(store: HitStore, query: SearchQuery, page: int = 1000) -> Iterator[Hit]:
    """Every hit matching a query, paged so memory stays flat."""
    offset = 0
    while True:
        result = store.search(query.model_copy(update={"limit": page, "offset": offset, "facets": False}))
        yield from result.hits
        offset += len(result.hits)
        if not result.hits or offset >= result.total:
            return


def lead_gen_hits(store: HitStore, platform: str | None = None) -> Iterator[Hit]:
    from core.records import Platform

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


def _apply_reviews(hits: list[Hit], casebook: Casebook) -> tuple[list[Hit], dict[str, ReviewFacts]]:
    """The analyst's word wins: a reviewed category replaces the model's, and the review goes in the notice."""
    from alerts.report import ReviewFacts

    latest = casebook.latest_reviews([h.key for h in hits])
    facts: dict[str, ReviewFacts] = {}
    reviewed: list[Hit] = []
    for hit in hits:
        review = latest.get(hit.key)
        if review is not None:
            facts[hit.key] = ReviewFacts(
                reviewed=True,
                reviewer=review.analyst,
                reviewed_at=review.at,
                decision=review.decision,
                note=review.reason or None,
            )
            if review.category_to and review.category_to in Category.__members__:
                hit = hit.model_copy(
                    update={"verdict": hit.verdict.model_copy(update={"category": Category(review.category_to)})}
                )
        reviewed.append(hit)
    return reviewed, facts


def write_reports(
    *,
    settings: Settings,
    store: HitStore,
    platform: str | None = None,
    include_unreviewed: bool = False,
    min_score: float | None = None,
    out_dir: Path | None = None,
    resend: bool = False,
) -> ReportOutcome:
    """Build one takedown batch per platform from reportable hits, write it, queue it in the outbox, mark it reported.

    Order matters for crash safety: files, then outbox and casebook, then hit status. A crash before the status
    change rebuilds the same batch id next time (ids derive from the keys), so nothing is reported twice.
    """
    from alerts.delivery import Outbox
    from alerts.render import write_batch
    from alerts.report import build_batches
    from indexer.casebook import Casebook

    casebook = Casebook(settings.casebook)
    try:
        hits, reviews = _apply_reviews(list(lead_gen_hits(store, platform)), casebook)
        already = set() if resend else {h.key for h in hits if h.report_ids} | casebook.reported_keys(platform)
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
        outcome = ReportOutcome()
        target = Path(out_dir) if out_dir else settings.reports_dir
        outbox = Outbox(settings.outbox_dir)
        for batch in batches:
            paths = write_batch(batch, target)
            outbox.stage(batch, paths)
            if casebook.get_batch(batch.batch_id) is None:
                by_kind = {_path_kind(p): str(p) for p in paths}
                casebook.add_batch(batch.batch_id, batch.platform, batch.keys, by_kind)
            store.set_status(batch.keys, HitStatus.reported, report_id=batch.batch_id)
            outcome.paths.extend(paths)
            outcome.batches.append(batch.batch_id)
            outcome.items += len(batch.keys)
        return outcome
    finally:
        casebook.close()


def _path_kind(path: Path) -> str:
    name = path.name
    if name.endswith("-evidence.zip.sha256"):
        return "zip_sha256"
    if name.endswith("-evidence.zip"):
        return "zip"
    return path.suffix.lstrip(".") or name


def delivery_channel(options: dict[str, Any]) -> DeliveryChannel:
    """A delivery channel from a job's options; secrets come from environment variables, never the file."""
    from alerts.delivery import FolderDelivery, SmtpDelivery, WebhookDelivery

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


class JobFailed(RuntimeError):
    """A job ran to its end but something in it failed (e.g. a batch was dead-lettered): exit non-zero, keep counts."""

    def __init__(self, message: str, counts: dict[str, Any]) -> None:
        super().__init__(message)
        self.counts = counts


def deliver_pending(*, settings: Settings, options: dict[str, Any]) -> dict[str, Any]:
    """Send every batch queued in the outbox that this channel has not taken, and record each outcome.

    A batch dead-lettered by this run raises a `delivery_failed` alert (once per batch and channel) and makes the
    run fail with JobFailed after everything else was sent and recorded."""
    from alerts.delivery import DeliveryState, Outbox, RetryPolicy
    from alerts.delivery import deliver_pending as send_pending
    from alerts.rules import AlertLog, delivery_failed_alert
    from indexer.casebook import Casebook

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
            casebook.record_delivery(result.batch_id, result.channel, result.state.value, result.detail or "")
            if result.sent and casebook.get_batch(result.batch_id) is not None:
                casebook.set_batch_status(result.batch_id, "sent")
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
    reported: int = 0
    removed: int = 0
    still_up: int = 0
    median_hours_to_takedown: float | None = None

    @property
    def takedown_rate(self) -> float:
        return self.removed / self.reported if self.reported else 0.0


def takedown_stats(settings: Settings) -> list[TakedownStats]:
    """Per platform partner: items reported, taken down, still up, and median time from report to takedown."""
    from statistics import median

    from indexer.casebook import Casebook

    casebook = Casebook(settings.casebook)
    try:
        batches = casebook.list_batches(limit=1_000_000)
        rechecks = casebook.list_rechecks(limit=10_000_000)
    finally:
        casebook.close()
    reported_at: dict[str, tuple[str, Any]] = {}
    for batch in sorted(batches, key=lambda b: b.created_at):
        for key in batch.item_keys:
            reported_at.setdefault(key, (batch.platform, batch.created_at))
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
            hours.setdefault(platform, []).append((removed_at[key] - at).total_seconds() / 3600)
        elif latest.get(key) == "still_up":
            entry.still_up += 1
    for platform, values in hours.items():
        stats[platform].median_hours_to_takedown = median(values)
    return sorted(stats.values(), key=lambda s: s.platform)


def alert_channel(options: dict[str, Any]) -> Any:
    """The alerts' channel from a job's options (webhook or email); None when the job only logs alerts."""
    if not options.get("channel"):
        return None
    return delivery_channel(options)


def evaluate_alerts(*, settings: Settings, options: dict[str, Any]) -> dict[str, Any]:
    """Evaluate alert rules on recent lead_gen hits, log new alerts, and send a digest of them."""
    from alerts.notify import run_alerts
    from alerts.rules import AlertConfig, recent_hits
    from indexer import open_store

    cfg = AlertConfig(**{k: v for k, v in options.items() if k in AlertConfig.model_fields})
    channel_options = {k: v for k, v in options.items() if k not in AlertConfig.model_fields}
    store = open_store(settings)
    try:
        hits = recent_hits(store, utcnow(), cfg)
    finally:
        store.close()
    return run_alerts(hits, settings=settings, cfg=cfg, channel=alert_channel(channel_options))
