from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from core.records import Hit, Label, ModelInfo, Platform, Post, Verdict


def test_key_is_derived_from_platform_and_id():
    post = Post(platform="douyin", post_id=7123, text="x")
    assert post.key == "douyin:7123"
    assert post.post_id == "7123"


def test_key_cannot_be_forged_by_input():
    post = Post.model_validate({"key": "weibo:1", "platform": "douyin", "post_id": "2", "text": ""})
    assert post.key == "douyin:2"


def test_missing_post_id_is_rejected():
    with pytest.raises(ValidationError):
        Post(platform="douyin", post_id="", text="x")


def test_times_are_utc():
    shanghai = timezone(timedelta(hours=8))
    post = Post(
        platform=Platform.weibo, post_id="1", text="x", published_at=datetime(2026, 11, 1, 8, 0, tzinfo=shanghai)
    )
    assert post.published_at == datetime(2026, 11, 1, 0, 0, tzinfo=timezone.utc)
    naive = Post(platform="weibo", post_id="2", text="x", published_at=datetime(2026, 11, 1, 8, 0))
    assert naive.published_at.tzinfo is not None


def test_records_are_frozen_and_round_trip():
    verdict = Verdict(label=Label.lead_gen, score=0.9, model=ModelInfo(name="m", version="1"))
    hit = Hit(post=Post(platform="tieba", post_id="9", text="停息挂账"), verdict=verdict)
    with pytest.raises(ValidationError):
        hit.post.text = "changed"  # type: ignore[misc]
    again = Hit.model_validate_json(hit.model_dump_json())
    assert again == hit
    assert again.key == "tieba:9"


def test_score_bounds():
    with pytest.raises(ValidationError):
        Verdict(label="benign", score=1.5, model=ModelInfo(name="m", version="1"))
