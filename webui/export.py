"""Analysts' decisions as labelled training data (`qingyuan train --from-reviews`).

One JSONL line per reviewed post, its newest decision winning: confirmed -> lead_gen with the analyst's category,
dismissed -> benign. The text is the one the analyst saw when deciding, so training data never drifts from the
decision even if the post is re-crawled with different text later.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.settings import Settings
from webui.auth import open_db


def export_reviews(settings: Settings, path: Path | str) -> int:
    """Write the labelled reviews to `path` (JSONL, atomically); return how many lines were written."""
    db = open_db(settings)
    try:
        decisions = db.decisions()
    finally:
        db.close()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    written = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for review, text in decisions:
            if not text.strip():
                continue  # no text recorded (decided outside the console): nothing to learn from
            confirmed = review.decision == "confirmed"
            row = {
                "id": review.key,
                "text": text,
                "label": "lead_gen" if confirmed else "benign",
                "category": review.category_to if confirmed else None,
                "source": "review",
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            written += 1
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return written
