"""Quality and throughput of the classifier paths, side by side, in one run: lexicon, BERT torch, BERT onnxruntime
int8, the ensemble reading every post with the BERT, and the shipped ensemble with its cascade. Quality is F1 and
topic FPR on the authored dev set (texts by authors who wrote nothing in training). The paths take turns for a few
rounds on a crawl-like mix (everyday comments, authored texts, generated posts); prints the median posts/s, the range
and ratios. Then the whole process, `qingyuan classify` on --cli-n posts, start-up and I/O included. Timings on
shared cores drift, so nothing here is asserted.

    .venv/bin/python bench/bench_classify.py [--model classifiers/models/default] [--n 2000] [--threads 2] [--rounds 3]
        [--cli-n 20000] [--compare OTHER_MODEL_DIR ...]

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
    """A crawl-like mix: half everyday comments (COLD, when ../shared is there), a quarter authored texts of every
    register, a quarter generated posts; most of a crawl is everyday talk, which is what the cascade skips."""
    import random

    from classifiers.train.corpus import load_examples
    from classifiers.train.data import load_cold
    from classifiers.train.generate import generate

    rng = random.Random(seed)
    everyday = [ex.text for ex in load_cold(splits=("test",))]
    authored = [ex.text for ex in load_examples("train")]
    texts = rng.sample(everyday, min(n // 2, len(everyday)))
    texts += rng.sample(authored, min(n // 4, len(authored)))
    texts += [ex.text for ex in generate(n - len(texts), seed)]
    rng.shuffle(texts)
    return texts


def quality(paths: dict[str, Callable[[Sequence[ClassifyInput]], Any]]) -> None:
    """F1, precision, recall and topic FPR of each path on the authored dev set."""
    from classifiers.train.corpus import load_examples
    from classifiers.train.metrics import evaluate

    dev = load_examples("dev")
    if not dev:
        return
    items = [ClassifyInput(id=ex.id, text=ex.text) for ex in dev]
    print(f"quality on the authored dev set ({len(dev)} texts by authors who wrote nothing in training):")
    for name, fn in paths.items():
        verdicts = fn(items)
        rep = evaluate(dev, [v.label.value for v in verdicts], [v.score for v in verdicts])
        print(
            f"{name:<32} F1 {rep.f1:.3f}  precision {rep.precision:.3f}  recall {rep.recall:.3f}"
            f"  topic FPR {rep.topic_benign_fpr:.3f}",
            flush=True,
        )


def whole_process(model: Path, texts: Sequence[str]) -> None:
    """`qingyuan classify` end to end in its own process, as a user runs it."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        src.write_text(
            "".join(json.dumps({"id": str(i), "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts))
        )
        cli = Path(sys.executable).with_name("qingyuan")
        start = time.perf_counter()
        subprocess.run(
            [str(cli), "classify", "--input", str(src), "--output", str(dst)], check=True, capture_output=True
        )
        elapsed = time.perf_counter() - start
    mean = sum(map(len, texts)) / len(texts)
    print(
        f"whole process: qingyuan classify, {len(texts)} posts (mean {mean:.0f} chars): {len(texts) / elapsed:.0f} posts/s ({elapsed:.1f} s)"
    )


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
    ap.add_argument("--cli-n", type=int, default=20000, help="posts for the whole-process run (0 = skip it)")
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
    every_post = EnsembleClassifier.from_path(args.model, "onnx", **kw)
    every_post.skip_below = None
    paths["ensemble, BERT on every post"] = every_post.classify
    ensemble = EnsembleClassifier.from_path(args.model, "onnx", **kw)
    paths["ensemble with cascade (shipped)"] = ensemble.classify
    describe_lengths(args.model.name, ensemble.bert, texts)
    for other in args.compare:
        compared = EnsembleClassifier.from_path(other, "onnx", **kw)
        paths[f"ensemble of {other.name}"] = compared.classify
        describe_lengths(other.name, compared.bert, texts)
    quality(paths)
    rates = interleaved_rates(paths, items, args.rounds)
    print(f"posts/s over {args.rounds} rounds (median, then the range):")
    medians = {name: statistics.median(r) for name, r in rates.items()}
    for name, r in rates.items():
        print(f"{name:<32} {medians[name]:9.1f} posts/s   ({min(r):.1f}-{max(r):.1f})", flush=True)
    base = medians["bert torch fp32"]
    print("ratios of medians to bert torch fp32: " + ", ".join(f"{k} {v / base:.2f}x" for k, v in medians.items()))
    if args.cli_n:
        whole_process(args.model, sample_posts(args.cli_n, args.seed + 1))


if __name__ == "__main__":
    main()
