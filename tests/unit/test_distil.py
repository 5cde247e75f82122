"""Distillation from the n-gram teacher: out-of-fold targets, spliced transfer posts and the mixed loss (a
fine-tune with transfer posts runs in test_bert.py, beside the tiny encoder it needs)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("sklearn")

from classifiers.ensemble import NgramModel  # noqa: E402
from classifiers.train.distil import out_of_fold_scores, sentences, spliced_posts, teacher_targets  # noqa: E402
from classifiers.train.finetune import IGNORE, distillation_loss  # noqa: E402

LEAD = ["征信修复加微信", "停息挂账私信我", "反催收团队看主页", "代理退保扣1", "债务优化联系我", "网贷上岸加我QQ"]
BENIGN = ["今天天气很好", "公园散步真舒服", "晚饭吃了面条", "周末去爬山了", "这部电影好看", "猫咪睡着了"]


def test_sentences_keep_their_punctuation_and_drop_blanks() -> None:
    assert sentences("征信修复。加微信！\n\n好的？") == ["征信修复。", "加微信！", "好的？"]
    assert sentences("") == []


def test_out_of_fold_scores_never_score_a_post_with_a_model_that_saw_it() -> None:
    texts = LEAD * 5 + BENIGN * 5
    labels = [1] * 30 + [0] * 30
    scores = out_of_fold_scores(texts, labels, folds=5, seed=3)
    assert scores.shape == (60,) and np.all((scores >= 0) & (scores <= 1))
    # the words generalise across folds: lead posts score above everyday ones on average
    assert scores[:30].mean() > scores[30:].mean() + 0.2
    # a post unlike anything in the other folds: a model that saw it (and its label) scores it well above the
    # out-of-fold score, which is an uncertain opinion rather than the label echoed back
    lone = out_of_fold_scores([*texts, "孤零零"], [*labels, 1], folds=5, seed=3)[-1]
    seen = NgramModel.fit([*texts, "孤零零"], [*labels, 1], seed=3).predict(["孤零零"])[0]
    assert lone < 0.9 and lone < seen - 0.15
    with pytest.raises(ValueError):
        out_of_fold_scores(texts, labels, folds=1)


def test_spliced_posts_mix_sentences_from_different_posts() -> None:
    posts = ["征信修复。加微信！", "今天天气很好。去散步。", "停息挂账？私信我。", "猫咪睡着了。好可爱。"]
    out = spliced_posts(posts, 20, seed=1)
    assert len(out) == 20 and len(set(out)) == 20
    pieces = {s for p in posts for s in sentences(p)}
    for post in out:
        assert post not in posts
        assert all(s in pieces for s in sentences(post))
    assert spliced_posts(posts, 20, seed=1) == out  # deterministic for a seed
    assert spliced_posts(["只有一句。"], 5, seed=1) == []


def test_teacher_targets_score_training_and_transfer_posts() -> None:
    texts = LEAD * 5 + BENIGN * 5
    labels = [1] * 30 + [0] * 30
    soft, transfer = teacher_targets(texts, labels, str.upper, n_transfer=0, seed=2)
    assert soft.shape == (60,) and transfer == []
    posts = [f"{a}。{b}。" for a, b in zip(LEAD * 5, BENIGN * 5, strict=True)] + [f"{b}。" for b in BENIGN * 5]
    soft, transfer = teacher_targets(posts, labels, lambda t: t, n_transfer=10, seed=2)
    assert len(transfer) == 10
    assert all(isinstance(t, str) and 0.0 <= p <= 1.0 for t, p in transfer)


def test_distillation_loss_mixes_labels_and_teacher() -> None:
    logits = torch.tensor([[2.0, -1.0], [0.0, 3.0], [1.0, 1.0]])
    out = {"label_logits": logits, "category_logits": torch.zeros(3, 9)}
    labels = torch.tensor([0, 1, IGNORE])
    cats = torch.tensor([IGNORE, 4, IGNORE])
    soft = torch.tensor([0.1, 0.9, 0.5])
    ce = torch.nn.functional.cross_entropy
    teacher = ce(logits, torch.stack([1 - soft, soft], 1))
    hard = ce(logits[:2], labels[:2])
    category = ce(torch.zeros(1, 9), torch.tensor([4]))
    for w in (0.0, 0.3, 1.0):
        got = distillation_loss(out, labels, cats, soft, w)
        assert torch.isclose(got, w * teacher + (1 - w) * hard + category)
    # a batch of transfer posts alone: only the teacher term, and no NaN from an empty label loss
    only = distillation_loss(out, torch.full((3,), IGNORE), torch.full((3,), IGNORE), soft, 0.5)
    assert torch.isfinite(only) and torch.isclose(only, 0.5 * teacher)
