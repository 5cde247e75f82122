"""The slang lexicon: coded terms, what they stand for, which agency category they point to, and how strongly.

Data lives in data/lexicon.json (see its `_about`). Matching runs on normalised text (normalise.py undoes spacing,
decoration, traditional forms, homophones and pinyin initials) and reports spans and surfaces in the ORIGINAL
text, so an analyst sees "征.信" explained as 征信.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from classifiers.normalise import LEXICON_PATH, Normalised, Normaliser, default_normaliser
from core.records import Category, SlangMatch

KINDS = ("agency", "topic", "service", "benign", "finance")
SLANG_KINDS = frozenset({"agency", "topic", "service"})  # what a Verdict lists as slang


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    term: str
    category: Category | None
    kind: str  # agency | topic | service | benign | finance
    weight: float
    variants: tuple[str, ...] = ()

    @property
    def strong(self) -> bool:
        """A strong lead-generation signal on its own (an agency service, not a topic word)."""
        return self.kind == "agency" and self.weight >= 0.75


@dataclass(frozen=True, slots=True)
class LexiconHit:
    """One match: the entry, the matched normalised form, and where it is in the original text."""

    entry: LexiconEntry
    form: str  # the normalised text that matched (canonical term or a listed variant)
    start: int  # span in the original text
    end: int
    surface: str  # original[start:end]
    norm_start: int  # span in the normalised text
    norm_end: int

    @property
    def obfuscated(self) -> bool:
        """The post did not write the term plainly (decorated, folded, pinyin, traditional...)."""
        return self.surface != self.form

    def to_slang(self) -> SlangMatch:
        return SlangMatch(
            start=self.start,
            end=self.end,
            surface=self.surface,
            canonical=self.entry.term,
            category=self.entry.category,
        )


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


class Lexicon:
    """Longest-leftmost multi-pattern matching with a dict-of-dicts trie over normalised terms and variants."""

    def __init__(
        self,
        entries: Iterable[LexiconEntry],
        *,
        normaliser: Normaliser | None = None,
        abbreviations: dict[str, str] | None = None,
        version: str = "0",
    ) -> None:
        self.entries: tuple[LexiconEntry, ...] = tuple(entries)
        self.normaliser = normaliser or default_normaliser()
        self.abbreviations = dict(abbreviations or {})
        self.version = version
        self._root: dict = {}
        self.conflicts: list[tuple[str, str, str]] = []  # (key, kept term, dropped term)
        for entry in self.entries:
            for form in (entry.term, *entry.variants):
                key = self.normaliser.normalise(form, finance_context=False).text
                if key:
                    self._add(key, entry)

    def _add(self, key: str, entry: LexiconEntry) -> None:
        node = self._root
        for ch in key:
            node = node.setdefault(ch, {})
        old = node.get(None)
        if old is not None and old[1] is not entry:
            self.conflicts.append((key, old[1].term, entry.term))
            return
        node[None] = (key, entry)

    @classmethod
    def load(cls, path: Path = LEXICON_PATH, *, normaliser: Normaliser | None = None) -> Lexicon:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = [
            LexiconEntry(
                term=e["term"],
                category=Category(e["category"]) if e.get("category") else None,
                kind=e["kind"],
                weight=float(e["weight"]),
                variants=tuple(e.get("variants", ())),
            )
            for e in data["entries"]
        ]
        return cls(
            entries, normaliser=normaliser, abbreviations=data.get("abbreviations"), version=str(data.get("version"))
        )

    @classmethod
    def load_default(cls) -> Lexicon:
        global _default
        if _default is None:
            with _lock:
                if _default is None:
                    _default = cls.load()
        return _default

    def normalise(self, text: str) -> Normalised:
        return self.normaliser.normalise(text)

    def scan(self, text: str | Normalised, kinds: Iterable[str] | None = None) -> list[LexiconHit]:
        """All matches (longest, leftmost, non-overlapping) of every kind, or only of `kinds`."""
        norm = text if isinstance(text, Normalised) else self.normaliser.normalise(text)
        wanted = frozenset(kinds) if kinds is not None else None
        s = norm.text
        n = len(s)
        root = self._root
        hits: list[LexiconHit] = []
        i = 0
        while i < n:
            node = root.get(s[i])
            if node is None:
                i += 1
                continue
            best = None
            j = i + 1
            while True:
                val = node.get(None)
                if val is not None and self._bounded(s, i, j, val[0]):
                    best = (j, val)
                if j >= n:
                    break
                node = node.get(s[j])
                if node is None:
                    break
                j += 1
            if best is None:
                i += 1
                continue
            j, (form, entry) = best
            if wanted is None or entry.kind in wanted:
                a, b = norm.to_original(i, j)
                hits.append(LexiconHit(entry, form, a, b, norm.original[a:b], i, j))
            i = j
        return hits

    @staticmethod
    def _bounded(s: str, i: int, j: int, key: str) -> bool:
        """Keys that start or end with a Latin letter or digit must not run into more of them (12378 vs 9123789)."""
        if _is_ascii_alnum(key[0]) and i > 0 and _is_ascii_alnum(s[i - 1]):
            return False
        if _is_ascii_alnum(key[-1]) and j < len(s) and _is_ascii_alnum(s[j]):
            return False
        return True

    def find(self, text: str | Normalised, kinds: Iterable[str] = SLANG_KINDS) -> list[SlangMatch]:
        """Slang matches with spans and surfaces in the original text (surface "征.信", canonical "征信")."""
        return [h.to_slang() for h in self.scan(text, kinds)]

    def entry(self, term: str) -> LexiconEntry | None:
        for e in self.entries:
            if e.term == term:
                return e
        return None

    def by_category(self) -> dict[Category, list[LexiconEntry]]:
        out: dict[Category, list[LexiconEntry]] = {}
        for e in self.entries:
            if e.category is not None:
                out.setdefault(e.category, []).append(e)
        return out


def strongest(hits: Sequence[LexiconHit], kind: str) -> float:
    return max((h.entry.weight for h in hits if h.entry.kind == kind), default=0.0)


_default: Lexicon | None = None
_lock = threading.Lock()
