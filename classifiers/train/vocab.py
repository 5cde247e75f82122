"""Character-level Chinese vocabulary and the matching BertTokenizerFast.

Every Han character seen in the training corpus becomes one token; Latin letters and digits also get `##` pieces
so a WordPiece tokenizer can spell any ASCII word. transformers 5.x ignores `vocab_file=`, so the tokenizer is
built from an in-memory `vocab=` mapping and its size is checked.
"""

from __future__ import annotations

import string
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from transformers import BertTokenizerFast  # type: ignore[attr-defined]  # lazy alias in 5.x

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CJK_PUNCT = "，。！？；：、“”‘’（）《》〈〉【】「」『』〔〕…—～·￥％＃＠＆＊＋－＝／＼｜〜・"
ASCII_PRINTABLE = [c for c in string.printable if not c.isspace()]
ALNUM = string.ascii_lowercase + string.digits


def is_han(char: str) -> bool:
    return unicodedata.category(char) == "Lo" and "CJK" in unicodedata.name(char, "")


def build_vocab(texts: Iterable[str], min_count: int = 1, extra_chars: Iterable[str] = ()) -> list[str]:
    """Token list in id order: specials, ASCII, `##` letter/digit pieces, CJK punctuation, Han chars by frequency."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(ch for ch in text if is_han(ch))
    for ch in extra_chars:
        if is_han(ch):
            counts[ch] += min_count
    tokens = list(SPECIAL_TOKENS)
    seen = set(tokens)

    def add(tok: str) -> None:
        if tok not in seen:
            seen.add(tok)
            tokens.append(tok)

    for ch in ASCII_PRINTABLE:
        if not ch.isupper():  # the tokenizer lower-cases
            add(ch)
    for ch in ALNUM:
        add("##" + ch)
    for ch in CJK_PUNCT:
        add(ch)
    for ch, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if n >= min_count:
            add(ch)
    return tokens


def make_tokenizer(tokens: list[str], model_max_length: int = 128) -> BertTokenizerFast:
    vocab = {tok: i for i, tok in enumerate(tokens)}
    tok = BertTokenizerFast(
        vocab=vocab,
        do_lower_case=True,
        tokenize_chinese_chars=True,
        strip_accents=False,
        model_max_length=model_max_length,
    )
    if tok.vocab_size != len(tokens):  # the 5.x vocab_file trap would land here
        raise RuntimeError(f"tokenizer vocab_size {tok.vocab_size} != {len(tokens)} tokens")
    return tok


def save_vocab(tokens: list[str], path: Path) -> None:
    path.write_text("\n".join(tokens) + "\n", encoding="utf-8")


def load_vocab(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line]


def checkpoint_vocab(path: Path) -> list[str]:
    """A checkpoint's tokens in id order: its vocab.txt, or the vocabulary inside its tokenizer.json (a fine-tuned
    model keeps only the latter)."""
    if (path / "vocab.txt").is_file():
        return load_vocab(path / "vocab.txt")
    from transformers import AutoTokenizer

    vocab = AutoTokenizer.from_pretrained(str(path)).get_vocab()
    return [token for token, _ in sorted(vocab.items(), key=lambda item: item[1])]
