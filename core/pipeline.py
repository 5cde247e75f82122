"""Stage wiring: plain functions over records that the CLI, the scheduler and the web UI call.

This module and core/cli.py are the only parts of core that import the stages (import-linter enforces the rest).
Each function takes its dependencies as arguments, so a scheduled job is a thin wrapper that gathers them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from classifiers.base import Classifier, ClassifyInput
from core.evidence import collect_evidence
from core.records import Hit, HitStatus, Label, Post, Verdict
from core.settings import Settings
from indexer.base import HitStore, SearchQuery, SortOrder

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


def post_input(post: Post) -> ClassifyInput:
    text = post.text if not post.title or post.title in post.text else f"{post.title}\n{post.text}"
    return ClassifyInput(id=post.key, text=text, platform=post.platform.value, kind=post.kind.value)


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
    for chunk in batched(fresh.values(), 256):
        hits: list[Hit] = []
        for item, verdict in classify_items(classifier, (post_input(p) for p in chunk), settings.batch_size, progress):
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
    """Build one takedown batch per platform from reportable hits, write it, and mark its items reported."""
    from alerts.render import write_batch
    from alerts.report import build_batches

    hits = list(lead_gen_hits(store, platform))
    already = set() if resend else {h.key for h in hits if h.report_ids}
    batches = build_batches(
        hits,
        settings=settings,
        include_unreviewed=include_unreviewed,
        min_score=settings.report_min_score if min_score is None else min_score,
        platform=platform,
        already_reported=already,
    )
    outcome = ReportOutcome()
    target = Path(out_dir) if out_dir else settings.reports_dir
    for batch in batches:
        # Files first, then the status change: a crash in between only means the same batch id is rebuilt.
        outcome.paths.extend(write_batch(batch, target))
        keys = list(batch.keys)
        store.set_status(keys, HitStatus.reported, report_id=batch.batch_id)
        outcome.batches.append(batch.batch_id)
        outcome.items += len(keys)
    return outcome


def hits_for_keys(store: HitStore, keys: Sequence[str]) -> list[Hit]:
    return store.get_many(list(keys))
