"""The authored corpus: records follow the label guide, the split is by author, and training uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifiers.train.corpus import ROSTER_PATH, TEXTS_DIR, check, load_examples, load_roster

ROSTER = """
[authors.t1]
split = "train"
brief = "SMS ads and bank notices"

[authors.v1]
split = "dev"
brief = "comments"
"""


def record(author: str, n: int, text: str, label: str = "lead_gen", **fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": f"{author}-{n:04d}",
        "author": author,
        "text": text,
        "label": label,
        "category": "illegal_loan_broker" if label == "lead_gen" else None,
        "register": "sms",
        "platform": "sms",
        "script": "simplified",
        "obfuscation": [],
        "benign_kind": None if label == "lead_gen" else "bank",
        "pair": None,
    }
    return base | fields


def write_corpus(folder: Path, files: dict[str, list[dict[str, object]]]) -> Path:
    (folder / "texts").mkdir(parents=True)
    (folder / "authors.toml").write_text(ROSTER, encoding="utf-8")
    for author, rows in files.items():
        lines = [json.dumps(row, ensure_ascii=False) for row in rows]
        (folder / "texts" / f"{author}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(
        tmp_path / "corpus",
        {
            "t1": [
                record("t1", 1, "新口子 黑户可下 秒批3000"),
                record("t1", 2, "【招商银行】您可通过官方热线95555申请协商还款", "benign"),
                record("t1", 3, "新口子  黑户可下 秒批3000"),  # the same text with other spacing
            ],
            "v1": [record("v1", 1, "🐧 3623259758 可下款", register="comment", platform="douyin")],
        },
    )


def test_the_split_is_by_author_and_each_text_counts_once(corpus: Path) -> None:
    train = load_examples("train", corpus / "texts", corpus / "authors.toml")
    dev = load_examples("dev", corpus / "texts", corpus / "authors.toml")
    assert [ex.id for ex in train] == ["t1-0001", "t1-0002"]
    assert [ex.id for ex in dev] == ["v1-0001"]
    assert train[0].source == "authored" and train[0].author == "t1" and train[0].channel == "sms"
    assert train[1].difficulty == "hard_negative" and dev[0].kind == "comment"


def test_an_author_missing_from_the_roster_is_refused(corpus: Path) -> None:
    (corpus / "texts" / "x9.jsonl").write_text(json.dumps(record("x9", 1, "空放")) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="x9"):
        load_examples("train", corpus / "texts", corpus / "authors.toml")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"category": None}, "lead_gen needs a category"),
        ({"benign_kind": "victim"}, "lead_gen needs a category and no benign_kind"),
        ({"id": "zz-0001"}, "must start with its author"),
        ({"register": "tweet"}, "register"),
        ({"platform": "demo"}, "unknown platform"),
        ({"text": "  "}, "empty text"),
        ({"mood": "angry"}, "mood"),
    ],
)
def test_check_names_the_line_of_every_bad_record(tmp_path: Path, fields: dict[str, object], problem: str) -> None:
    path = tmp_path / "t1.jsonl"
    path.write_text(json.dumps(record("t1", 1, "空放 当天到账") | fields, ensure_ascii=False) + "\n", encoding="utf-8")
    problems = check([path])
    assert len(problems) == 1 and f"{path}:1" in problems[0] and problem in problems[0]


def test_check_finds_repeated_ids_and_texts(tmp_path: Path) -> None:
    path = tmp_path / "t1.jsonl"
    rows = [record("t1", 1, "空放 当天到账"), record("t1", 1, "办证 刻章"), record("t1", 2, "空放  当天到账")]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    problems = check([path])
    assert any("id t1-0001 repeated" in p for p in problems)
    assert any("t1-0002 repeats the text of t1-0001" in p for p in problems)


def test_the_committed_corpus_is_valid_and_its_dev_authors_are_apart() -> None:
    roster = load_roster(ROSTER_PATH)
    files = sorted(TEXTS_DIR.glob("*.jsonl"))
    assert files, "the corpus has texts"
    assert check(files) == []
    for path in files:
        assert path.stem in roster, f"{path.name} has no brief in authors.toml"
    train_authors = {ex.author for ex in load_examples("train")}
    dev_authors = {ex.author for ex in load_examples("dev")}
    assert dev_authors and train_authors and not train_authors & dev_authors


def test_a_dev_text_that_a_training_author_also_wrote_is_left_out_of_dev(corpus: Path) -> None:
    shared = record("v1", 2, "新口子黑户可下 秒批3000", register="listing", platform="web")
    with (corpus / "texts" / "v1.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(shared, ensure_ascii=False) + "\n")
    assert not [p for p in check(sorted((corpus / "texts").glob("*.jsonl"))) if "v1" in p]
    assert [ex.id for ex in load_examples("dev", corpus / "texts", corpus / "authors.toml")] == ["v1-0001"]


def test_the_data_card_describes_the_committed_corpus() -> None:
    from classifiers.train.corpus import CORPUS_DIR, data_card

    assert (CORPUS_DIR / "DATACARD.md").read_text(encoding="utf-8") == data_card(), (
        "regenerate it: python -m classifiers.train.corpus card"
    )


def test_check_wants_a_pair_to_be_one_text_of_each_label(tmp_path: Path) -> None:
    path = tmp_path / "t1.jsonl"
    rows = [
        record("t1", 1, "空放 当天到账", pair="t1-p001"),
        record("t1", 2, "有人发我“空放 当天到账”，骗子吧", "benign", pair="t1-p001", benign_kind="question"),
        record("t1", 3, "办证 刻章", pair="t1-p002"),
        record("t1", 4, "刻章 办证 电话", pair="t1-p002"),
        record("t1", 5, "黑户可下", pair="odd"),
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    problems = check([path])
    assert len(problems) == 2
    assert any("t1-p002" in p for p in problems) and any("pair odd" in p for p in problems)
