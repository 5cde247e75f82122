"""Soft targets from a character n-gram teacher, for distillation into the BERT.

On this task a bag of character n-grams generalises from the generator's posts to hand-written ones better than the
small encoder does (EXPERIMENTS.md): it adds up evidence ("征信" + "私聊" + a handle) where the encoder learns the
generator's whole phrasings. Training the BERT to match the teacher's probabilities as well as the labels passes
that additive behaviour on, and the encoder keeps what the bag of n-grams cannot see (order, negation, who speaks).

- `out_of_fold_scores`: the teacher's probability for each training post from a teacher that never saw it, so the
  soft target is an opinion rather than the post's own label echoed back.
- `spliced_posts`: a transfer set of new posts made of sentences from different training posts. Nobody labelled
  them; the teacher's probability is their only target. They show the student offers, warnings and chatter in
  combinations the generator's templates never put together.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

import numpy as np

FOLDS = 5
TEACHER = f"character 1-3-gram logistic regression on normalised text, {FOLDS}-fold out-of-fold"

# split after sentence-ending punctuation or a line break, keeping the punctuation with its sentence
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])")


def sentences(text: str) -> list[str]:
    return [s for s in (part.strip() for part in _SENTENCE_END.split(text)) if s]


def out_of_fold_scores(texts: Sequence[str], labels: Sequence[int], folds: int = FOLDS, seed: int = 13) -> np.ndarray:
    """P(lead_gen) for each text from an n-gram model fitted on the other folds."""
    from classifiers.ensemble import NgramModel

    if folds < 2:
        raise ValueError("out-of-fold scoring needs at least 2 folds")
    n = len(texts)
    order = np.random.default_rng(seed).permutation(n)
    scores = np.zeros(n, dtype=np.float64)
    y = np.asarray(labels, dtype=int)
    for k in range(folds):
        held = order[k::folds]
        keep = np.setdiff1d(order, held, assume_unique=True)
        model = NgramModel.fit([texts[i] for i in keep], y[keep].tolist(), seed=seed + k)
        scores[held] = model.predict([texts[i] for i in held])
    return scores


def spliced_posts(texts: Sequence[str], n: int, seed: int, max_chars: int = 400) -> list[str]:
    """n new posts, each 2-4 sentences drawn from different source posts, joined in random order."""
    rng = random.Random(seed)
    pools = [s for s in (sentences(t) for t in texts) if s]
    if len(pools) < 2:
        return []
    out: list[str] = []
    seen: set[str] = set(texts)
    attempts = 0
    while len(out) < n and attempts < n * 10:
        attempts += 1
        parts = [rng.choice(pool) for pool in rng.sample(pools, rng.randint(2, min(4, len(pools))))]
        post = "".join(parts)[:max_chars]
        if post not in seen:
            seen.add(post)
            out.append(post)
    return out


def teacher_targets(
    texts: Sequence[str],
    labels: Sequence[int],
    normalise: Callable[[str], str],
    n_transfer: int = 0,
    seed: int = 13,
    folds: int = FOLDS,
) -> tuple[np.ndarray, list[tuple[str, float]]]:
    """Out-of-fold teacher probabilities for the training posts, and `n_transfer` spliced posts with theirs.

    The teacher reads normalised text, as the n-gram member of the ensemble does; the transfer posts are returned
    as written (fine-tuning normalises what it reads).
    """
    from classifiers.ensemble import NgramModel

    clean = [normalise(t) for t in texts]
    soft = out_of_fold_scores(clean, labels, folds=folds, seed=seed)
    transfer: list[tuple[str, float]] = []
    if n_transfer > 0:
        spliced = spliced_posts(texts, n_transfer, seed + 1)
        teacher = NgramModel.fit(clean, [int(v) for v in labels], seed=seed)
        probs = teacher.predict([normalise(t) for t in spliced])
        transfer = [(t, float(p)) for t, p in zip(spliced, probs, strict=True)]
    return soft, transfer
