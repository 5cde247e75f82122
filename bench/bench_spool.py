"""What a crawl pays at start to learn which posts the spool already holds, for a spool of N posts.

    .venv/bin/python bench/bench_spool.py --n 100000

Three ways, timed in one run on the same spool: parsing every post and fingerprinting it (how the crawl pipeline
worked before the index files), reading the index files (what it does now), and indexing a spool that has none yet
(once, for a spool an older version wrote). Prints posts/s, peak Python memory (tracemalloc) and the ratios to the
full parse; timings on shared cores drift, so compare the ratios.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.records import Platform, Post
from core.spool import INDEX_SUFFIX, Spool, content_fingerprint

WORDS = [
    "停息挂账",
    "征信修复",
    "协商还款",
    "逾期",
    "上岸",
    "私信",
    "评论区扣1",
    "今天",
    "分享",
    "银行",
    "客服",
    "经验",
]


def make_posts(n: int, seed: int) -> list[Post]:
    rng = random.Random(seed)
    platforms = [p for p in Platform if p is not Platform("demo")]
    return [
        Post(
            platform=rng.choice(platforms),
            post_id=str(i),
            text="，".join(rng.choices(WORDS, k=rng.randint(8, 40))),
            author_id=f"u{rng.randint(1, n // 10 + 1)}",
        )
        for i in range(n)
    ]


def measure(fn: Callable[[], dict[str, Any]]) -> tuple[float, float, int]:
    tracemalloc.start()
    start = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak / 1e6, len(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spool = Spool(Path(tmp))
        posts = make_posts(args.n, args.seed)
        for i in range(0, len(posts), 5000):  # several crawl jobs' files, as a real spool has
            spool.append(posts[i : i + 5000], job=f"job{i // 50_000}")
        size = sum(p.stat().st_size for p in spool.files()) / 1e6
        print(f"spool: {args.n} posts in {len(spool.files())} files, {size:.1f} MB")

        ways: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("parse every post", lambda: {p.key: content_fingerprint(p) for p in spool}),
            ("read the index", spool.fingerprints),
        ]
        results = {name: measure(fn) for name, fn in ways}
        for path in spool.files():
            path.with_suffix(INDEX_SUFFIX).unlink()
        results["index an unindexed spool"] = measure(spool.fingerprints)

        base_s, base_mb, _ = results["parse every post"]
        print("| way | keys | seconds | posts/s | peak MB | time vs parse | memory vs parse |")
        print("|---|---|---|---|---|---|---|")
        for name, (secs, mb, keys) in results.items():
            print(
                f"| {name} | {keys} | {secs:.2f} | {args.n / secs:,.0f} | {mb:.1f} | {secs / base_s:.3f} |"
                f" {mb / base_mb:.3f} |"
            )


if __name__ == "__main__":
    main()
