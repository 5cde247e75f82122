"""Baselines the BERT must beat: character n-gram TF-IDF + logistic regression, and the naive keyword filter.

Run: `.venv/bin/python -m classifiers.train.baselines [--n 20000] [--seed 1] [--cold 8000]` prints a Markdown
report per baseline on the hand-written development set.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from typing import Any

from classifiers.train.data import CATEGORIES, Example, load_cold, load_dev
from classifiers.train.metrics import TOPIC_WORDS, Report, choose_threshold, evaluate, fold

# The keyword filter's category guess: the first category whose words the post contains.
KEYWORD_CATEGORY: dict[str, tuple[str, ...]] = {
    "stop_interest": ("停息", "挂账", "个性化分期", "分期"),
    "credit_repair": ("征信", "洗白", "修复"),
    "anti_collection": ("催收", "通讯录"),
    "debt_optimisation": ("债务", "负债", "协商", "上岸", "网贷"),
    "surrender_agency": ("退保", "保险", "保单"),
    "complaint_agency": ("投诉", "维权"),
    "debt_mule_recruiting": ("背债", "白户"),
    "illegal_loan_broker": ("下款", "口子", "黑户", "空放", "贷款", "借款"),
    "document_forgery": ("病历", "贫困证明", "流水"),
}


# What a moderator would put in a naive block list: the agencies' own service words and the topic's core terms.
FILTER_KEYWORDS: tuple[str, ...] = (
    "停息挂账",
    "个性化分期",
    "停息",
    "征信修复",
    "洗白",
    "征信",
    "反催收",
    "催收",
    "债务优化",
    "债务重组",
    "协商还款",
    "逾期",
    "退保",
    "代理维权",
    "代理投诉",
    "投诉",
    "背债",
    "白户",
    "黑户",
    "空放",
    "下款",
    "病历",
    "贫困证明",
    "流水",
)


class KeywordFilter:
    """Flags any post containing a topic keyword: what a naive moderation filter does.

    Default list: FILTER_KEYWORDS (agency service words). `KeywordFilter(TOPIC_WORDS, name="keyword_filter_broad")`
    is the broad variant that flags every post on the topic.
    """

    def __init__(self, keywords: Sequence[str] = FILTER_KEYWORDS, name: str = "keyword_filter") -> None:
        self.keywords = tuple(keywords)
        self.name = name

    def fit(self, examples: Sequence[Example]) -> KeywordFilter:
        return self

    def predict_proba(self, texts: Sequence[str]) -> list[float]:
        folded = [fold(t) for t in texts]
        return [1.0 if any(k in t for k in self.keywords) else 0.0 for t in folded]

    def predict_category(self, texts: Sequence[str]) -> list[str | None]:
        out: list[str | None] = []
        for t in (fold(x) for x in texts):
            out.append(next((c for c, words in KEYWORD_CATEGORY.items() if any(w in t for w in words)), None))
        return out


class TfidfLogReg:
    """Char 1-4 gram TF-IDF + logistic regression for the label, and a second one for the category."""

    name = "tfidf_logreg"

    def __init__(self, max_features: int = 200_000, c: float = 4.0, seed: int = 0) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(
            analyzer="char", ngram_range=(1, 4), max_features=max_features, sublinear_tf=True, min_df=2
        )
        self.c = c
        self.seed = seed
        self.label_model: Any = None
        self.category_model: Any = None

    def fit(self, examples: Sequence[Example]) -> TfidfLogReg:
        from sklearn.linear_model import LogisticRegression

        x = self.vectorizer.fit_transform([ex.text for ex in examples])
        y = [ex.label_id for ex in examples]
        self.label_model = LogisticRegression(C=self.c, max_iter=2000, random_state=self.seed)
        self.label_model.fit(x, y)
        lead = [i for i, ex in enumerate(examples) if ex.is_lead_gen]
        self.category_model = LogisticRegression(C=self.c, max_iter=2000, random_state=self.seed)
        self.category_model.fit(x[lead], [CATEGORIES.index(examples[i].category) for i in lead])
        return self

    def predict_proba(self, texts: Sequence[str]) -> list[float]:
        assert self.label_model is not None, "fit first"
        return [float(p) for p in self.label_model.predict_proba(self.vectorizer.transform(list(texts)))[:, 1]]

    def predict_category(self, texts: Sequence[str]) -> list[str | None]:
        assert self.category_model is not None, "fit first"
        return [CATEGORIES[int(i)] for i in self.category_model.predict(self.vectorizer.transform(list(texts)))]


def evaluate_model(model: KeywordFilter | TfidfLogReg, dev: Sequence[Example], threshold: float = 0.5) -> Report:
    texts = [ex.text for ex in dev]
    scores = model.predict_proba(texts)
    labels = ["lead_gen" if s >= threshold else "benign" for s in scores]
    return evaluate(dev, labels, scores, model.predict_category(texts), threshold=threshold, name=model.name)


def run_baselines(
    train: Sequence[Example], dev: Sequence[Example], min_precision: float | None = None
) -> dict[str, Report]:
    """Fit each baseline on train and score it on dev (threshold 0.5; plus a dev-tuned threshold if asked)."""
    reports: dict[str, Report] = {}
    for kw in (KeywordFilter(), KeywordFilter(TOPIC_WORDS, name="keyword_filter_broad")):
        reports[kw.name] = evaluate_model(kw, dev)
    tfidf = TfidfLogReg().fit(train)
    reports[tfidf.name] = evaluate_model(tfidf, dev)
    if min_precision is not None:
        scores = tfidf.predict_proba([ex.text for ex in dev])
        t = choose_threshold(scores, [ex.label for ex in dev], min_precision)
        rep = evaluate_model(tfidf, dev, threshold=t)
        rep.name = f"{tfidf.name}@p{min_precision:.2f}"
        reports[rep.name] = rep
    return reports


def build_train(n: int, seed: int, cold: int) -> list[Example]:
    from classifiers.train.generate import generate

    train = generate(n, seed=seed)
    everyday = load_cold()
    if everyday and cold:
        everyday = random.Random(seed).sample(everyday, min(cold, len(everyday)))
        train += everyday
    return train


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cold", type=int, default=8000, help="COLD comments added as everyday negatives")
    ap.add_argument("--min-precision", type=float, default=None)
    args = ap.parse_args(argv)
    train = build_train(args.n, args.seed, args.cold)
    dev = load_dev()
    for rep in run_baselines(train, dev, args.min_precision).values():
        print(rep.to_markdown())


if __name__ == "__main__":
    main()
