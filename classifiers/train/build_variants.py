"""Build classifiers/data/variants.json: the homophone / near-glyph / split-character table the normaliser folds.

Reads, at build time only, the licensed data beside the checkout (never shipped whole):
  ../shared/data/confused_chinese/confused_chinese.json, chinese_3500.txt  (Macielyoung/Confused_Chinese, Apache-2.0)
  ../shared/data/cold/*.csv  (thu-coai/COLDataset, Apache-2.0) - everyday text, to block folds of real words
and jieba's bundled dictionary, pypinyin for pronunciations, and our own lexicon (classifiers/data/lexicon.json).
Only the characters of lexicon terms are kept, so the committed table is small and derived, not a copy.

Run: .venv/bin/python -m classifiers.train.build_variants [--shared PATH]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from pathlib import Path

from pypinyin import Style, pinyin

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "classifiers" / "data"
FOLD_KINDS = ("agency", "topic", "service", "finance")
MAX_TERM_LEN = 6
GLYPH_MIN_SIMILARITY = 0.95

# Split characters agencies write as their components (亻言 for 信). Hand-written; the first component is a radical
# that rarely stands alone, so the split never occurs by accident.
SPLITS: dict[str, list[str]] = {
    "信": ["亻言"],
    "债": ["亻责"],
    "贷": ["代贝"],
    "催": ["亻崔"],
    "借": ["亻昔"],
    "征": ["彳正"],
    "保": ["亻呆"],
    "代": ["亻弋"],
    "优": ["亻尤"],
    "停": ["亻亭"],
    "修": ["亻攸"],
    "洗": ["氵先"],
    "账": ["贝长"],
    "银": ["钅艮"],
    "诉": ["讠斥"],
    "维": ["纟隹"],
    "期": ["其月"],
    "额": ["客页"],
    "权": ["木又"],
    "投": ["扌殳"],
    "清": ["氵青"],
    "款": ["欵"],
    "逾": ["俞辶"],
    "还": ["不辶"],
    "钱": ["钅戋"],
    "协": ["十办"],
    "商": [],
    "收": ["丩攵"],
    "岸": ["山厈"],
    "减": ["冫咸"],
    "系": [],
}
# Spellings folded everywhere, even outside a finance context or when they are dictionary words: attested
# agency spellings (崔收, 征心) and old written forms (挂帐).
SPELLINGS = {
    "挂帐": "挂账",
    "停息挂帐": "停息挂账",
    "崔收": "催收",
    "摧收": "催收",
    "征心": "征信",
    "征芯": "征信",
    "蒸信": "征信",
    "腿保": "退保",
    "退宝": "退保",
    "网代": "网贷",
    "鱼期": "逾期",
    "尚岸": "上岸",
    "私芯": "私信",
    "背寨": "背债",
    "亻言用卡": "信用卡",
    "信用咔": "信用卡",
    "亻言": "信",
    "联糸": "联系",
}


def toneless(ch: str) -> set[str]:
    return {p for p in pinyin(ch, style=Style.NORMAL, heteronym=True)[0] if p.isalpha()}


def load_blocklist_text(shared: Path) -> tuple[set[str], str]:
    import jieba

    words = set()
    dict_path = Path(jieba.__file__).parent / "dict.txt"
    with dict_path.open(encoding="utf-8") as fh:
        for line in fh:
            w = line.split(" ", 1)[0]
            if len(w) >= 2:
                words.add(w)
    cold = []
    for name in ("train.csv", "dev.csv", "test.csv"):
        p = shared / "data" / "cold" / name
        if p.exists():
            with p.open(encoding="utf-8", errors="replace", newline="") as fh:
                for row in csv.DictReader(fh):
                    cold.append(row.get("TEXT") or "")
    return words, "\n".join(cold)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT / ".." / "shared")
    ap.add_argument("--out", type=Path, default=DATA / "variants.json")
    args = ap.parse_args(argv)
    cc_dir = args.shared / "data" / "confused_chinese"
    if not (cc_dir / "confused_chinese.json").exists():
        print(f"missing {cc_dir}/confused_chinese.json", file=sys.stderr)
        return 1
    confused = json.loads((cc_dir / "confused_chinese.json").read_text(encoding="utf-8"))
    common = [c for c in (cc_dir / "chinese_3500.txt").read_text(encoding="utf-8") if "\u4e00" <= c <= "\u9fff"]
    common_set = set(common)
    lex = json.loads((DATA / "lexicon.json").read_text(encoding="utf-8"))

    terms: list[str] = []
    for e in lex["entries"]:
        if e["kind"] not in FOLD_KINDS:
            continue
        for t in [e["term"], *e.get("variants", [])]:
            if 2 <= len(t) <= MAX_TERM_LEN and sum("\u4e00" <= c <= "\u9fff" for c in t) >= 2 and t not in terms:
                terms.append(t)
    long_chars = {c for t in terms if len(t) >= 3 for c in t}
    term_chars = sorted({c for t in terms for c in t if "\u4e00" <= c <= "\u9fff"})
    by_sound: dict[str, list[str]] = {}
    for c in common:
        for p in toneless(c):
            by_sound.setdefault(p, []).append(c)

    chars: dict[str, set[str]] = {}  # same-sound variant -> canonical chars
    glyphs: dict[str, set[str]] = {}  # near-glyph variant -> canonical chars (folded in terms of 3+ characters)
    for c in term_chars:
        sounds = toneless(c)
        cands: set[str] = set()
        entry = confused.get(c)
        if entry:
            for v in entry.get("same_pronunciation_chars", []):
                if toneless(v["char"]) & sounds:
                    cands.add(v["char"])
            if c in long_chars:
                for v in entry.get("similar_font_chars", []):
                    g = v["char"]
                    if v.get("similarity", 0) >= GLYPH_MIN_SIMILARITY and g != c and g in common_set:
                        glyphs.setdefault(g, set()).add(c)
        else:  # not in the 3,500 list: same sound among common characters, by pypinyin
            for p in sounds:
                cands.update(by_sound.get(p, []))
        for v in cands:
            if v != c and v in common_set:
                chars.setdefault(v, set()).add(c)

    words, cold_text = load_blocklist_text(args.shared)
    inner_bigrams = {w[k : k + 2] for w in words if len(w) >= 3 for k in range(len(w) - 1)}
    term_set = set(terms)
    blocked = set()
    n_forms = 0
    inverse: dict[str, list[str]] = {}
    for table, min_len in ((chars, 2), (glyphs, 3)):
        for v, cs in table.items():
            for c in cs:
                inverse.setdefault(c, []).append(v + str(min_len))
    for t in terms:
        for k, c in enumerate(t):
            for v in inverse.get(c, ()):
                if len(t) < int(v[1]):
                    continue
                form = t[:k] + v[0] + t[k + 1 :]
                n_forms += 1
                # a fold that is itself a word, or occurs in everyday text, would rewrite innocent posts
                if form in term_set or form in words or form in cold_text:
                    blocked.add(form)
                elif len(form) == 2 and form in inner_bigrams:
                    blocked.add(form)
    for form in SPELLINGS:
        blocked.discard(form)

    out = {
        "_provenance": (
            "Derived by classifiers/train/build_variants.py from Macielyoung/Confused_Chinese (Apache-2.0, "
            "same-sound and near-glyph characters, restricted to the characters of Qingyuan lexicon terms), "
            "pypinyin readings, and blocked against jieba's dictionary and COLDataset (Apache-2.0) text. "
            "Rebuild after editing lexicon.json."
        ),
        "lexicon_sha256": hashlib.sha256("\n".join(terms).encode()).hexdigest(),
        "terms": terms,
        "chars": {v: "".join(sorted(cs)) for v, cs in sorted(chars.items())},
        "glyphs": {v: "".join(sorted(cs)) for v, cs in sorted(glyphs.items())},
        "splits": {c: s for c, s in SPLITS.items() if s and c in set(term_chars)},
        "spellings": SPELLINGS,
        "blocked": sorted(blocked),
    }
    args.out.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(
        f"terms={len(terms)} chars={len(chars)} glyphs={len(glyphs)} forms={n_forms} blocked={len(blocked)} -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
