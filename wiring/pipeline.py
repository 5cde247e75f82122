"""Stage wiring: plain functions over records that the CLI and the scheduler call (classify, index, alerts).

The takedown workflow (report, deliver, takedown statistics) lives with the reports in alerts/takedown/workflow.py,
so the console uses the very same functions without reaching up here. Each function takes its dependencies as
arguments, so a scheduled job is a thin wrapper that gathers them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from classifiers.base import Classifier, ClassifyInput
from core.evidence import collect_evidence
from core.records import Hit, HitStatus, Label, Post, Verdict, utcnow
from core.settings import Settings
from indexer.base import HitStore

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
    known: set[str] | None = None,
) -> IndexStats:
    """Classify posts not yet in the store and index them (benign ones too, so analysts can search for misses).

    Idempotent: a post whose key is already indexed is skipped, which also keeps its review status. `known`, the
    keys the caller already found indexed, spares asking the store for every key it holds (a fleet's index worker
    asks only for its batch's).
    """
    stats = IndexStats()
    if known is None:
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


def alert_channel(options: dict[str, Any]) -> Any:
    """The alerts' channel from a job's options (webhook or email); None when the job only logs alerts."""
    if not options.get("channel"):
        return None
    from alerts.takedown.workflow import delivery_channel

    return delivery_channel(options)


def alert_plan(settings: Settings, options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The alert plan (rules, window, anchor) from a job's or a command's options over the settings' defaults,
    and the options left for the channel. ValueError (UnknownRule for a bad name) says what is wrong."""
    from alerts.monitoring.registry import plan_from_options

    return plan_from_options(options, window=settings.alert_window, anchor=settings.alert_anchor)


def evaluate_alerts(*, settings: Settings, options: dict[str, Any]) -> dict[str, Any]:
    """Evaluate alert rules on the window's lead_gen hits, log new alerts, and send a digest of them."""
    from alerts.monitoring.notify import run_alerts
    from alerts.monitoring.rules import recent_hits
    from alerts.monitoring.window import window_end
    from indexer import open_store

    plan, channel_options = alert_plan(settings, options)
    now = utcnow()
    store = open_store(settings)
    try:
        end = window_end(plan.cfg.anchor, store, now)
        hits = recent_hits(store, end, plan.cfg)
    finally:
        store.close()
    counts = run_alerts(
        hits,
        settings=settings,
        now=now,
        end=end,
        cfg=plan.cfg,
        rules=plan.rules,
        channel=alert_channel(channel_options),
    )
    return {**counts, "window_end": end.isoformat()}
