"""Throughput of the classifier paths on the same posts, in one run: lexicon, BERT torch, BERT onnxruntime int8,
and the shipped ensemble (onnx + lexicon). The paths take turns for a few rounds; prints the median posts/s, the range
and ratios. Timings on shared cores drift, so nothing here is asserted.

    .venv/bin/python bench/bench_classify.py [--model classifiers/models/default] [--n 2000] [--threads 2] [--rounds 3]
        [--compare OTHER_MODEL_DIR ...]

--compare adds the ensemble of another model folder (an older or candidate model) to the same rounds, so the two are
compared on the same posts under the same load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifiers.base import ClassifyInput
from classifiers.cpu import read_cpu

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "classifiers" / "models" / "default"


def sample_posts(n: int, seed: int) -> list[str]:
    """Generated posts of every kind (captions to long posts), so lengths look like a crawl's."""
    from classifiers.train.generate import generate

    return [ex.text for ex in generate(n, seed)]


def describe_lengths(name: str, bert: Any, texts: Sequence[str]) -> None:
    """Tokens the model reads per post: cost grows with them, and the model's cap decides how many."""
    seqs = bert.encoder.encode([bert.normalise(t) for t in texts])
    cap = bert.encoder.max_length
    at_cap = sum(len(s) >= cap for s in seqs) / len(seqs)
    n_layers = json.loads((bert.path / "config.json").read_text(encoding="utf-8")).get("num_hidden_layers")
    print(
        f"{name}: {n_layers} layers, cap {cap} tokens, mean {sum(map(len, seqs)) / len(seqs):.1f} tokens a post,"
        f" {at_cap:.0%} at the cap"
    )


def rate_once(fn: Callable[[Sequence[ClassifyInput]], object], items: Sequence[ClassifyInput]) -> float:
    start = time.perf_counter()
    fn(items)
    return len(items) / (time.perf_counter() - start)


def interleaved_rates(
    paths: dict[str, Callable[[Sequence[ClassifyInput]], object]], items: Sequence[ClassifyInput], rounds: int
) -> dict[str, list[float]]:
    """posts/s of every path, `rounds` times, the paths taking turns within each round: the load on these shared
    cores drifts within minutes, and taking turns spreads that drift over all paths instead of favouring one."""
    for fn in paths.values():
        fn(items[:64])  # warm-up: sessions, caches, lazy tables
    rates: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(rounds):
        for name, fn in paths.items():
            rates[name].append(rate_once(fn, items))
    return rates


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3, help="turns each path takes; the median is reported")
    ap.add_argument("--compare", type=Path, action="append", default=[], help="another model folder's ensemble")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    texts = sample_posts(args.n, args.seed)
    items = [ClassifyInput(id=str(i), text=t) for i, t in enumerate(texts)]
    print(f"{len(items)} posts, mean {sum(map(len, texts)) / len(texts):.0f} chars, {args.threads} threads")
    print(read_cpu())
    paths: dict[str, Callable[[Sequence[ClassifyInput]], object]] = {}
    try:
        from classifiers.lexicon_classifier import LexiconClassifier
    except ImportError:
        print("lexicon: classifiers.lexicon_classifier not available")
    else:
        paths["lexicon"] = LexiconClassifier().classify

    from classifiers.bert import BertClassifier
    from classifiers.ensemble import EnsembleClassifier

    kw = {"threads": args.threads, "batch_size": args.batch_size}
    paths["bert torch fp32"] = BertClassifier.from_path(args.model, "torch", **kw).classify
    paths["bert onnxruntime int8"] = BertClassifier.from_path(args.model, "onnx", **kw).classify
    ensemble = EnsembleClassifier.from_path(args.model, "onnx", **kw)
    paths["ensemble (onnx int8 + lexicon)"] = ensemble.classify
    describe_lengths(args.model.name, ensemble.bert, texts)
    for other in args.compare:
        compared = EnsembleClassifier.from_path(other, "onnx", **kw)
        paths[f"ensemble of {other.name}"] = compared.classify
        describe_lengths(other.name, compared.bert, texts)
    rates = interleaved_rates(paths, items, args.rounds)
    print(f"posts/s over {args.rounds} rounds (median, then the range):")
    medians = {name: statistics.median(r) for name, r in rates.items()}
    for name, r in rates.items():
        print(f"{name:<32} {medians[name]:9.1f} posts/s   ({min(r):.1f}-{max(r):.1f})", flush=True)
    base = medians["bert torch fp32"]
    print("ratios of medians to bert torch fp32: " + ", ".join(f"{k} {v / base:.2f}x" for k, v in medians.items()))


if __name__ == "__main__":
    main()
