"""Xiaohongshu parser on hand-written fixtures (no public recording exists)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.records import PostKind
from crawlers.extract import UnknownShape, parse, parse_file

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "platforms" / "xiaohongshu"
NOTE = "6560a1b2000000001c01aa02"


def test_search_cards_have_title_author_likes_but_no_time() -> None:
    posts = parse_file("xiaohongshu", FIX / "search_notes.json")
    assert [p.post_id for p in posts] == ["6560a1b2000000001c01aa01", NOTE]  # hot_query card skipped
    first = posts[0]
    # The card's xsec_token stays in the URL: detail requests and takedown re-checks are refused without it.
    assert first.url == (
        "https://www.xiaohongshu.com/explore/6560a1b2000000001c01aa01?xsec_token=ABhandwrittenToken01%3D&xsec_source=pc_search"
    )
    assert first.text == "负债30万上岸经验｜协商还款全流程"
    assert (first.author_id, first.author_name) == ("5f00aa0000000000010bb001", "上岸的阿雅")
    assert first.metrics.likes == 11000
    assert first.published_at is None
    assert first.media == ("https://sns-webpic-qc.xhscdn.com/handwritten-cover1.jpg",)


def test_feed_detail() -> None:
    (post,) = parse_file("xiaohongshu", FIX / "feed.json")
    assert post.key == f"xiaohongshu:{NOTE}"
    assert post.kind is PostKind.post
    assert post.title == "征信洗白 三天出结果"
    assert post.text.startswith("征信洗白 三天出结果\n逾期记录可以消除")
    assert post.hashtags == ("征信修复", "征信")
    assert (post.metrics.likes, post.metrics.comments, post.metrics.collects, post.metrics.shares) == (23, 15, 7, 2)
    assert post.published_at == datetime(2023, 11, 24, 4, 26, 40, tzinfo=timezone.utc)


def test_comments_and_sub_comments() -> None:
    posts = parse_file("xiaohongshu", FIX / "comments.json")
    assert [p.post_id for p in posts] == [
        "c6560b00000000000270cc001",
        "c6560b00000000000270cc002",
        "c6560b00000000000270cc003",
    ]
    root, sub, other = posts
    assert root.parent_key == f"xiaohongshu:{NOTE}"
    assert sub.parent_key == "xiaohongshu:c6560b00000000000270cc001"
    assert sub.author_name == "信用修复顾问"
    assert other.metrics.likes == 12000
    assert all(p.url.endswith(NOTE) for p in posts)


def test_creator_notes() -> None:
    (post,) = parse_file("xiaohongshu", FIX / "user_posted.json")
    assert post.text == "个性化分期代办，成功率高"
    assert post.author_id == "5f00aa0000000000010bb002"


def test_explore_page_state_with_js_wrapper_and_undefined() -> None:
    (post,) = parse_file("xiaohongshu", FIX / "explore_page_state.js")
    assert post.key == "xiaohongshu:6560a1b2000000001c01aa04"
    assert post.text == "代理退保能退全额？\n保险退保全额退，专业团队帮你维权 #退保[话题]#"
    assert post.hashtags == ("退保",)
    assert (post.author_id, post.author_name) == ("5f00aa0000000000010bb003", "退保专家")
    assert post.metrics.collects == 10


def test_refusals_are_unknown_shape() -> None:
    with pytest.raises(UnknownShape, match="300012"):
        parse("xiaohongshu", '{"code": 300012, "success": false, "msg": "访问频次异常"}')
    with pytest.raises(UnknownShape, match="unknown response shape"):
        parse("xiaohongshu", '{"code": 0, "success": true, "data": {"foo": 1}}')


def test_feed_takes_the_token_from_the_note_url_it_was_requested_for() -> None:
    url = f"https://www.xiaohongshu.com/explore/{NOTE}?xsec_token=ABhandwrittenToken02%3D&xsec_source=pc_search"
    (post,) = parse_file("xiaohongshu", FIX / "feed.json", url)
    assert post.url == url
    assert post.media  # note images: what OCR reads
    (other,) = parse_file(
        "xiaohongshu", FIX / "feed.json", "https://www.xiaohongshu.com/explore/someothernote?xsec_token=X"
    )
    assert other.url == f"https://www.xiaohongshu.com/explore/{NOTE}"  # never another note's token


def test_hashtags_come_from_the_title_too() -> None:
    body = (
        (FIX / "feed.json")
        .read_text(encoding="utf-8")
        .replace('"title": "征信洗白 三天出结果"', '"title": "三天出结果 #征信洗白"')
    )
    (post,) = parse("xiaohongshu", body)
    assert post.hashtags == ("征信修复", "征信", "征信洗白")


def test_recheck_target_carries_the_token() -> None:
    from crawlers.spiders.xiaohongshu import note_ref

    (card, _) = parse_file("xiaohongshu", FIX / "search_notes.json")
    assert note_ref(card.url) == ("6560a1b2000000001c01aa01", "ABhandwrittenToken01=")
