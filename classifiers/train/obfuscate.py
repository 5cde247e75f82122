"""Obfuscation operators that imitate how agencies write in code to dodge keyword filters.

Each operator is a named function `(text, rng) -> text` that returns the text unchanged when it has nothing to
act on, so `apply_random` records only operators that really changed the post (Example.obfuscation).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

Operator = Callable[[str, random.Random], str]

# Terms agencies disguise; longest first so 停息挂账 is handled before 停息.
TARGET_TERMS: tuple[str, ...] = tuple(
    sorted(
        {
            "停息挂账",
            "个性化分期",
            "协商还款",
            "征信修复",
            "征信",
            "催收",
            "反催收",
            "退保",
            "代理退保",
            "投诉",
            "维权",
            "逾期",
            "信用卡",
            "网贷",
            "债务优化",
            "债务",
            "分期",
            "停息",
            "挂账",
            "上岸",
            "贷款",
            "下款",
            "黑户",
            "洗白",
            "背债",
            "病历",
            "流水",
            "负债",
            "减免",
            "利息",
            "还款",
            "银行",
            "花呗",
            "借呗",
            "白条",
            "通讯录",
            "爆通讯录",
            "保险",
            "律师",
            "法务",
            "口子",
            "额度",
            "包装",
            "协商",
        },
        key=lambda term: (-len(term), term),  # longest first; ties by text, not by set order (hash-seeded)
    )
)

PINYIN_INITIALS: dict[str, str] = {
    "停息挂账": "txgz",
    "个性化分期": "gxhfq",
    "协商还款": "xshk",
    "征信": "zx",
    "催收": "cs",
    "退保": "tb",
    "投诉": "ts",
    "逾期": "yq",
    "信用卡": "xyk",
    "网贷": "wd",
    "分期": "fq",
    "债务": "zw",
    "上岸": "sa",
    "贷款": "dk",
    "下款": "xk",
    "黑户": "hh",
    "洗白": "xb",
    "背债": "bz",
    "负债": "fz",
    "协商": "xs",
    "维权": "wq",
    "停息": "tx",
    "挂账": "gz",
    "花呗": "hb",
    "借呗": "jb",
    "银行": "yh",
    "保险": "bx",
    "利息": "lx",
    "减免": "jm",
    "修复": "xf",
    "通讯录": "txl",
    "口子": "kz",
}

# Fallback homophones (the confused_chinese data set widens this when present).
BUILTIN_HOMOPHONES: dict[str, str] = {
    "催": "崔",
    "征": "正",
    "信": "心",
    "息": "吸",
    "债": "寨",
    "贷": "代",
    "款": "宽",
    "保": "宝",
    "逾": "鱼",
    "期": "其",
    "收": "手",
    "停": "亭",
    "协": "鞋",
    "商": "伤",
    "账": "帐",
    "挂": "卦",
    "退": "腿",
    "诉": "素",
    "维": "唯",
    "权": "全",
    "网": "往",
    "务": "雾",
    "卡": "咖",
    "修": "休",
    "复": "付",
    "黑": "嘿",
    "洗": "喜",
    "岸": "按",
    "银": "吟",
    "额": "鹅",
    "利": "力",
    "微": "薇",
    "扣": "叩",
    "律": "绿",
    "负": "付",
    "还": "环",
}

# Left/right component spellings that survive a human reader but not a substring match.
SPLIT_CHARS: dict[str, str] = {
    "信": "亻言",
    "债": "亻责",
    "贷": "代贝",
    "保": "亻呆",
    "征": "彳正",
    "催": "亻崔",
    "钱": "钅戋",
    "维": "纟隹",
    "诉": "讠斥",
    "款": "士示欠",
    "加": "力口",
    "借": "亻昔",
    "期": "其月",
    "账": "贝长",
    "银": "钅艮",
    "停": "亻亭",
    "挂": "扌圭",
    "收": "丩攵",
    "理": "王里",
    "律": "彳聿",
    "师": "刂帀",
    "好": "女子",
    "微": "彳山攵",
    "退": "艮辶",
    "逾": "俞辶",
    "岸": "山厈",
    "网": "冂㐅㐅",
    "清": "氵青",
    "洗": "氵先",
    "帐": "巾长",
    "减": "冫咸",
    "投": "扌殳",
}

SYMBOLS: tuple[str, ...] = (".", "❤", "*", "丨", "/", "-", "~", "·", "💰", "✨", "🔥", "、", "_", "❀", "☆", " ")
ZERO_WIDTH: tuple[str, ...] = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")

CN_DIGITS = "零一二三四五六七八九"
CN_DIGITS_FORMAL = "零壹贰叁肆伍陆柒捌玖"
CIRCLED_DIGITS = "⓪①②③④⑤⑥⑦⑧⑨"

CONTACT_WORDS: dict[str, tuple[str, ...]] = {
    "微信": ("薇❤", "V❤", "➕v", "威信", "vx", "VX", "薇信", "卫星", "v信", "绿泡泡", "🛰", "溦"),
    "加微": ("➕薇", "+V", "➕V❤", "家薇", "+vx"),
    "QQ": ("扣扣", "企鹅", "Q❤Q", "qq号", "🐧"),
    "电话": ("电✆", "📞", "dianhua", "d话", "来电"),
    "私信": ("丝信", "私❤", "si信", "sx"),
    "联系": ("lian系", "联❤系", "联糸"),
}


CONFUSED_CHINESE = Path("data") / "confused_chinese" / "confused_chinese.json"

# Where the homophone operator reads confused_chinese.json: the shared folder beside the checkout unless training
# was pointed elsewhere (a recipe's shared_dir). It changes the generated training posts, so a run must not silently
# fall back to another folder's table, or to none, and give a different model from the same seed.
_homophone_file: Path | None = None


def use_shared_dir(shared_dir: Path) -> Path:
    """Read the homophone table from `shared_dir` from now on; returns the file (which may be missing)."""
    global _homophone_file
    _homophone_file = Path(shared_dir) / CONFUSED_CHINESE
    return _homophone_file


def homophone_file() -> Path:
    """The table file in use; the first call without use_shared_dir() settles on the shared folder beside the
    checkout (resolved once, not on every swap)."""
    global _homophone_file
    if _homophone_file is None:
        from classifiers.train.data import default_shared_dir

        _homophone_file = default_shared_dir() / CONFUSED_CHINESE
    return _homophone_file


@lru_cache(maxsize=4)
def _confused_table(path: str) -> dict[str, tuple[str, ...]]:
    """Same-pronunciation characters for each character: the built-in ones, widened by confused_chinese.json at
    `path` when that file exists."""
    table: dict[str, tuple[str, ...]] = {k: (v,) for k, v in BUILTIN_HOMOPHONES.items()}
    if Path(path).is_file():
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        for char, info in data.items():
            same = tuple(d["char"] for d in info.get("same_pronunciation_chars", []) if d.get("char") != char)
            if same:
                # keep the built-in choice first: it is the one agencies actually use
                table[char] = tuple(dict.fromkeys(table.get(char, ()) + same[:6]))
    return table


def homophone_table() -> dict[str, tuple[str, ...]]:
    """The table the homophone operator swaps from (read once per file)."""
    return _confused_table(str(homophone_file()))


def homophone_table_size() -> int:
    """How many characters the homophone operator can swap (recorded with each training run)."""
    return len(homophone_table())


def _term_positions(text: str) -> list[tuple[int, int]]:
    """Non-overlapping spans of TARGET_TERMS in text, longest term wins."""
    spans: list[tuple[int, int]] = []
    taken = [False] * len(text)
    for term in TARGET_TERMS:
        for m in re.finditer(re.escape(term), text):
            if not any(taken[m.start() : m.end()]):
                spans.append((m.start(), m.end()))
                for i in range(m.start(), m.end()):
                    taken[i] = True
    return sorted(spans)


def _rewrite_some_terms(text: str, rng: random.Random, fn: Callable[[str], str | None], share: float = 0.6) -> str:
    """Apply fn to a random subset (at least one) of the target-term spans."""
    spans = [s for s in _term_positions(text) if fn(text[s[0] : s[1]]) not in (None, text[s[0] : s[1]])]
    if not spans:
        return text
    chosen = {s for s in spans if rng.random() < share} or {rng.choice(spans)}
    out, last = [], 0
    for start, end in spans:
        if (start, end) in chosen:
            out.append(text[last:start])
            out.append(fn(text[start:end]) or text[start:end])
            last = end
    out.append(text[last:])
    return "".join(out)


def pinyin_initials(text: str, rng: random.Random) -> str:
    """征信→zx, 催收→cs, 退保→tb; sometimes upper-case (ZX) as agencies also write."""
    upper = rng.random() < 0.25

    def fn(term: str) -> str | None:
        code = PINYIN_INITIALS.get(term)
        if code is None:
            return None
        return code.upper() if upper else code

    return _rewrite_some_terms(text, rng, fn)


def homophones(text: str, rng: random.Random) -> str:
    """Swap one character of a term for a same-sound character (催收→崔收, 征信→征心)."""
    table = homophone_table()

    def fn(term: str) -> str | None:
        idx = [i for i, ch in enumerate(term) if ch in table]
        if not idx:
            return None
        i = rng.choice(idx)
        options = table[term[i]]
        # the built-in choice is the realistic one; the wider table adds variety
        repl = options[0] if rng.random() < 0.6 else rng.choice(options)
        return term[:i] + repl + term[i + 1 :]

    return _rewrite_some_terms(text, rng, fn)


def symbol_insert(text: str, rng: random.Random) -> str:
    """A symbol between the characters of a term: 征.信, 停❤息挂❤账."""
    sym = rng.choice(SYMBOLS)

    def fn(term: str) -> str | None:
        if len(term) < 2:
            return None
        return sym.join(term) if rng.random() < 0.5 else term[0] + sym + term[1:]

    return _rewrite_some_terms(text, rng, fn)


def zero_width(text: str, rng: random.Random) -> str:
    """Invisible characters inside terms (and a few elsewhere): the text looks identical, substrings break."""
    zw = rng.choice(ZERO_WIDTH)

    def fn(term: str) -> str | None:
        return zw.join(term) if len(term) >= 2 else None

    out = _rewrite_some_terms(text, rng, fn, share=0.8)
    if out == text and len(text) >= 2:  # nothing to target: sprinkle instead so the operator still does its job
        i = rng.randrange(1, len(text))
        out = text[:i] + zw + text[i:]
    return out


def traditional(text: str, rng: random.Random) -> str:
    """Simplified → traditional with OpenCC (征信→徵信, 债务→債務)."""
    return _s2t().convert(text)


@lru_cache(maxsize=1)
def _s2t():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("s2t")


def fullwidth(text: str, rng: random.Random) -> str:
    """ASCII letters and digits → full-width forms (V信 ｗｘ１２３)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


_DIGIT_RUN = re.compile(r"\d{5,}")


def digit_variants(text: str, rng: random.Random) -> str:
    """Phone/QQ numbers in Chinese, formal or circled digits, sometimes mixed with plain ones."""
    style = rng.choice((CN_DIGITS, CN_DIGITS_FORMAL, CIRCLED_DIGITS, "mixed"))

    def conv(m: re.Match[str]) -> str:
        out = []
        for c in m.group(0):
            table = rng.choice((CN_DIGITS, CIRCLED_DIGITS, "0123456789")) if style == "mixed" else style
            out.append(table[int(c)])
        if style == "mixed" and "".join(out) == m.group(0):
            out[0] = CN_DIGITS[int(m.group(0)[0])]
        return "".join(out)

    return _DIGIT_RUN.sub(conv, text)


def split_chars(text: str, rng: random.Random) -> str:
    """Write a character as its components (信→亻言, 债→亻责) inside target terms."""

    def fn(term: str) -> str | None:
        idx = [i for i, ch in enumerate(term) if ch in SPLIT_CHARS]
        if not idx:
            return None
        i = rng.choice(idx)
        return term[:i] + SPLIT_CHARS[term[i]] + term[i + 1 :]

    return _rewrite_some_terms(text, rng, fn)


def contact_decoration(text: str, rng: random.Random) -> str:
    """微信→薇❤/V❤/➕v, QQ→扣扣/企鹅: the forms that hide a contact channel from a word filter."""
    out = text
    for word, forms in CONTACT_WORDS.items():
        if word in out:
            out = out.replace(word, rng.choice(forms))
    if out == text:
        # bare handles like "V: abc123" get a decoration too
        out2 = re.sub(
            r"(?<![A-Za-z])[Vv](?=\s*[:：]?\s*[A-Za-z0-9])", lambda m: rng.choice(("V❤", "➕v", "薇")), text, count=1
        )
        out = out2
    return out


OPERATORS: dict[str, Operator] = {
    "pinyin_initials": pinyin_initials,
    "homophones": homophones,
    "symbol_insert": symbol_insert,
    "zero_width": zero_width,
    "traditional": traditional,
    "fullwidth": fullwidth,
    "digit_variants": digit_variants,
    "split_chars": split_chars,
    "contact_decoration": contact_decoration,
}

# How likely each operator is picked when a post is obfuscated (agencies use some far more than others).
WEIGHTS: dict[str, float] = {
    "pinyin_initials": 1.0,
    "homophones": 1.0,
    "symbol_insert": 1.0,
    "zero_width": 0.5,
    "traditional": 0.4,
    "fullwidth": 0.4,
    "digit_variants": 0.6,
    "split_chars": 0.5,
    "contact_decoration": 1.0,
}


def apply(text: str, names: list[str] | tuple[str, ...], rng: random.Random) -> tuple[str, tuple[str, ...]]:
    """Apply the named operators in order; return the text and the names that changed it."""
    applied: list[str] = []
    for name in names:
        new = OPERATORS[name](text, rng)
        if new != text:
            applied.append(name)
            text = new
    return text, tuple(applied)


def apply_random(
    text: str, rng: random.Random, n_min: int = 1, n_max: int = 3, exclude: tuple[str, ...] = ()
) -> tuple[str, tuple[str, ...]]:
    """Pick n_min..n_max distinct operators by weight and apply them; traditional/fullwidth run last."""
    names = [n for n in OPERATORS if n not in exclude]
    k = rng.randint(n_min, min(n_max, len(names)))
    chosen: list[str] = []
    pool = list(names)
    while pool and len(chosen) < k:
        pick = rng.choices(pool, weights=[WEIGHTS[n] for n in pool])[0]
        chosen.append(pick)
        pool.remove(pick)
    # whole-text conversions last so term-level operators still find simplified terms
    chosen.sort(key=lambda n: n in ("traditional", "fullwidth"))
    return apply(text, chosen, rng)
