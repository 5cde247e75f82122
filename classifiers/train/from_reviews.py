"""Analysts' review decisions as labelled training data (`qingyuan train --from-reviews`).

One example per reviewed post, its newest decision winning: confirmed -> lead_gen with the analyst's category (or
the model's, when the analyst kept it), dismissed -> benign. The text is the one the analyst saw when deciding, so
training data never drifts from the decision even if the post is re-crawled with different text later. The caller
gathers the decisions (from the casebook) and the model's categories (from the index); this module only decides
what becomes an example.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol


class Decision(Protocol):
    """An analyst's newest decision on a post (the casebook's Decision)."""

    @property
    def key(self) -> str: ...  # "{platform}:{post_id}"
    @property
    def decision(self) -> str: ...  # confirmed | dismissed
    @property
    def category(self) -> str | None: ...  # the analyst's category, None when they kept the model's
    @property
    def text(self) -> str: ...  # as the analyst saw it


def review_rows(decisions: Iterable[Decision]) -> list[dict[str, Any]]:
    """One labelled row per decision that has text (a decision made outside the console has none to learn from)."""
    rows = []
    for d in decisions:
        if not d.text.strip():
            continue
        confirmed = d.decision == "confirmed"
        rows.append(
            {
                "id": d.key,
                "text": d.text,
                "label": "lead_gen" if confirmed else "benign",
                "category": d.category if confirmed else None,
                "source": "review",
            }
        )
    return rows


def training_examples(
    rows: Iterable[Mapping[str, Any]], model_categories: Mapping[str, str | None], platforms: Collection[str]
) -> list[dict[str, Any]]:
    """Rows ready for --extra-train: a lead keeps the model's category when the analyst named none, and is dropped
    when there is none at all (it cannot train the category head); the platform comes from the key."""
    kept = []
    for row in rows:
        example = dict(row)
        if example["label"] == "lead_gen" and not example.get("category"):
            category = model_categories.get(example["id"])
            if not category:
                continue
            example["category"] = category
        platform = example["id"].split(":", 1)[0]
        kept.append({**example, "platform": platform if platform in platforms else "demo", "source": "review"})
    return kept


def write_jsonl(rows: Iterable[Mapping[str, Any]], path: Path) -> int:
    """Write rows atomically (a crash leaves the old file or the new one, never half); return how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    written = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            written += 1
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return written
