"""Where the ensemble's cascade may skip the BERT (classifiers/ensemble.py, `skip_below`).

A post is skipped when the cheap members' mean logit is below the cut, and the n-gram member's probability stands in
for the BERT's; a skipped post that the stand-in pushes over the threshold is read after all. So the BERT can only
change a decision the other way: a post it flags that the stand-in does not. The cut sits a margin below the lowest
cheap logit of any such post among the selection and dev posts, so on them the cascade changes no decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

CASCADE_MARGIN = 1.0  # logits below the lowest must-read post; wider = fewer posts skipped, safer on new text


def choose_skip_below(
    cheap: Sequence[float], must_read: Sequence[bool], margin: float = CASCADE_MARGIN
) -> float | None:
    """The cut, or None (cascade off) when no post must be read."""
    values = [float(c) for c, m in zip(cheap, must_read, strict=True) if m]
    return min(values) - margin if values else None


def decided_by_bert(ensemble: Any, texts: Sequence[str], threshold: float) -> list[bool]:
    """Per text: the full ensemble flags it and the ensemble with the stand-in everywhere does not."""
    saved = ensemble.skip_below
    try:
        ensemble.skip_below = None
        full = ensemble.scores(texts)[0]
        ensemble.skip_below = float("inf")
        stand_in = ensemble.scores(texts)[0]
    finally:
        ensemble.skip_below = saved
    return [bool(f >= threshold and s < threshold) for f, s in zip(full, stand_in, strict=True)]


def describe(cheap: Sequence[float], skip_below: float | None) -> dict[str, Any]:
    """The share of posts the cut skips, for metrics.json and the bench."""
    if skip_below is None or not len(cheap):
        return {"skip_below": skip_below, "skipped_share": 0.0}
    return {"skip_below": skip_below, "skipped_share": float(np.mean(np.asarray(cheap) < skip_below))}
