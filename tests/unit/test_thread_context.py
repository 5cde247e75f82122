"""A comment is classified with the text of the post its thread hangs under (for the category, not the label)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from classifiers.base import ClassifyInput
from core.records import Category, Label, ModelInfo, Post, PostKind, Verdict
from core.settings import Settings
from indexer.tantivy_store import TantivyHitStore
from wiring.pipeline import index_posts, thread_texts

VIDEO = Post(platform="douyin", post_id="v1", text="停息挂账找我们，个性化分期", kind=PostKind.caption)
ROOT = Post(platform="douyin", post_id="c1", text="怎么联系", kind=PostKind.comment, parent_key="douyin:v1")
REPLY = Post(
    platform="douyin", post_id="c2", text="可以办的 qq:3785308883", kind=PostKind.comment, parent_key="douyin:c1"
)
ORPHAN = Post(platform="douyin", post_id="c9", text="可以办的", kind=PostKind.comment, parent_key="douyin:gone")


class RecordingClassifier:
    """Says lead_gen for everything and remembers what it was given."""

    def __init__(self) -> None:
        self.seen: list[ClassifyInput] = []

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(name="recording", version="0")

    def classify(self, items: Sequence[ClassifyInput]) -> list[Verdict]:
        self.seen.extend(items)
        return [
            Verdict(label=Label.lead_gen, score=0.9, category=Category.stop_interest, model=self.info) for _ in items
        ]


class DictStore:
    def __init__(self, posts: Sequence[Post]) -> None:
        self.posts = {p.key: p for p in posts}
        self.asked: list[str] = []

    def get_many(self, keys: Sequence[str]) -> list:
        self.asked.extend(keys)
        return [type("H", (), {"key": k, "post": self.posts[k]})() for k in keys if k in self.posts]


def test_reply_gets_the_video_text_through_the_root_comment() -> None:
    texts = thread_texts({p.key: p for p in (VIDEO, ROOT, REPLY, ORPHAN)}, DictStore([]))  # type: ignore[arg-type]
    assert texts == {ROOT.key: VIDEO.text, REPLY.key: VIDEO.text}  # the orphan's parent is nowhere: no context


def test_parent_found_in_the_index_when_not_in_the_batch() -> None:
    store = DictStore([VIDEO, ROOT])
    texts = thread_texts({REPLY.key: REPLY}, store)  # type: ignore[arg-type]
    assert texts == {REPLY.key: VIDEO.text}
    assert "douyin:c1" in store.asked and "douyin:v1" in store.asked


def test_index_posts_passes_the_thread_as_context(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    store = TantivyHitStore(tmp_path / "hits")
    first = RecordingClassifier()
    index_posts([VIDEO], settings=settings, store=store, classifier=first)
    assert first.seen[0].context is None  # a top-level post has no thread above it
    later = RecordingClassifier()
    index_posts([ROOT, REPLY], settings=settings, store=store, classifier=later)  # the video is only in the index
    assert {item.id: item.context for item in later.seen} == {ROOT.key: VIDEO.text, REPLY.key: VIDEO.text}
