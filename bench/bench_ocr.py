"""OCR throughput and accuracy on the demo site's image posts (their drawn text is the ground truth).

    .venv/bin/python bench/bench_ocr.py [--repeat 2]

Loads the PP-OCR models once (timed apart), then reads every demo image `--repeat` times. Prints images/s,
seconds per image, and the character accuracy (1 - edit distance / length, whitespace ignored) per image and
overall. Timings on shared cores drift 2-6x; the accuracy does not.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.ocr import _engine, char_accuracy, read_file
from demo.content import load_content

STATIC = Path(__file__).resolve().parents[1] / "demo" / "static"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    cases = [
        (STATIC / p["image"].removeprefix("/static/"), p["image_text"])
        for p in load_content()["posts"]
        if p.get("image")
    ]
    t0 = time.perf_counter()
    _engine()
    print(f"model load: {time.perf_counter() - t0:.2f}s")
    scores: list[float] = []
    expected_chars = 0
    errors = 0.0
    t0 = time.perf_counter()
    for _ in range(max(1, args.repeat)):
        scores.clear()
        for path, truth in cases:
            got = read_file(path).text
            acc = char_accuracy(truth, got)
            scores.append(acc)
            n = len("".join(truth.split()))
            expected_chars += n
            errors += (1 - acc) * n
    elapsed = time.perf_counter() - t0
    images = len(cases) * max(1, args.repeat)
    for (path, _), acc in zip(cases, scores, strict=True):
        print(f"{path.name}: {acc:.3f}")
    print(f"{images} images in {elapsed:.1f}s: {images / elapsed:.2f} images/s, {elapsed / images:.2f} s/image")
    print(
        f"character accuracy: {1 - errors / expected_chars:.4f} overall (chars), mean per image {sum(scores) / len(scores):.4f}"
    )


if __name__ == "__main__":
    main()
