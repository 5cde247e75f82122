"""Stage wiring that drives crawlers after reporting: re-checks of delivered posts, recorded in the casebook first
and copied to the index's searchable status."""

from __future__ import annotations

from typing import Any

from core.records import HitStatus, utcnow
from core.settings import Settings
from indexer.base import SearchQuery, SortOrder, iter_hits


def recheck_reported(*, settings: Settings, options: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
    """Revisit delivered posts (oldest first) and record whether each was taken down or is still up. A batch the
    partner has not received yet is not re-checked: nothing was asked of the platform."""
    from alerts.takedown.workflow import reconcile
    from casebook import Casebook
    from crawlers.recheck import check_post
    from indexer import open_store

    limit = int(options.get("limit", 100))
    job = f"recheck-{utcnow():%Y%m%d}"
    store = open_store(settings)
    casebook = Casebook(settings.casebook)
    counts: dict[str, int] = {}
    try:
        reconcile(settings=settings, store=store, casebook=casebook)  # the deliver job records in the casebook only
        query = SearchQuery(statuses=(HitStatus.delivered, HitStatus.still_up), sort=SortOrder.first_seen)
        for hit in list(iter_hits(store, query))[:limit]:
            result = check_post(hit.post.platform.value, hit.post.url, settings, job=job, timeout=timeout)
            batch = hit.report_ids[-1] if hit.report_ids else None
            casebook.record_recheck(
                hit.key, result.outcome, batch_id=batch, http_status=result.http_status, detail=result.detail
            )
            if result.outcome == "removed":
                store.set_status([hit.key], HitStatus.removed)
            elif result.outcome == "still_up":
                store.set_status([hit.key], HitStatus.still_up)
            counts[result.outcome] = counts.get(result.outcome, 0) + 1
    finally:
        casebook.close()
        store.close()
    return {"checked": sum(counts.values()), **counts}
