"""Chinese text to index tokens: jieba words (search mode to index, precise mode to query) and per-character tokens.

Both backends receive the tokens produced here (joined by spaces, analysed by a whitespace analyzer), so the
embedded index and Elasticsearch see exactly the same terms for the same text.

- `index_words`: jieba `cut_for_search`, so 征信修复 is indexed as 征信, 修复 and 征信修复 and a query for 征信 finds it.
- `query_words`: jieba precise mode, so a query is not split into overlapping pieces that would all be required.
- `char_tokens`: one token per Han character, runs of letters/digits as one token (what ES's standard analyzer
  produces), for exact phrases through positions.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

log = logging.getLogger(__name__)

# Used when classifiers.lexicon is not available: the agency terms jieba must keep whole.
BUILTIN_TERMS: tuple[str, ...] = (
    "征信修复",
    "征信洗白",
    "征信异议",
    "停息挂账",
    "个性化分期",
    "反催收",
    "防爆通讯录",
    "债务优化",
    "债务重组",
    "协商还款",
    "协商代办",
    "代理退保",
    "代理维权",
    "代理投诉",
    "职业背债",
    "白户包装",
    "黑户可下",
    "网贷逾期",
    "信用卡逾期",
    "延期还款",
    "减免利息",
    "上岸",
    "洗白",
    "逾期",
    "催收",
    "退保",
    "背债",
    "空放",
    "下款",
)

# Bump when the token rules below change: stored indexes then report that they need a rebuild.
SEGMENTER_VERSION = 1
# Longest token we keep: ES's whitespace/standard tokenizers split above 255 chars, and such tokens are junk.
MAX_TOKEN_LEN = 64
# Text beyond this is stored but not segmented: crawled text can be arbitrarily large.
MAX_SEGMENT_CHARS = 100_000

_lock = threading.Lock()
_NON_WORD = re.compile(r"[^\w]+")


def _lexicon_terms() -> list[str]:
    """Terms (and their written variants) from classifiers.lexicon when it exists.

    indexer may import classifiers, never crawlers; imported lazily so the index works without it.
    """
    try:
        from classifiers.lexicon import Lexicon
    except Exception:  # absent or broken: the built-in list still covers the core terms
        return []
    try:
        lexicon = Lexicon.load_default()
    except Exception as exc:
        log.warning("lexicon terms unavailable for segmentation: %s", exc)
        return []
    terms: list[str] = []
    for entry in getattr(lexicon, "entries", ()):
        for form in (getattr(entry, "term", None), *getattr(entry, "variants", ())):
            if isinstance(form, str):
                terms.append(form)
    return terms


def dictionary_terms() -> list[str]:
    """The extra words given to jieba: built-ins plus the lexicon's (Han-containing, normalised, deduplicated)."""
    seen: dict[str, None] = {}
    for term in (*BUILTIN_TERMS, *_lexicon_terms()):
        norm = normalise(term).strip()
        # Only plain words: decorated variants (征.信) would teach jieba punctuation.
        if 2 <= len(norm) <= 16 and norm.isalnum() and any(_is_han(c) for c in norm):
            seen.setdefault(norm, None)
    return list(seen)


@lru_cache(maxsize=1)
def dictionary_fingerprint() -> str:
    """Identifies the segmentation (jieba version + extra words). An index built under another fingerprint
    misses new lexicon terms in old posts until it is rebuilt."""
    import hashlib

    import jieba

    digest = hashlib.sha256(f"{SEGMENTER_VERSION}|{jieba.__version__}|".encode())
    digest.update("\n".join(sorted(dictionary_terms())).encode("utf-8"))
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def tokenizer() -> jieba.Tokenizer:
    """One private jieba tokenizer per process, initialised once and quietly (other modules may use jieba too)."""
    with _lock:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tok = jieba.Tokenizer()
        tok.initialize()
        for term in dictionary_terms():
            # A high frequency makes jieba keep the term whole in precise mode.
            tok.add_word(term, freq=max(tok.suggest_freq(term, tune=False), 50_000))
        return tok


def _is_han(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2FFFF
        or 0xF900 <= cp <= 0xFAFF
        or 0x3040 <= cp <= 0x30FF  # kana: also one token per character in ES's standard analyzer
    )


@lru_cache(maxsize=1)
def _invisible_table() -> dict[int, str | None]:
    # Every format character (Cf: zero-width spaces/joiners, BOM, bidi marks, tags) is dropped; line/paragraph
    # separators become spaces. str.translate does this in C, which matters at indexing rates.
    table: dict[int, str | None] = {
        cp: None for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) == "Cf"
    }
    table.update({0x2028: " ", 0x2029: " "})
    return table


def normalise(text: str) -> str:
    """NFKC (full-width to ASCII), drop invisible format characters (zero-width junk), lower-case."""
    return unicodedata.normalize("NFKC", text).translate(_invisible_table()).lower()


def _keep(token: str) -> bool:
    return 0 < len(token) <= MAX_TOKEN_LEN and any(ch.isalnum() for ch in token)


def _clean_tokens(tokens: Iterable[str]) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        if tok.isalnum():  # the common case: a plain word
            if len(tok) <= MAX_TOKEN_LEN:
                out.append(tok)
            continue
        # jieba can glue punctuation or spaces to letters ("v信:"); split on non-word characters.
        for piece in _NON_WORD.split(tok):
            if _keep(piece):
                out.append(piece)
    return out


def index_words(text: str, *, normalised: bool = False) -> list[str]:
    """Search-mode words for indexing (overlapping: the long word and the dictionary words inside it)."""
    if not normalised:
        text = normalise(text[:MAX_SEGMENT_CHARS])
    return _clean_tokens(tokenizer().cut_for_search(text, HMM=False))


def query_words(text: str) -> list[str]:
    """Precise-mode words for a query.

    HMM new-word discovery is off at both ends: unknown strings then fall apart into the same dictionary pieces
    in a post and in a query, instead of being guessed into different words depending on their neighbours.
    """
    text = normalise(text[:MAX_SEGMENT_CHARS])
    return _clean_tokens(tokenizer().cut(text, HMM=False))


def char_tokens(text: str, *, normalised: bool = False) -> list[str]:
    """One token per Han character; runs of other letters/digits stay one token; everything else separates."""
    if not normalised:
        text = normalise(text[:MAX_SEGMENT_CHARS])
    out: list[str] = []
    run: list[str] = []
    for ch in text:
        if _is_han(ch):
            if run:
                out.append("".join(run))
                run = []
            out.append(ch)
        elif ch.isalnum():
            run.append(ch)
        elif run:
            out.append("".join(run))
            run = []
    if run:
        out.append("".join(run))
    return [t[:MAX_TOKEN_LEN] for t in out]


def index_fields(text: str) -> tuple[str, str]:
    """(words, chars) field values for a document text, normalising once.

    The words field also holds the words of the de-obfuscated text (征.信 -> 征信, 崔收 -> 催收), so an analyst
    searching 征信 finds the posts that hid it; phrases stay on the text as written.
    """
    text = normalise(text[:MAX_SEGMENT_CHARS])
    words = index_words(text, normalised=True)
    decoded = _deobfuscate(text)
    if decoded != text:
        seen = set(words)
        words += [w for w in index_words(decoded, normalised=True) if w not in seen]
    return " ".join(words), " ".join(char_tokens(text, normalised=True))


def _deobfuscate(text: str) -> str:
    from classifiers.normalise import normalise as undo_slang

    return undo_slang(text).text
