"""The embedded tantivy store: persistence, the cross-process writer lock, and recovery after a killed writer.

(Search behaviour shared with Elasticsearch is covered by tests/integration/test_hitstore.py.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.records import Category, Hit, HitStatus, ModelInfo, Post, Verdict
from core.settings import Settings
from indexer import open_store
from indexer.base import HitStore, SearchQuery
from indexer.segment import char_tokens, index_words, normalise, query_words
from indexer.tantivy_store import IndexLockedError, TantivyHitStore

ROOT = Path(__file__).resolve().parents[2]


def hit(i: int, text: str = "专业征信修复 停息挂账") -> Hit:
    post = Post(platform="douyin", post_id=str(i), text=text, published_at=datetime(2024, 1, 1, tzinfo=timezone.utc))
    verdict = Verdict(
        label="lead_gen", score=0.9, category=Category.credit_repair, model=ModelInfo(name="t", version="1")
    )
    return Hit(post=post, verdict=verdict)


# A child process that commits `committed` hits, then writes forever without committing until it is killed.
CHILD = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from tests.unit.test_tantivy_store import hit
    from indexer.tantivy_store import TantivyHitStore

    store = TantivyHitStore({path!r})
    store.upsert(hit(i) for i in range({committed}))
    print("committed", flush=True)

    def forever():
        i = 10_000
        while True:
            yield hit(i)
            i += 1
            if i == 10_200:
                print("writing", flush=True)
            if i > 10_200:
                time.sleep(0.01)

    store.upsert(forever())
    """
)


def start_child(path: Path, committed: int) -> subprocess.Popen[str]:
    code = CHILD.format(root=str(ROOT), path=str(path), committed=committed)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "committed"
    assert child.stdout.readline().strip() == "writing"
    return child


def test_reopens_with_what_was_committed(tmp_path: Path) -> None:
    store = TantivyHitStore(tmp_path / "ix")
    assert isinstance(store, HitStore)
    first, second = hit(1), hit(2)
    store.upsert([first, second])
    store.close()
    again = TantivyHitStore(tmp_path / "ix")
    assert again.count() == 2
    assert again.get("douyin:1") == first
    assert again.keys() == {"douyin:1", "douyin:2"}


def test_killed_writer_leaves_last_commit_and_a_usable_index(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    child = start_child(path, committed=50)
    try:
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    store = TantivyHitStore(path, lock_timeout=5)
    assert store.count() == 50  # nothing of the uncommitted batch is visible
    assert store.search(SearchQuery(text="征信", limit=100)).total == 50
    # The writer lock died with the process: a new writer gets it and commits.
    assert store.upsert([hit(1000)]) == 1
    assert store.count() == 51
    assert store.set_status(["douyin:3"], HitStatus.confirmed) == 1


def test_one_writer_per_index_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    child = start_child(path, committed=3)
    try:
        blocked = TantivyHitStore(path, lock_timeout=0.5)
        with pytest.raises(IndexLockedError):
            blocked.upsert([hit(99)])
        assert blocked.count() == 3  # readers are never blocked by a writer
    finally:
        child.terminate()
        child.wait(timeout=30)
    assert TantivyHitStore(path, lock_timeout=5).upsert([hit(99)]) == 1


def test_open_store_picks_tantivy_without_elasticsearch(tmp_path: Path) -> None:
    store = open_store(Settings(home=tmp_path, elasticsearch_url=None))
    assert isinstance(store, TantivyHitStore)
    assert store.path.is_relative_to(tmp_path)
    store.upsert([hit(1)])
    assert open_store(Settings(home=tmp_path, elasticsearch_url=None)).count() == 1


def test_failed_batch_is_rolled_back(tmp_path: Path) -> None:
    store = TantivyHitStore(tmp_path / "ix")
    store.upsert([hit(1)])

    def broken():  # type: ignore[no-untyped-def]
        yield hit(2)
        raise RuntimeError("classifier crashed mid-batch")

    with pytest.raises(RuntimeError):
        store.upsert(broken())
    assert store.keys() == {"douyin:1"}
    assert store.upsert([hit(3)]) == 1  # the lock was released


# -- segmentation ------------------------------------------------------------------------------------------


def test_search_mode_indexes_the_parts_of_agency_terms() -> None:
    words = index_words("专业征信修复，停息挂账，反催收")
    assert {"征信", "修复", "征信修复", "停息挂账", "反催收"} <= set(words)
    assert query_words("征信修复") == ["征信修复"]  # precise mode keeps the lexicon term whole


def test_normalise_folds_width_case_and_invisible_junk() -> None:
    assert normalise("Ｖ\u200bＸ１２３\ufeff") == "vx123"
    assert index_words("征\u200d信") == ["征信"]


def test_char_tokens_match_the_standard_analyzer_shape() -> None:
    assert char_tokens("加V信: Abc_12 征信!") == ["加", "v", "信", "abc", "12", "征", "信"]
    assert char_tokens("") == []


def test_reports_posts_segmented_with_another_dictionary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = TantivyHitStore(tmp_path / "ix")
    store.upsert([hit(1), hit(2)])
    assert not store.stale_segmentation
    # The lexicon changed after indexing: the words field no longer matches how queries are segmented.
    monkeypatch.setattr("indexer.tantivy_store.dictionary_fingerprint", lambda: "another-dictionary")
    assert store.stale_segmentation
    monkeypatch.setattr("indexer.document.dictionary_fingerprint", lambda: "another-dictionary")
    store.upsert([hit(1)])
    assert store.stale_segmentation  # douyin:2 still has the old segmentation
    store.upsert([hit(2)])
    assert not store.stale_segmentation


def test_an_index_of_an_older_schema_is_rebuilt_from_its_stored_hits(tmp_path: Path) -> None:
    """Indexes written before author/contact/kind were fields open as before, with those fields searchable."""
    import tantivy

    from core.records import ContactMatch

    old = tantivy.SchemaBuilder()
    old.add_text_field("key", stored=False, fast=True, tokenizer_name="raw", index_option="basic")
    old.add_text_field("words", stored=False, tokenizer_name="whitespace", index_option="freq")
    old.add_bytes_field("hit", stored=True)
    path = tmp_path / "hits"
    path.mkdir()
    index = tantivy.Index(old.build(), path=str(path))
    writer = index.writer(15_000_000, 1)
    kept = [hit(i) for i in range(3)]
    kept[0] = kept[0].model_copy(
        update={
            "verdict": kept[0].verdict.model_copy(
                update={"contacts": (ContactMatch(type="wechat", value="QY8888", start=0, end=6),)}
            )
        }
    )
    for h in kept:
        doc = tantivy.Document()
        doc.add_text("key", h.key)
        doc.add_bytes("hit", h.model_dump_json().encode("utf-8"))
        writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    del index

    store = TantivyHitStore(path)
    assert store.keys() == {h.key for h in kept}
    assert store.get(kept[0].key) == kept[0]
    found = store.search(SearchQuery(text="contact:qy8888 征信"))
    assert [h.key for h in found.hits] == [kept[0].key]
    assert not path.with_name("hits.migrating").exists() and not path.with_name("hits.retired").exists()
