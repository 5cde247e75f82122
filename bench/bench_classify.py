"""Throughput of the classifier paths on the same posts, in one run: lexicon, BERT torch, BERT onnxruntime int8,
and the shipped ensemble (onnx + lexicon). Prints posts/s and ratios; timings on shared cores drift, so nothing
here is asserted.

    .venv/bin/python bench/bench_classify.py [--model classifiers/models/default] [--n 2000] [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifiers.base import ClassifyInput

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "classifiers" / "models" / "default"


def sample_posts(n: int, seed: int) -> list[str]:
    """Generated posts of every kind (captions to long posts), so lengths look like a crawl's."""
    from classifiers.train.generate import generate

    return [ex.text for ex in generate(n, seed)]


def timed(name: str, fn: Callable[[Sequence[ClassifyInput]], object], items: Sequence[ClassifyInput]) -> float:
    fn(items[:64])  # warm-up: sessions, caches, lazy tables
    start = time.perf_counter()
    fn(items)
    rate = len(items) / (time.perf_counter() - start)
    print(f"{name:<32} {rate:9.1f} posts/s", flush=True)
    return rate


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    texts = sample_posts(args.n, args.seed)
    items = [ClassifyInput(id=str(i), text=t) for i, t in enumerate(texts)]
    print(f"{len(items)} posts, mean {sum(map(len, texts)) / len(texts):.0f} chars, {args.threads} threads")
    rates: dict[str, float] = {}
    try:
        from classifiers.lexicon_classifier import LexiconClassifier
    except ImportError:
        print("lexicon: classifiers.lexicon_classifier not available")
    else:
        rates["lexicon"] = timed("lexicon", LexiconClassifier().classify, items)

    from classifiers.bert import BertClassifier
    from classifiers.ensemble import EnsembleClassifier

    kw = {"threads": args.threads, "batch_size": args.batch_size}
    rates["bert torch fp32"] = timed(
        "bert torch fp32", BertClassifier.from_path(args.model, "torch", **kw).classify, items
    )
    rates["bert onnxruntime int8"] = timed(
        "bert onnxruntime int8", BertClassifier.from_path(args.model, "onnx", **kw).classify, items
    )
    rates["ensemble (onnx int8 + lexicon)"] = timed(
        "ensemble (onnx int8 + lexicon)", EnsembleClassifier.from_path(args.model, "onnx", **kw).classify, items
    )
    base = rates["bert torch fp32"]
    print("ratios to bert torch fp32: " + ", ".join(f"{k} {v / base:.2f}x" for k, v in rates.items()))


if __name__ == "__main__":
    main()
