"""Evaluation maths for the lead-generation classifier: precision/recall/F1 overall and by slice, false positives on
benign posts that use the topic words, category accuracy on true hits, and threshold choice for a stated precision.

Conventions: a post is predicted lead_gen when its label says so (or score >= threshold, for `choose_threshold`);
a ratio whose denominator is zero is 0.0, and every figure comes with the counts it was computed from.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from classifiers.train.data import CATEGORIES, DIFFICULTIES, Example

# Words legitimate and illegal posts share: a benign post containing one of them is a "topic" benign post, the
# kind a keyword filter flags. Also the naive keyword baseline's list.
TOPIC_WORDS: tuple[str, ...] = (
    "征信",
    "停息",
    "挂账",
    "个性化分期",
    "协商还款",
    "协商",
    "催收",
    "退保",
    "逾期",
    "债务",
    "负债",
    "网贷",
    "信用卡",
    "贷款",
    "下款",
    "借款",
    "上岸",
    "维权",
    "投诉",
    "背债",
    "白户",
    "黑户",
    "口子",
    "病历",
    "贫困证明",
    "流水",
    "分期",
    "还款",
    "减免",
    "罚息",
    "利息",
    "花呗",
    "借呗",
    "保险",
    "保单",
    "洗白",
    "修复",
    "通讯录",
    "空放",
    "债",
)

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """Light normalisation for topic-word detection: NFKC, no zero-width characters, simplified characters."""
    return _t2s().convert(unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH))


def mentions_topic(text: str) -> bool:
    folded = fold(text)
    return any(w in folded for w in TOPIC_WORDS)


def _div(a: float, b: float) -> float:
    return a / b if b else 0.0


@dataclass(frozen=True)
class SliceStats:
    """Confusion counts for lead_gen detection on a subset, with the ratios derived from them."""

    n: int
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return _div(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _div(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return _div(2 * p * r, p + r)

    @property
    def fpr(self) -> float:
        return _div(self.fp, self.fp + self.tn)

    @property
    def n_lead(self) -> int:
        return self.tp + self.fn

    @property
    def n_benign(self) -> int:
        return self.fp + self.tn

    def to_dict(self) -> dict[str, float | int]:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1, "fpr": self.fpr}


def confusion(gold: Sequence[bool], pred: Sequence[bool]) -> SliceStats:
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g and p)
    fp = sum(1 for g, p in zip(gold, pred, strict=True) if not g and p)
    fn = sum(1 for g, p in zip(gold, pred, strict=True) if g and not p)
    return SliceStats(n=len(gold), tp=tp, fp=fp, fn=fn, tn=len(gold) - tp - fp - fn)


@dataclass
class Report:
    """Everything `qingyuan evaluate` prints. Ratios are in [0, 1]."""

    n: int
    overall: SliceStats
    per_category: dict[str, SliceStats]  # detection of (lead_gen, category) pairs: label and category both right
    per_category_detection: dict[str, SliceStats]  # label only, on that category's gold posts (+ all benign)
    per_difficulty: dict[str, SliceStats]
    per_obfuscation: dict[str, SliceStats]  # posts whose obfuscation list contains the operator
    per_kind: dict[str, SliceStats]
    per_register: dict[str, SliceStats]  # authored texts' registers (sms, listing, asr, ...); empty for other sets
    obfuscated_recall: float
    n_obfuscated_lead: int
    topic_benign_fpr: float  # share of benign posts mentioning TOPIC_WORDS that were flagged
    n_topic_benign: int
    benign_fpr: float
    category_accuracy: float  # on true hits (gold lead_gen predicted lead_gen); 0.0 without predicted categories
    n_true_hits: int
    auc: float | None = None  # ranking quality when scores are given
    threshold: float | None = None
    name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def f1(self) -> float:
        return self.overall.f1

    @property
    def precision(self) -> float:
        return self.overall.precision

    @property
    def recall(self) -> float:
        return self.overall.recall

    def to_dict(self) -> dict[str, Any]:
        def slices(d: dict[str, SliceStats]) -> dict[str, Any]:
            return {k: v.to_dict() for k, v in d.items()}

        return {
            "name": self.name,
            "n": self.n,
            "overall": self.overall.to_dict(),
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "obfuscated_recall": self.obfuscated_recall,
            "n_obfuscated_lead": self.n_obfuscated_lead,
            "topic_benign_fpr": self.topic_benign_fpr,
            "n_topic_benign": self.n_topic_benign,
            "benign_fpr": self.benign_fpr,
            "category_accuracy": self.category_accuracy,
            "n_true_hits": self.n_true_hits,
            "auc": self.auc,
            "threshold": self.threshold,
            "per_category": slices(self.per_category),
            "per_category_detection": slices(self.per_category_detection),
            "per_difficulty": slices(self.per_difficulty),
            "per_obfuscation": slices(self.per_obfuscation),
            "per_kind": slices(self.per_kind),
            "per_register": slices(self.per_register),
            "extra": self.extra,
        }

    def to_markdown(self) -> str:
        o = self.overall
        title = f"## Evaluation{': ' + self.name if self.name else ''}"
        lines = [
            title,
            "",
            f"{self.n} posts ({o.n_lead} lead_gen, {o.n_benign} benign)"
            + (f", threshold {self.threshold:.3f}" if self.threshold is not None else ""),
            "",
            "| metric | value | on |",
            "|---|---|---|",
            f"| precision (lead_gen) | {o.precision:.3f} | {o.tp + o.fp} flagged |",
            f"| recall (lead_gen) | {o.recall:.3f} | {o.n_lead} lead_gen |",
            f"| F1 (lead_gen) | {o.f1:.3f} | |",
            f"| recall on obfuscated lead_gen | {self.obfuscated_recall:.3f} | {self.n_obfuscated_lead} posts |",
            f"| flagged benign posts using topic words | {self.topic_benign_fpr:.3f} | {self.n_topic_benign} posts |",
            f"| flagged benign posts (all) | {self.benign_fpr:.3f} | {o.n_benign} posts |",
            f"| category accuracy on true hits | {self.category_accuracy:.3f} | {self.n_true_hits} hits |",
        ]
        if self.auc is not None:
            lines.append(f"| ROC AUC | {self.auc:.3f} | |")
        lines += [
            "",
            "### Per category (label and category both right)",
            "",
            "| category | n | precision | recall | F1 | detection recall |",
            "|---|---|---|---|---|---|",
        ]
        for cat, s in self.per_category.items():
            det = self.per_category_detection[cat]
            lines.append(f"| {cat} | {s.n_lead} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {det.recall:.3f} |")
        for heading, table in (
            ("difficulty", self.per_difficulty),
            ("obfuscation operator", self.per_obfuscation),
            ("kind", self.per_kind),
            ("register", self.per_register),
        ):
            if not table:
                continue
            lines += [
                "",
                f"### Per {heading}",
                "",
                f"| {heading} | lead_gen | benign | precision | recall | F1 | FPR |",
                "|---|---|---|---|---|---|---|",
            ]
            for key, s in table.items():
                # a ratio over an empty group is shown as "–" rather than a misleading 0.000
                lead = f"{s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f}" if s.n_lead else "– | – | –"
                fpr = f"{s.fpr:.3f}" if s.n_benign else "–"
                lines.append(f"| {key} | {s.n_lead} | {s.n_benign} | {lead} | {fpr} |")
        return "\n".join(lines) + "\n"


def _as_bool_label(value: object) -> bool:
    if isinstance(value, str):
        if value not in ("lead_gen", "benign"):
            raise ValueError(f"unknown label {value!r}")
        return value == "lead_gen"
    if hasattr(value, "value"):  # core.records.Label
        return _as_bool_label(value.value)
    return bool(value)


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Probability a random lead_gen post outscores a random benign one (ties count half); None if one class."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not pos or not neg:
        return None
    # rank-sum formulation: O(n log n)
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    rank_pos = sum(r for r, y in zip(ranks, labels, strict=True) if y)
    return (rank_pos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def evaluate(
    gold: Sequence[Example],
    predicted_labels: Sequence[object],
    predicted_scores: Sequence[float] | None = None,
    predicted_categories: Sequence[str | None] | None = None,
    *,
    threshold: float | None = None,
    name: str = "",
) -> Report:
    """Score predictions against gold Examples.

    predicted_labels: "lead_gen"/"benign" strings, core.records.Label, or truthy = lead_gen.
    predicted_scores: probability of lead_gen (only used for AUC; may be None).
    predicted_categories: category slug or None per post (None → category accuracy and per-category are label-only
    for recall and 0 for precision).
    """
    n = len(gold)
    if len(predicted_labels) != n:
        raise ValueError(f"{len(predicted_labels)} predicted labels for {n} gold examples")
    if predicted_scores is not None and len(predicted_scores) != n:
        raise ValueError(f"{len(predicted_scores)} scores for {n} gold examples")
    if predicted_categories is not None and len(predicted_categories) != n:
        raise ValueError(f"{len(predicted_categories)} categories for {n} gold examples")
    g = [ex.is_lead_gen for ex in gold]
    p = [_as_bool_label(v) for v in predicted_labels]
    cats = list(predicted_categories) if predicted_categories is not None else [None] * n
    cats = [c.value if hasattr(c, "value") else c for c in cats]  # type: ignore[union-attr]

    def subset(idx: list[int], pred: Sequence[bool] | None = None, goldv: Sequence[bool] | None = None) -> SliceStats:
        pv = pred if pred is not None else p
        gv = goldv if goldv is not None else g
        return confusion([gv[i] for i in idx], [pv[i] for i in idx])

    everything = list(range(n))
    per_category: dict[str, SliceStats] = {}
    per_category_detection: dict[str, SliceStats] = {}
    for cat in CATEGORIES:
        gold_c = [g[i] and gold[i].category == cat for i in everything]
        pred_c = [p[i] and cats[i] == cat for i in everything]
        per_category[cat] = confusion(gold_c, pred_c)
        idx = [i for i in everything if not g[i] or gold[i].category == cat]
        per_category_detection[cat] = subset(idx)

    per_difficulty = {d: subset([i for i in everything if gold[i].difficulty == d]) for d in DIFFICULTIES}
    per_difficulty = {d: s for d, s in per_difficulty.items() if s.n}
    ops = sorted({op for ex in gold for op in ex.obfuscation})
    per_obfuscation = {op: subset([i for i in everything if op in gold[i].obfuscation]) for op in ops}
    kinds: list[str] = sorted({ex.kind for ex in gold})
    per_kind = {k: subset([i for i in everything if gold[i].kind == k]) for k in kinds}
    registers = sorted({ex.channel for ex in gold if ex.channel})
    per_register = {r: subset([i for i in everything if gold[i].channel == r]) for r in registers}

    obf_lead = [i for i in everything if g[i] and (gold[i].obfuscation or gold[i].difficulty == "obfuscated")]
    topic_benign = [i for i in everything if not g[i] and mentions_topic(gold[i].text)]
    benign = [i for i in everything if not g[i]]
    hits = [i for i in everything if g[i] and p[i]]
    cat_right = sum(1 for i in hits if cats[i] == gold[i].category)

    auc = None
    if predicted_scores is not None:
        auc = roc_auc([float(s) for s in predicted_scores], g)

    return Report(
        n=n,
        overall=confusion(g, p),
        per_category=per_category,
        per_category_detection=per_category_detection,
        per_difficulty=per_difficulty,
        per_obfuscation=per_obfuscation,
        per_kind=per_kind,
        per_register=per_register,
        obfuscated_recall=_div(sum(1 for i in obf_lead if p[i]), len(obf_lead)),
        n_obfuscated_lead=len(obf_lead),
        topic_benign_fpr=_div(sum(1 for i in topic_benign if p[i]), len(topic_benign)),
        n_topic_benign=len(topic_benign),
        benign_fpr=_div(sum(1 for i in benign if p[i]), len(benign)),
        category_accuracy=_div(cat_right, len(hits)),
        n_true_hits=len(hits),
        auc=auc,
        threshold=threshold,
        name=name,
    )


def choose_threshold(scores: Sequence[float], labels: Sequence[object], min_precision: float) -> float:
    """The lowest score threshold (predict lead_gen when score >= threshold) whose precision is >= min_precision.

    Lowest threshold = highest recall among the thresholds that keep the precision. Candidates are the observed
    scores. If no threshold reaches min_precision, the one with the best precision is returned (ties: lower
    threshold). Raises ValueError on empty input.
    """
    if not scores:
        raise ValueError("no scores")
    y = [_as_bool_label(v) for v in labels]
    if len(y) != len(scores):
        raise ValueError("scores and labels differ in length")
    # Sweep thresholds from high to low, accumulating tp/fp for each distinct score.
    pairs = sorted(zip((float(s) for s in scores), y, strict=True), key=lambda t: -t[0])
    tp = fp = 0
    best_ok: float | None = None
    best_any, best_any_prec = pairs[0][0], -1.0
    i = 0
    while i < len(pairs):
        s = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == s:
            tp += pairs[i][1]
            fp += not pairs[i][1]
            i += 1
        prec = tp / (tp + fp)
        if prec >= min_precision:
            best_ok = s  # keeps lowering while precision holds
        if prec >= best_any_prec:
            best_any, best_any_prec = s, prec
    return best_ok if best_ok is not None else best_any


def predict_at(scores: Sequence[float], threshold: float) -> list[str]:
    return ["lead_gen" if s >= threshold else "benign" for s in scores]
