"""Undo the spellings agencies use to dodge filters, keeping a map from every output character to the original.

Operators, in order (each can be seen in `Normalised.ops`):
  width/nfkc   NFKC per character (full-width, circled and math digits, compatibility forms), lower-case Latin
  invisible    zero-width, control, format, combining and private-use characters dropped
  t2s          traditional -> simplified Chinese, per character, with OpenCC's t2s table
  separator    punctuation, symbols, emoji and spaces between Han characters dropped (征.信, 停❤息, 征 信);
               sentence punctuation (, ! ? ; : 。 、 newline) is kept so words do not fuse across clauses
  digits       runs of three or more Chinese numerals become ASCII digits (一三八 -> 138)
  fold/split   homophone, near-glyph and split-character spellings folded, but only where the result is a
               lexicon term (崔收 -> 催收, 征心 -> 征信, 亻言用卡 -> 信用卡); table in data/variants.json
  pinyin       pinyin initials expanded (zx -> 征信, cs -> 催收) only in a finance context

The normaliser never raises: any str (lone surrogates, huge inputs, broken decodes) gives a result whose offsets
all lie inside the original.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
LEXICON_PATH = DATA_DIR / "lexicon.json"
VARIANTS_PATH = DATA_DIR / "variants.json"

# Han ideographs, radicals (亻 is in the main block) and the supplementary planes.
HAN = "\u2e80-\u2fdf\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RE = re.compile(f"[{HAN}]")
# A run of junk between two word characters; sentence punctuation and newlines are boundaries and never dropped.
_SEP_RUN_RE = re.compile(rf"(?<=[{HAN}a-z0-9])(?:[^\w\n,!?;:。、]|_){{1,4}}(?=[{HAN}a-z0-9])")
_CN_DIGITS = "零〇一二三四五六七八九幺壹贰叁肆伍陆柒捌玖"
_CN_DIGIT_MAP = str.maketrans(_CN_DIGITS, "001234567891123456789")
_DIGIT_RUN_RE = re.compile(f"[0-9{_CN_DIGITS}]{{3,}}")
_LATIN_RUN_RE = re.compile(r"[a-z]+")

# Digits NFKC leaves alone: dingbat negative / sans-serif circled digits, and the plus emoji used in "➕V".
_EXTRA = {chr(0x2776 + i): str(i + 1) for i in range(9)} | {chr(0x2780 + i): str(i + 1) for i in range(9)}
_EXTRA |= {chr(0x278A + i): str(i + 1) for i in range(9)}
_EXTRA |= {"\u277f": "10", "\u2789": "10", "\u2793": "10", "\u24ea": "0", "\u24ff": "0", "\u2795": "+"}

# op flags, reported in Normalised.ops
OP_NFKC, OP_INVISIBLE, OP_T2S = "nfkc", "invisible", "t2s"
OP_SEPARATOR, OP_DIGITS, OP_FOLD, OP_SPLIT, OP_PINYIN = "separator", "digits", "fold", "split", "pinyin"
_F_NFKC, _F_INVISIBLE, _F_T2S = 1, 2, 4

MAX_CACHE = 200_000


@dataclass(frozen=True, slots=True)
class Normalised:
    """Normalised text plus, for each of its characters, the [start, end) span it came from in `original`."""

    text: str
    original: str
    starts: array
    ends: array
    finance_context: bool = False
    ops: frozenset[str] = field(default_factory=frozenset)

    @property
    def offsets(self) -> list[tuple[int, int]]:
        return list(zip(self.starts, self.ends, strict=True))

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the span text[start:end] to a span of `original`; out-of-range input is clamped, never raises."""
        n = len(self.text)
        start = min(max(start, 0), n)
        end = min(max(end, start), n)
        if start < end:
            return self.starts[start], max(self.ends[k] for k in range(start, end))
        pos = self.starts[start] if start < n else len(self.original)
        return pos, pos


@lru_cache(maxsize=1)
def _opencc():  # type: ignore[no-untyped-def]
    import opencc  # opencc-python-reimplemented; imported lazily, only needed for Han characters

    return opencc.OpenCC("t2s")


_t2s_lock = threading.Lock()


def _char_rule(c: str) -> tuple[str, int]:
    """What one original character becomes, and which operators that took. Cached per distinct character."""
    if c == "\n" or c == "\r":
        return "\n", 0
    cat = unicodedata.category(c)
    if cat == "Zs" or c in "\t\x0b\x0c":
        return " ", 0
    if cat[0] == "C" or cat in ("Mn", "Me"):
        return "", _F_INVISIBLE
    flags = 0
    s = _EXTRA.get(c)
    if s is None:
        s = unicodedata.normalize("NFKC", c)
    if s != c:
        flags |= _F_NFKC
    out = []
    for ch in s:
        if _HAN_RE.match(ch):
            with _t2s_lock:
                simp = _opencc().convert(ch)
            if simp and simp != ch:
                flags |= _F_T2S
                ch = simp[0]
        low = ch.lower()
        for lc in low:
            lcat = unicodedata.category(lc)
            if lcat[0] == "C" or lcat in ("Mn", "Me"):
                continue
            out.append(lc)
    return "".join(out), flags


_CHAR_CACHE: dict[str, tuple[str, int]] = {}


class _Trie:
    """A dict-of-dicts trie with longest-match lookup; values are stored under the key None."""

    __slots__ = ("root",)

    def __init__(self) -> None:
        self.root: dict = {}

    def add(self, key: str, value: object) -> None:
        node = self.root
        for ch in key:
            node = node.setdefault(ch, {})
        node[None] = value

    def longest(self, s: str, i: int) -> tuple[int, object] | None:
        node = self.root.get(s[i])
        if node is None:
            return None
        best = None
        j = i + 1
        n = len(s)
        while True:
            if None in node:
                best = (j, node[None])
            if j >= n:
                break
            node = node.get(s[j])
            if node is None:
                break
            j += 1
        return best


@dataclass(frozen=True)
class RewriteTables:
    """Everything the normaliser knows about the lexicon: fold forms, finance words, pinyin initials."""

    folds: dict[str, str]  # variant spelling -> canonical (same or different length)
    fold_kinds: dict[str, str]  # variant spelling -> OP_FOLD | OP_SPLIT
    finance_words: frozenset[str]  # words that make a text finance context
    abbreviations: dict[str, str]  # pinyin initials -> canonical
    abbreviations_after: dict[str, dict[str, str]]  # abbreviation -> {preceding text: expansion}
    always: frozenset[str] = frozenset()  # attested spellings folded even outside a finance context


def _lexicon_strings(lex: dict, kinds: Iterable[str]) -> list[str]:
    wanted = set(kinds)
    out = []
    for entry in lex["entries"]:
        if entry["kind"] in wanted:
            out.append(entry["term"])
            out.extend(entry.get("variants", []))
    return out


def load_tables(lexicon_path: Path = LEXICON_PATH, variants_path: Path = VARIANTS_PATH) -> RewriteTables:
    lex = json.loads(lexicon_path.read_text(encoding="utf-8"))
    folds: dict[str, str] = {}
    fold_kinds: dict[str, str] = {}
    always: set[str] = set()
    if variants_path.exists():
        var = json.loads(variants_path.read_text(encoding="utf-8"))
        splits: dict[str, list[str]] = var.get("splits", {})
        blocked = set(var.get("blocked", []))
        inverse: dict[str, list[tuple[str, int]]] = {}  # canonical char -> (variant char, min term length)
        for key, min_len in (("chars", 2), ("glyphs", 3)):
            for variant, canon_chars in var.get(key, {}).items():
                for cc in canon_chars:
                    inverse.setdefault(cc, []).append((variant, min_len))
        for term in var.get("terms", []):
            for k, cc in enumerate(term):
                for variant, min_len in inverse.get(cc, ()):
                    form = term[:k] + variant + term[k + 1 :]
                    if len(term) >= min_len and form != term and form not in blocked:
                        folds.setdefault(form, term)
                        fold_kinds.setdefault(form, OP_FOLD)
                for split in splits.get(cc, ()):
                    form = term[:k] + split + term[k + 1 :]
                    folds.setdefault(form, term)
                    fold_kinds.setdefault(form, OP_SPLIT)
        for form, term in var.get("spellings", {}).items():
            folds[form] = term
            fold_kinds[form] = OP_FOLD if len(form) == len(term) else OP_SPLIT
            always.add(form)
    finance = frozenset(
        w for w in _lexicon_strings(lex, ("agency", "topic", "finance")) if _HAN_RE.search(w)
    ) | frozenset("贷债欠催逾")
    return RewriteTables(
        folds=folds,
        fold_kinds=fold_kinds,
        finance_words=finance,
        abbreviations=dict(lex.get("abbreviations", {})),
        abbreviations_after={k: dict(v) for k, v in lex.get("abbreviations_after", {}).items()},
        always=frozenset(always),
    )


class Normaliser:
    """Holds the compiled tables; `normalise` below uses one shared default instance."""

    def __init__(self, tables: RewriteTables | None = None) -> None:
        self.tables = tables or load_tables()
        self._trie = _Trie()
        # identity entries first so a real term is never rewritten into another; then folds
        for w in self.tables.finance_words:
            self._trie.add(w, (None, True))
        for form, canon in self.tables.folds.items():
            self._trie.add(form, (canon, canon in self.tables.finance_words))
        self._fin_chars = frozenset(w for w in self.tables.finance_words if len(w) == 1)
        self._longer: dict[str, list[str]] = {}

    def normalise(self, text: str, *, finance_context: bool | None = None) -> Normalised:
        try:
            return self._normalise(text, finance_context)
        except Exception:  # hostile input must never stop a crawl; fall back to identity
            text = text if isinstance(text, str) else str(text)
            n = len(text)
            return Normalised(text, text, array("q", range(n)), array("q", range(1, n + 1)), bool(finance_context))

    def _normalise(self, text: str, finance_context: bool | None) -> Normalised:
        if not isinstance(text, str):
            text = str(text)
        ops: set[str] = set()
        # 1. per-character rules
        cache = _CHAR_CACHE
        if len(cache) > MAX_CACHE:
            cache.clear()
        chars: list[str] = []
        src: list[int] = []
        flags = 0
        for i, c in enumerate(text):
            rule = cache.get(c)
            if rule is None:
                rule = cache[c] = _char_rule(c)
            out, f = rule
            flags |= f
            if len(out) == 1:
                chars.append(out)
                src.append(i)
            elif out:
                for ch in out:
                    chars.append(ch)
                    src.append(i)
        if flags & _F_NFKC:
            ops.add(OP_NFKC)
        if flags & _F_INVISIBLE:
            ops.add(OP_INVISIBLE)
        if flags & _F_T2S:
            ops.add(OP_T2S)
        s = "".join(chars)
        starts = src
        ends = [k + 1 for k in src]

        # 2. junk between Han characters
        s, starts, ends, dropped = _drop_separators(s, starts, ends)
        if dropped:
            ops.add(OP_SEPARATOR)

        # 3. Chinese numerals forming a number
        if any(c in s for c in _CN_DIGITS):
            pieces = []
            prev = 0
            for m in _DIGIT_RUN_RE.finditer(s):
                run = m.group()
                if sum(1 for c in run if not c.isascii()) < 3:  # 12345一起 is not a number; 1三8零零 is
                    continue
                pieces.append(s[prev : m.start()])
                pieces.append(run.translate(_CN_DIGIT_MAP))
                prev = m.end()
            if pieces:
                pieces.append(s[prev:])
                s = "".join(pieces)
                ops.add(OP_DIGITS)

        # 4. folds that land on lexicon terms; also notices finance words
        trie = self._trie
        rewrites: list[tuple[int, int, str]] = []
        short: list[tuple[int, int, str]] = []  # two-character folds wait for a finance context
        finance_seen = not self._fin_chars.isdisjoint(s)
        root = trie.root
        i, n = 0, len(s)
        while i < n:
            if s[i] not in root:
                i += 1
                continue
            hit = trie.longest(s, i)
            if hit is None:
                i += 1
                continue
            j = hit[0]
            canon: str | None = hit[1][0]  # type: ignore[index]
            is_fin: bool = hit[1][1]  # type: ignore[index]
            if canon is not None and canon != s[i:j]:
                if self._exact_overlaps(s, i, j):  # 被债务: keep the real word 债务, do not fold 被债 -> 背债
                    i += 1
                    continue
                form = s[i:j]
                is_short = len(canon) <= 2 and j - i <= 2 and form not in self.tables.always
                (short if is_short else rewrites).append((i, j, canon))
                ops.add(self.tables.fold_kinds.get(s[i:j], OP_FOLD))
            if is_fin and not (canon is not None and len(canon) <= 2):
                finance_seen = True
            i = j
        if short and (finance_context or (finance_context is None and finance_seen)):
            rewrites = sorted(rewrites + short)
        elif short and not rewrites:
            ops.discard(OP_FOLD)
        if rewrites:
            s, starts, ends = _apply(s, starts, ends, rewrites)

        # 5. pinyin initials, only in a finance context (or where the expansion itself completes a lexicon word)
        abbr = self.tables.abbreviations
        in_context = finance_context
        if abbr and in_context is not False and any("a" <= c <= "z" for c in s):
            runs = []
            for m in _LATIN_RUN_RE.finditer(s):
                exp = self._expand(m.group())
                if exp is not None:
                    runs.append((m.start(), m.end(), exp))
            if in_context is None:
                distinct = {s[a:b] for a, b, _ in runs}
                in_context = finance_seen or len(distinct) >= 2
                if not in_context:  # three or more initials (xyk, gxhfq) are distinctive enough on their own
                    runs = [r for r in runs if r[1] - r[0] >= 3 or self._completes_word(s, *r)]
            if runs:
                rw = []
                for a, b, exp in runs:
                    # "gz" after 停息 is 挂账, elsewhere 关注
                    for before, alt in self.tables.abbreviations_after.get(s[a:b], {}).items():
                        if s[max(0, a - 8) : a].rstrip(" ").endswith(before) or _ends_with_abbr(s, a, abbr, before):
                            exp = alt
                    rw.append((a, b, exp))
                s, starts, ends = _apply(s, starts, ends, rw, per_char=False)
                s, starts, ends, _ = _drop_separators(s, starts, ends)
                ops.add(OP_PINYIN)
                in_context = True
        elif in_context is None:
            in_context = finance_seen
        return Normalised(s, text, array("q", starts), array("q", ends), bool(in_context), frozenset(ops))

    def _exact_overlaps(self, s: str, i: int, j: int) -> bool:
        for k in range(i + 1, j):
            hit = self._trie.longest(s, k)
            if hit is not None and hit[0] > j and hit[1][0] is None:  # type: ignore[index]
                return True
        return False

    def _completes_word(self, s: str, a: int, b: int, exp: str) -> bool:
        """Outside a finance context, expand only when the expansion joins its neighbours into a finance word."""
        window = s[max(0, a - 6) : a] + exp + s[b : b + 6]
        return any(w in window for w in self._longer_words(exp))

    def _longer_words(self, exp: str) -> list[str]:
        cached = self._longer.get(exp)
        if cached is None:
            cached = self._longer[exp] = [w for w in self.tables.finance_words if exp in w and len(w) > len(exp)]
        return cached

    def _expand(self, run: str) -> str | None:
        abbr = self.tables.abbreviations
        if run in abbr:
            return abbr[run]
        if 4 <= len(run) <= 8:  # two initials written together: zxcs, txgz already listed
            for k in range(2, len(run) - 1):
                a, b = run[:k], run[k:]
                if a in abbr and b in abbr:
                    return abbr[a] + abbr[b]
        return None


def _drop_separators(s: str, starts: list[int], ends: list[int]) -> tuple[str, list[int], list[int], bool]:
    drop = [
        (m.start(), m.end())
        for m in _SEP_RUN_RE.finditer(s)
        if _HAN_RE.match(s[m.start() - 1]) or _HAN_RE.match(s[m.end()])
    ]
    if not drop:
        return s, starts, ends, False
    keep: list[str] = []
    st: list[int] = []
    en: list[int] = []
    prev = 0
    for a, b in drop:
        keep.append(s[prev:a])
        st.extend(starts[prev:a])
        en.extend(ends[prev:a])
        prev = b
    keep.append(s[prev:])
    st.extend(starts[prev:])
    en.extend(ends[prev:])
    return "".join(keep), st, en, True


def _ends_with_abbr(s: str, a: int, abbr: dict[str, str], before: str) -> bool:
    """True when the Latin run just before position a (spaces allowed) expands to `before` (tx gz -> 停息挂账)."""
    k = a
    while k > 0 and s[k - 1] == " ":
        k -= 1
    j = k
    while j > 0 and "a" <= s[j - 1] <= "z":
        j -= 1
    return j < k and abbr.get(s[j:k]) == before


def _apply(
    s: str, starts: list[int], ends: list[int], rewrites: list[tuple[int, int, str]], per_char: bool = True
) -> tuple[str, list[int], list[int]]:
    """Replace s[a:b] by rep for each sorted, non-overlapping rewrite, keeping spans."""
    parts: list[str] = []
    st: list[int] = []
    en: list[int] = []
    prev = 0
    for a, b, rep in rewrites:
        parts.append(s[prev:a])
        st.extend(starts[prev:a])
        en.extend(ends[prev:a])
        parts.append(rep)
        if per_char and len(rep) == b - a:  # same length: keep the per-character map
            st.extend(starts[a:b])
            en.extend(ends[a:b])
        else:  # shared prefix/suffix keep their own spans; the changed middle stands for the whole middle span
            form = s[a:b]
            p = 0
            if per_char:
                while p < min(len(rep), len(form)) - 1 and rep[p] == form[p]:
                    p += 1
            q = 0
            if per_char:
                while q < min(len(rep), len(form)) - p - 1 and rep[-1 - q] == form[-1 - q]:
                    q += 1
            st.extend(starts[a : a + p])
            en.extend(ends[a : a + p])
            lo, hi = starts[a + p], max(ends[a + p : b - q])
            st.extend([lo] * (len(rep) - p - q))
            en.extend([hi] * (len(rep) - p - q))
            st.extend(starts[b - q : b])
            en.extend(ends[b - q : b])
        prev = b
    parts.append(s[prev:])
    st.extend(starts[prev:])
    en.extend(ends[prev:])
    return "".join(parts), st, en


_default: Normaliser | None = None
_default_lock = threading.Lock()


def default_normaliser() -> Normaliser:
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Normaliser()
    return _default


def normalise(text: str, *, finance_context: bool | None = None) -> Normalised:
    """Normalise `text` with the default tables. finance_context=None detects it from finance words in the text."""
    return default_normaliser().normalise(text, finance_context=finance_context)
