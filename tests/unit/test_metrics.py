"""Evaluation maths on tiny hand-computed cases."""

from __future__ import annotations

import pytest

from classifiers.train.data import Example
from classifiers.train.metrics import choose_threshold, confusion, evaluate, mentions_topic, predict_at, roc_auc


def ex(
    i: int,
    label: str,
    category: str | None = None,
    difficulty: str = "plain",
    text: str = "x",
    obfuscation: tuple[str, ...] = (),
) -> Example:
    return Example(id=str(i), text=text, label=label, category=category, difficulty=difficulty, obfuscation=obfuscation)


GOLD = [
    ex(0, "lead_gen", "credit_repair", text="征信修复找我"),
    ex(1, "lead_gen", "credit_repair", "obfuscated", "zx修复", ("pinyin_initials",)),
    ex(2, "lead_gen", "stop_interest", "obfuscated", "停❤息", ("symbol_insert",)),
    ex(3, "lead_gen", "anti_collection", text="反催收"),
    ex(4, "benign", difficulty="hard_negative", text="警惕征信修复骗局"),
    ex(5, "benign", difficulty="hard_negative", text="银行提醒：协商还款请走官方渠道"),
    ex(6, "benign", difficulty="everyday", text="今天吃火锅"),
    ex(7, "benign", difficulty="everyday", text="周末爬山"),
]
# predictions: 0 hit (right cat), 1 hit (wrong cat), 2 miss, 3 hit (right cat), 4 false positive, 5-7 right
PRED = ["lead_gen", "lead_gen", "benign", "lead_gen", "lead_gen", "benign", "benign", "benign"]
CATS = ["credit_repair", "stop_interest", None, "anti_collection", "credit_repair", None, None, None]


def test_confusion_counts_and_f1() -> None:
    s = confusion([True, True, False, False, True], [True, False, True, False, True])
    assert (s.tp, s.fp, s.fn, s.tn) == (2, 1, 1, 1)
    assert s.precision == pytest.approx(2 / 3) and s.recall == pytest.approx(2 / 3)
    assert s.f1 == pytest.approx(2 / 3) and s.fpr == pytest.approx(0.5)


def test_zero_denominators_are_zero() -> None:
    s = confusion([False, False], [False, False])
    assert s.precision == 0.0 and s.recall == 0.0 and s.f1 == 0.0 and s.fpr == 0.0


def test_evaluate_overall() -> None:
    r = evaluate(GOLD, PRED, predicted_categories=CATS)
    assert (r.overall.tp, r.overall.fp, r.overall.fn, r.overall.tn) == (3, 1, 1, 3)
    assert r.precision == pytest.approx(0.75) and r.recall == pytest.approx(0.75) and r.f1 == pytest.approx(0.75)


def test_evaluate_slices() -> None:
    r = evaluate(GOLD, PRED, predicted_categories=CATS)
    assert r.obfuscated_recall == pytest.approx(0.5) and r.n_obfuscated_lead == 2
    # benign posts with topic words: 4 (flagged) and 5 (not) -> 1/2
    assert r.n_topic_benign == 2 and r.topic_benign_fpr == pytest.approx(0.5)
    assert r.benign_fpr == pytest.approx(0.25)
    # true hits 0, 1, 3; categories right on 0 and 3
    assert r.n_true_hits == 3 and r.category_accuracy == pytest.approx(2 / 3)
    cr = r.per_category["credit_repair"]  # gold {0,1}; predicted credit_repair hits {0,4}
    assert (cr.tp, cr.fp, cr.fn) == (1, 1, 1)
    assert r.per_category_detection["credit_repair"].recall == 1.0  # both credit_repair posts flagged
    assert r.per_difficulty["obfuscated"].recall == pytest.approx(0.5)
    assert r.per_difficulty["hard_negative"].fpr == pytest.approx(0.5)
    assert r.per_obfuscation["pinyin_initials"].recall == 1.0 and r.per_obfuscation["symbol_insert"].recall == 0.0


def test_evaluate_accepts_bools_and_rejects_length_mismatch() -> None:
    r = evaluate(GOLD, [p == "lead_gen" for p in PRED])
    assert r.f1 == pytest.approx(0.75) and r.category_accuracy == 0.0
    with pytest.raises(ValueError):
        evaluate(GOLD, PRED[:-1])
    with pytest.raises(ValueError):
        evaluate(GOLD, ["spam"] * len(GOLD))


def test_report_renders() -> None:
    r = evaluate(GOLD, PRED, [0.9, 0.8, 0.2, 0.7, 0.6, 0.1, 0.0, 0.05], CATS, threshold=0.5, name="toy")
    md = r.to_markdown()
    assert "| F1 (lead_gen) | 0.750 |" in md and "credit_repair" in md and "pinyin_initials" in md
    assert "| hard_negative | 0 | 2 | – | – | – | 0.500 |" in md  # no lead_gen posts: no precision/recall shown
    d = r.to_dict()
    assert d["f1"] == pytest.approx(0.75) and d["per_category"]["credit_repair"]["tp"] == 1
    assert d["auc"] == pytest.approx(15 / 16)  # one benign (0.6) outranks one lead (0.2): 15 of 16 pairs right


def test_roc_auc_ties_count_half() -> None:
    assert roc_auc([0.5, 0.5], [True, False]) == pytest.approx(0.5)
    assert roc_auc([0.9, 0.1], [True, False]) == 1.0
    assert roc_auc([0.9, 0.8], [True, True]) is None


def test_choose_threshold_lowest_that_keeps_precision() -> None:
    scores = [0.95, 0.9, 0.8, 0.7, 0.6, 0.4, 0.3]
    labels = ["lead_gen", "lead_gen", "benign", "lead_gen", "lead_gen", "benign", "lead_gen"]
    # precision at >=0.9: 1.0; >=0.8: 2/3; >=0.7: 3/4; >=0.6: 4/5; >=0.4: 4/6; >=0.3: 5/7
    assert choose_threshold(scores, labels, 1.0) == 0.9
    assert choose_threshold(scores, labels, 0.8) == 0.6
    assert choose_threshold(scores, labels, 0.7) == 0.3
    assert predict_at(scores, 0.6).count("lead_gen") == 5


def test_choose_threshold_unreachable_precision_returns_best() -> None:
    assert choose_threshold([0.9, 0.8, 0.7], [0, 1, 0], 0.99) == 0.8  # best precision (1/2) at >= 0.8
    with pytest.raises(ValueError):
        choose_threshold([], [], 0.9)


def test_choose_threshold_ties_are_one_threshold() -> None:
    assert choose_threshold([0.5, 0.5, 0.2], [1, 0, 1], 0.6) == 0.2  # >=0.5 gives 1/2, >=0.2 gives 2/3


def test_mentions_topic_sees_through_light_disguise() -> None:
    assert mentions_topic("徵信")  # traditional
    assert mentions_topic("征\u200b信")
    assert not mentions_topic("今天吃火锅")
