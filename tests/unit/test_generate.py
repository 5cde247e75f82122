"""Generator determinism, variety and balance; the data record and loaders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from classifiers.train.data import CATEGORIES, Example, load_cold, load_dev, load_jsonl, save_jsonl
from classifiers.train.generate import generate
from classifiers.train.metrics import mentions_topic

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"


@pytest.fixture(scope="module")
def sample() -> list[Example]:
    return generate(3000, seed=7)


def test_same_seed_same_posts() -> None:
    assert [e.model_dump() for e in generate(300, seed=3)] == [e.model_dump() for e in generate(300, seed=3)]


def test_same_seed_same_posts_in_processes_with_different_hash_seeds() -> None:
    """make model runs in a fresh process each time: string hashing (set order) must not change the data."""
    code = (
        "import hashlib\nfrom classifiers.train.generate import generate\n"
        "print(hashlib.sha256('\\n'.join(e.text for e in generate(3000, 113)).encode()).hexdigest())"
    )
    root = Path(__file__).resolve().parents[2]
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for hash_seed in ("0", "1", "2")
    }
    assert len(digests) == 1


def test_different_seed_different_posts() -> None:
    a = {e.text for e in generate(300, seed=3)}
    b = {e.text for e in generate(300, seed=4)}
    assert len(a & b) < 60  # a few short comments ("已私") may repeat; the bulk must not


def test_texts_are_varied(sample: list[Example]) -> None:
    texts = [e.text for e in sample]
    assert len(set(texts)) / len(texts) > 0.85
    lead = [e.text for e in sample if e.is_lead_gen]
    # no single opening dominates: the first 8 characters of lead-gen posts are spread out
    top = Counter(t[:8] for t in lead).most_common(1)[0][1]
    assert top / len(lead) < 0.05


def test_label_balance_and_coverage(sample: list[Example]) -> None:
    share = sum(e.is_lead_gen for e in sample) / len(sample)
    assert 0.40 < share < 0.50
    assert {e.category for e in sample if e.is_lead_gen} == set(CATEGORIES)
    assert {e.kind for e in sample} == {"caption", "post", "comment", "profile_bio", "asr", "ocr"}
    assert len({e.platform for e in sample}) >= 7
    diffs = Counter(e.difficulty for e in sample)
    assert diffs["hard_negative"] > 0.3 * len(sample)
    assert diffs["obfuscated"] > 0.1 * len(sample)


def test_hard_negatives_use_topic_words(sample: list[Example]) -> None:
    hard = [e for e in sample if e.difficulty == "hard_negative"]
    assert all(e.label == "benign" and e.category is None for e in hard)
    assert sum(mentions_topic(e.text) for e in hard) / len(hard) > 0.9


def test_obfuscated_posts_record_their_operators(sample: list[Example]) -> None:
    obf = [e for e in sample if e.difficulty == "obfuscated"]
    assert obf and all(e.obfuscation and e.is_lead_gen for e in obf)
    assert len({op for e in obf for op in e.obfuscation}) == 9


def test_example_validation() -> None:
    with pytest.raises(ValueError):
        Example(id="x", text="t", label="lead_gen")  # lead_gen needs a category
    with pytest.raises(ValueError):
        Example(id="x", text="t", label="benign", category="credit_repair")
    with pytest.raises(ValueError):
        Example(id="x", text="t", label="benign", platform="myspace")


def test_jsonl_round_trip(tmp_path: Path) -> None:
    items = generate(50, seed=1)
    path = tmp_path / "sub" / "x.jsonl"
    save_jsonl(items, path)
    assert load_jsonl(path) == items
    path.write_text(path.read_text(encoding="utf-8") + '\n{"id": 1}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=":52:"):
        load_jsonl(path)


def test_dev_set_shape() -> None:
    dev = load_dev()
    assert len(dev) >= 400
    assert all(e.source == "dev_handwritten" for e in dev)
    assert len({e.id for e in dev}) == len(dev) and len({e.text for e in dev}) == len(dev)
    lead = [e for e in dev if e.is_lead_gen]
    assert 0.40 < len(lead) / len(dev) < 0.50
    per_cat = Counter(e.category for e in lead)
    assert set(per_cat) == set(CATEGORIES) and min(per_cat.values()) >= 15
    assert sum(1 for e in lead if e.obfuscation) >= 120
    hard = [e for e in dev if e.difficulty == "hard_negative"]
    assert len(hard) >= 150 and sum(mentions_topic(e.text) for e in hard) >= 150


def test_dev_set_not_copied_from_generator() -> None:
    gen = {e.text for e in generate(5000, seed=1)}
    assert not gen & {e.text for e in load_dev()}


def test_load_cold_missing_dir_returns_empty(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert load_cold(tmp_path) == []
    assert "not found" in caplog.text


def test_load_cold_reads_csv_with_bom(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "cold"
    folder.mkdir(parents=True)
    (folder / "train.csv").write_text(
        '\ufeff,split,topic,label,TEXT\n1,train,race,0,今天天气不错\n2,train,region,1,"有,逗号"\n', encoding="utf-8"
    )
    (folder / "test.csv").write_text(
        ",split,topic,label,fine-grained-label,TEXT\n9,test,gender,0,0,今天天气不错\n", encoding="utf-8"
    )
    got = load_cold(tmp_path)
    assert [e.text for e in got] == ["今天天气不错", "有,逗号"]  # the duplicate in test.csv is dropped
    assert all(e.label == "benign" and e.difficulty == "everyday" and e.source == "cold" for e in got)


def test_load_cold_real_data() -> None:
    if not (SHARED / "data" / "cold").is_dir():
        pytest.skip("shared COLD data absent")
    cold = load_cold(SHARED)
    assert len(cold) > 30000
    json.dumps(cold[0].model_dump())


def test_generated_posts_are_pinned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The phrase pools (classifiers/train/pools/*.toml) and the logic together write exactly these posts: a pool
    edited, reordered or read differently changes every model trained from a seed. The built-in homophones only,
    so the digest does not depend on the shared folder."""
    import hashlib

    from classifiers.train import obfuscate
    from classifiers.train.replies import everyday_replies

    monkeypatch.setattr(obfuscate, "_homophone_file", tmp_path / "no-table.json")

    def digest(examples: list[Example]) -> str:
        dumped = json.dumps([e.model_dump() for e in examples], ensure_ascii=False)
        return hashlib.sha256(dumped.encode()).hexdigest()

    assert digest(generate(3000, 13)) == "787648d767f1ee4895befeacaec1137a4bd0e5d93568b7c72df7cb6a1ccb800a"
    assert digest(everyday_replies(500, 213)) == "babc4ce23668172070f0ba05235228ede4f80400685d8b517b8c6eb4d25fe304"


def test_everyday_replies_are_seeded_benign_and_off_topic() -> None:
    from classifiers.train.replies import everyday_replies

    replies = everyday_replies(800, seed=5)
    assert [e.text for e in replies] == [e.text for e in everyday_replies(800, seed=5)]
    assert all(e.label == "benign" and e.category is None and e.difficulty == "everyday" for e in replies)
    kinds = Counter(e.kind for e in replies)
    assert set(kinds) == {"comment", "profile_bio"} and kinds["comment"] > 2 * kinds["profile_bio"]
    # the point of them: no finance topic words, and some bios carry a business contact
    assert not [e.text for e in replies if mentions_topic(e.text)]
    assert any(e.kind == "profile_bio" and ("V" in e.text or "@" in e.text) for e in replies)
    assert len({e.text for e in replies}) > 400
    assert not {e.text for e in replies} & {e.text for e in load_dev()}
