"""Helpers shared by the tests that build a tiny BERT from a config (no weights can be downloaded here)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def save_tiny_base(path: Path, corpus: Sequence[str], layers: int = 1) -> Any:
    """A 32-wide BertModel of `layers` layers with a character vocabulary of `corpus`, saved as a --base-model
    folder; returns its tokenizer."""
    import transformers

    from classifiers.train.vocab import build_vocab, make_tokenizer

    tokens = build_vocab(list(corpus))
    config = transformers.BertConfig(
        vocab_size=len(tokens),
        hidden_size=32,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    transformers.BertModel(config).save_pretrained(path)
    tokenizer = make_tokenizer(tokens)
    tokenizer.save_pretrained(path)
    return tokenizer


def count_rows(clf: Any) -> list[int]:
    """Wrap `clf.runner` so that each call appends its batch's row count to the returned list."""
    rows_run: list[int] = []
    runner: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] = clf.runner

    def counting(ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows_run.append(len(ids))
        return runner(ids, mask)

    clf.runner = counting
    return rows_run
