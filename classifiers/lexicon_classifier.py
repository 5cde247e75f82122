"""A rule classifier over lexicon and contact evidence, and the evidence itself for the BERT ensemble to reuse.

The rule: agency services plus a way to reach the agency (handle or call to action) is lead generation; topic
words alone, or any words in a news / regulator / bank / lawyer / victim context, are not. Weights come from
data/lexicon.json; the few constants below combine them and were set by hand on written examples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from classifiers.base import ClassifyInput
from classifiers.contacts import extract_contacts
from classifiers.lexicon import Lexicon, LexiconHit
from classifiers.normalise import (
    OP_DIGITS,
    OP_FOLD,
    OP_INVISIBLE,
    OP_PINYIN,
    OP_SEPARATOR,
    OP_SPLIT,
    OP_T2S,
    Normalised,
)
from core.records import Category, ContactMatch, Label, ModelInfo, SlangMatch, Verdict

VERSION = "1"
THRESHOLD = 0.5
CATEGORIES: tuple[Category, ...] = tuple(Category)
HANDLE_TYPES = frozenset({"wechat", "qq", "phone", "telegram"})
_OBFUSCATION_OPS = (OP_SEPARATOR, OP_FOLD, OP_SPLIT, OP_PINYIN, OP_T2S, OP_INVISIBLE, OP_DIGITS)

FEATURE_NAMES: tuple[str, ...] = (
    *(f"cat_{c.value}" for c in CATEGORIES),
    "agency",
    "topic",
    "service",
    "benign",
    "handle",
    "url",
    "cta",
    "n_agency",
    "n_strong",
    "obfuscated_terms",
    "finance_context",
    *(f"op_{op}" for op in _OBFUSCATION_OPS),
    "log_len",
    "score",
)

# logistic combination; agency terms need a way to reach the agency, benign context outweighs topic words
_BIAS = -4.3
_W_AGENCY, _W_TOPIC, _W_SERVICE, _W_HANDLE, _W_URL, _W_CTA, _W_OBFUSCATED = 4.0, 1.5, 2.0, 2.5, 1.0, 1.0, 1.0
_W_BENIGN = 4.5
_W_MORE_STRONG = 1.0  # each further distinct strong agency term (hashtag lists: #停息挂账 #征信修复 #债务优化)
_TOPIC_FACTOR = 0.5  # a topic word counts half towards its category


_QUOTED_FACTOR = 0.3
_OPEN_QUOTES = "“\"「『‘《【'"
_CLOSE_QUOTES = "”\"」』’》】'"


def _quoted(text: str, start: int, end: int) -> bool:
    """The span sits inside quotation marks (at most a few characters from each mark)."""
    before = text[max(0, start - 4) : start]
    after = text[end : end + 4]
    return any(q in before for q in _OPEN_QUOTES) and any(q in after for q in _CLOSE_QUOTES)


def soft_or(weights: Sequence[float]) -> float:
    p = 1.0
    for w in weights:
        p *= 1.0 - max(0.0, min(1.0, w))
    return 1.0 - p


@dataclass(frozen=True)
class LexiconEvidence:
    """Everything the lexicon and contact extractor saw in one text; the BERT ensemble reuses it."""

    normalised: Normalised
    hits: tuple[LexiconHit, ...]
    slang: tuple[SlangMatch, ...]
    contacts: tuple[ContactMatch, ...]
    category_weights: dict[Category, float]
    agency: float
    topic: float
    service: float
    benign: float
    score: float
    category: Category | None
    features: tuple[float, ...]

    @property
    def has_handle(self) -> bool:
        return any(c.type in HANDLE_TYPES for c in self.contacts)

    @property
    def agency_count(self) -> int:
        """Distinct agency-service terms (not topic words); the ensemble reads this."""
        return len({h.entry.term for h in self.hits if h.entry.kind == "agency"})

    @property
    def obfuscated(self) -> bool:
        return any(h.obfuscated for h in self.hits if h.entry.kind in ("agency", "topic"))

    def feature_dict(self) -> dict[str, float]:
        return dict(zip(FEATURE_NAMES, self.features, strict=True))


def lexicon_evidence(text: str | Normalised, lexicon: Lexicon | None = None) -> LexiconEvidence:
    """Evidence in `text`; a Normalised must come from the lexicon's own normaliser (the default one unless given)."""
    lex = lexicon or Lexicon.load_default()
    norm = text if isinstance(text, Normalised) else lex.normalise(text)
    hits = tuple(lex.scan(norm))
    contacts = tuple(extract_contacts(norm))

    # each canonical term counts once, however often it is repeated, at its least-quoted occurrence
    seen: dict[str, LexiconHit] = {}
    weight: dict[str, float] = {}
    for h in hits:
        w = h.entry.weight
        if h.entry.kind != "benign" and _quoted(norm.original, h.start, h.end):
            w *= _QUOTED_FACTOR  # a warning quotes the agency's words: “内部渠道”“包过”
        seen.setdefault(h.entry.term, h)
        weight[h.entry.term] = max(weight.get(h.entry.term, 0.0), w)
    entries = [h.entry for h in seen.values()]
    by_kind: dict[str, list[float]] = {}
    for e in entries:
        by_kind.setdefault(e.kind, []).append(weight[e.term])

    cat_parts: dict[Category, list[float]] = {}
    for e in entries:
        if e.category is not None and e.kind in ("agency", "topic"):
            w = weight[e.term] if e.kind == "agency" else weight[e.term] * _TOPIC_FACTOR
            cat_parts.setdefault(e.category, []).append(w)
    category_weights = {c: soft_or(ws) for c, ws in cat_parts.items()}
    category = max(category_weights, key=lambda c: (category_weights[c], -CATEGORIES.index(c)), default=None)

    agency = soft_or(by_kind.get("agency", []))
    topic = soft_or(by_kind.get("topic", []))
    cta_terms = {c.value for c in contacts if c.type == "call_to_action"}
    # a service phrase the contact extractor also found (私信) counts once
    service_w = list(by_kind.get("service", []))
    service_w += [0.35] * len(cta_terms - {e.term for e in entries if e.kind == "service"})
    service = soft_or(service_w)
    benign = soft_or(by_kind.get("benign", []))
    handle = 1.0 if any(c.type in HANDLE_TYPES for c in contacts) else 0.0
    url = 1.0 if any(c.type == "url" for c in contacts) else 0.0
    cta = 1.0 if cta_terms else 0.0
    obfuscated = sum(1 for h in seen.values() if h.obfuscated and h.entry.kind in ("agency", "topic"))
    n_strong = sum(1 for e in entries if e.strong and weight[e.term] >= 0.75)

    z = (
        _BIAS
        + _W_AGENCY * agency
        + _W_TOPIC * topic
        + _W_SERVICE * service
        + _W_HANDLE * handle
        + _W_URL * url * (1.0 - handle)
        + _W_CTA * cta * (1.0 - handle)
        + _W_OBFUSCATED * min(obfuscated, 2) / 2 * (1.0 if agency or topic else 0.0)
        + _W_MORE_STRONG * min(max(n_strong - 1, 0), 2)
        # a regulator's warning rarely carries a private handle; an agency claiming to be "官方" often does
        # and agencies borrow warning words ("警惕！很多都是骗子，认准正规团队") inside a sales pitch
        - _W_BENIGN * benign * (1.0 - 0.5 * handle) * (1.0 - 0.6 * service * max(handle, cta))
    )
    if not (agency or topic):  # no finance term at all: contacts alone are not lead generation for this product
        z = min(z, -1.0)
    score = 1.0 / (1.0 + math.exp(-z))

    features = (
        *(category_weights.get(c, 0.0) for c in CATEGORIES),
        agency,
        topic,
        service,
        benign,
        handle,
        url,
        cta,
        float(len(by_kind.get("agency", []))),
        float(n_strong),
        float(obfuscated),
        float(norm.finance_context),
        *(1.0 if op in norm.ops else 0.0 for op in _OBFUSCATION_OPS),
        math.log1p(len(norm.original)),
        score,
    )
    slang = tuple(h.to_slang() for h in hits if h.entry.kind in ("agency", "topic", "service"))
    return LexiconEvidence(
        normalised=norm,
        hits=hits,
        slang=slang,
        contacts=contacts,
        category_weights=category_weights,
        agency=agency,
        topic=topic,
        service=service,
        benign=benign,
        score=score,
        category=category,
        features=features,
    )


class LexiconClassifier:
    """The lexicon-only classifier (implements classifiers.base.Classifier)."""

    def __init__(self, lexicon: Lexicon | None = None, threshold: float = THRESHOLD) -> None:
        self.lexicon = lexicon or Lexicon.load_default()
        self.threshold = threshold

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(name="lexicon", version=f"{VERSION}+lex{self.lexicon.version}")

    def evidence(self, text: str) -> LexiconEvidence:
        return lexicon_evidence(text, self.lexicon)

    def verdict(self, ev: LexiconEvidence) -> Verdict:
        label = Label.lead_gen if ev.score >= self.threshold else Label.benign
        return Verdict(
            label=label,
            score=round(ev.score, 6),
            category=ev.category,
            slang=ev.slang,
            contacts=ev.contacts,
            model=self.info,
        )

    def classify(self, items: Sequence[ClassifyInput]) -> list[Verdict]:
        return [self.verdict(self.evidence(item.text)) for item in items]
