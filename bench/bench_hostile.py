"""Time against input size for the code that reads hostile text: the normaliser, and each platform parser on a
recorded response whose text is made long or whose result list is made long.

    .venv/bin/python bench/bench_hostile.py [--base 25000] [--rounds 3]

For sizes n, 2n, 4n, 8n it prints the best of `rounds` timings and the ratio to the size-n time: linear time shows
ratios near 1, 2, 4, 8 (a quadratic step would show 1, 4, 16, 64). Timings on shared cores drift; compare ratios.
The hostile texts repeat decorated, split and coded slang (征.信❤修复 zx 一三八 亻言) and lone surrogates.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifiers.normalise import normalise
from crawlers.extract import parse

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "platforms"
CHUNK = "征.信❤修复 zx一三八零零 亻言用卡\u200b停-息挂账 薇❶❷ ab\ud83d "
MULTIPLIERS = (1, 2, 4, 8)
# A recorded response per platform and the list that holds its posts (made long for the "items" series).
LISTS = {
    "douyin": ("search_general.json", ("data",)),
    "kuaishou": ("search_photo.json", ("data", "visionSearchPhoto", "feeds")),
    "weibo": ("search_getindex.json", ("data", "cards")),
    "bilibili": ("reply.json", ("data", "replies")),
    "zhihu": ("search_v3.json", ("data",)),
    "xiaohongshu": ("search_notes.json", ("data", "items")),
}


def best_of(rounds: int, work: Callable[[], Any]) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def series(label: str, rounds: int, make: Callable[[int], Callable[[], Any]]) -> None:
    make(1)()  # warm-up: imports and caches are not part of the figure
    base = best_of(rounds, make(1))
    cells = []
    for m in MULTIPLIERS:
        t = base if m == 1 else best_of(rounds, make(m))
        cells.append(f"{m}n {t * 1000:8.1f} ms ({t / base:4.1f}x)")
    print(f"{label:<34} " + "  ".join(cells), flush=True)


def _dig(doc: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def long_list_body(platform: str, items: int) -> str:
    name, path = LISTS[platform]
    doc = json.loads((FIXTURES / platform / name).read_text("utf-8"))
    holder = _dig(doc, path[:-1])
    seed = holder[path[-1]]
    grown = []
    for i in range(items):
        item = copy.deepcopy(seed[i % len(seed)])
        blob = json.dumps(item).replace(str(_first_id(item)), f"9{i:09d}") if _first_id(item) else json.dumps(item)
        grown.append(json.loads(blob))
    holder[path[-1]] = grown
    return json.dumps(doc)


def _first_id(item: Any) -> Any:
    for key in ("aweme_id", "id", "rpid", "mid", "photo_id"):
        if isinstance(item, dict) and key in item:
            return item[key]
    return None


def long_text_body(platform: str, chars: int) -> str:
    name, _ = LISTS[platform]
    body = (FIXTURES / platform / name).read_text("utf-8")
    doc = json.loads(body)
    text = (CHUNK * (chars // len(CHUNK) + 1))[:chars]
    return json.dumps(_stretch(doc, text))


TEXT_KEYS = {"desc", "text", "text_raw", "message", "content", "title", "caption", "excerpt", "display_title"}


def _stretch(node: Any, text: str) -> Any:
    """Every string under a text-like key (the post texts, titles and comments) becomes `text`."""
    if isinstance(node, dict):
        return {k: text if k in TEXT_KEYS and isinstance(v, str) else _stretch(v, text) for k, v in node.items()}
    if isinstance(node, list):
        return [_stretch(v, text) for v in node]
    return node


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", type=int, default=25_000, help="characters of the smallest hostile text")
    parser.add_argument("--items", type=int, default=200, help="posts in the smallest long-list response")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"hostile text n = {args.base:,} characters; long lists n = {args.items} posts; best of {args.rounds}")
    text = (CHUNK * (args.base * 8 // len(CHUNK) + 1))[: args.base * 8]

    def norm(m: int) -> Callable[[], Any]:
        sample = text[: args.base * m]
        return lambda: normalise(sample, finance_context=True)

    series("normalise", args.rounds, norm)
    for platform in LISTS:
        texts = {m: long_text_body(platform, args.base * m) for m in MULTIPLIERS}
        series(f"parse {platform} (long texts)", args.rounds, parsing(platform, texts))
        lists = {m: long_list_body(platform, args.items * m) for m in MULTIPLIERS}
        series(f"parse {platform} (long list)", args.rounds, parsing(platform, lists))


def parsing(platform: str, bodies: dict[int, str]) -> Callable[[int], Callable[[], Any]]:
    return lambda m: lambda: parse(platform, bodies[m])


if __name__ == "__main__":
    main()
