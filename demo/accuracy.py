"""How the classifier did on the demo site, whose content knows the truth about every post."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from demo.content import ocr_accuracy, truth


def demo_accuracy(get_many: Callable[[Sequence[str]], Sequence[Any]]) -> str:
    """One line: precision, recall, F1 and category accuracy of the indexed hits against the demo's ground truth.

    `get_many` is the store's lookup by keys (HitStore.get_many), so this module needs nothing of the index."""
    gold = truth()
    hits = {h.key: h for h in get_many(list(gold))}
    flagged = {k for k, h in hits.items() if h.verdict.is_hit}
    leads = {k for k, (label, _) in gold.items() if label == "lead_gen"}
    tp = len(flagged & leads)
    precision = tp / len(flagged) if flagged else 0.0
    recall = tp / len(leads) if leads else 0.0
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    right_category = sum(
        1 for k in flagged & leads if hits[k].verdict.category and hits[k].verdict.category.value == gold[k][1]
    )
    read = {k: h.post.ocr_text for k, h in hits.items() if h.post.image_text}
    return (
        f"against the demo's ground truth ({len(leads)} lead_gen of {len(gold)}): precision {precision:.3f}, "
        f"recall {recall:.3f}, F1 {f1:.3f}, category right on {right_category}/{tp} true hits\n" + ocr_accuracy(read)
    )
