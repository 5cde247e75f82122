"""Kuaishou GraphQL parser on hand-written fixtures (no public recording exists)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.records import PostKind
from crawlers.extract import UnknownShape, parse, parse_file

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "platforms" / "kuaishou"
VIDEO_URL = "https://www.kuaishou.com/short-video/3xhandwrittenphoto01"


def test_search_feed() -> None:
    posts = parse_file("kuaishou", FIX / "search_photo.json")
    assert [p.key for p in posts] == ["kuaishou:3xhandwrittenphoto01", "kuaishou:3xhandwrittenphoto02"]
    ad = posts[0]
    assert ad.kind is PostKind.caption
    assert ad.url == VIDEO_URL
    assert (ad.author_id, ad.author_name) == ("3xhandwrittenauthor1", "专业债务优化")
    assert ad.hashtags == ("债务优化", "网贷逾期")
    assert ad.metrics.likes == 23012  # realLikeCount preferred over the rounded "2.3万"
    assert ad.metrics.views == 456000  # "45.6万"
    assert ad.published_at == datetime(2023, 11, 19, 13, 20, tzinfo=timezone.utc)  # ms epoch


def test_profile_feed() -> None:
    (post,) = parse_file("kuaishou", FIX / "profile_photo_list.json")
    assert post.text == "停息挂账最长60期，不成功不收费"
    assert post.metrics.views == 3560


def test_comments_need_the_video_url_for_their_parent() -> None:
    posts = parse_file("kuaishou", FIX / "comment_list.json", VIDEO_URL)
    assert [p.post_id for p in posts] == ["c800000000001", "c800000000002", "c800000000003"]
    root, sub, other = posts
    assert root.parent_key == "kuaishou:3xhandwrittenphoto01"
    assert sub.parent_key == "kuaishou:c800000000001"
    assert sub.text == "能，加薇 abc12345 详聊"
    assert other.metrics.likes == 11000  # "1.1w" when no realLikedCount
    unanchored = parse_file("kuaishou", FIX / "comment_list.json")
    assert unanchored[0].parent_key is None and unanchored[0].url == ""


def test_refused_search_is_not_an_empty_result() -> None:
    with pytest.raises(UnknownShape, match="result=2"):
        parse_file("kuaishou", FIX / "search_refused.json")


def test_graphql_errors_and_unknown_fields() -> None:
    with pytest.raises(UnknownShape, match="GraphQL errors"):
        parse("kuaishou", b'{"errors": [{"message": "need captcha"}], "data": null}')
    with pytest.raises(UnknownShape, match="unknown GraphQL response"):
        parse("kuaishou", b'{"data": {"visionLiveList": {}}}')


# --- REST endpoints (the web client's signed /rest/v/... calls since 2026), GraphQL above stays the fallback.


def test_rest_search_feed_camel_and_snake_items() -> None:
    posts = parse_file("kuaishou", FIX / "rest_search_feed.json")
    assert [p.key for p in posts] == [
        "kuaishou:3xrestphoto0001",
        "kuaishou:3xrestphoto0002",
    ]  # the live card is skipped
    ad, info = posts
    assert (ad.author_id, ad.author_name) == ("3xrestauthor01", "上岸规划师阿强")
    assert ad.hashtags == ("停息挂账", "个性化分期")
    assert (ad.metrics.likes, ad.metrics.views, ad.metrics.comments) == (12034, 305000, 318)
    assert ad.published_at == datetime(2026, 1, 1, 0, 0, tzinfo=timezone.utc)
    assert ad.media == ("https://p1.a.yximgs.com/upic/2026/01/01/rest1.jpg",)
    assert (info.author_id, info.author_name) == ("3xrestauthor02", "金融知识小课堂")
    assert (info.metrics.likes, info.metrics.views, info.metrics.comments) == (88, 5120, 7)
    assert info.media == ("https://p1.a.yximgs.com/upic/2026/01/01/rest2.jpg",)


def test_rest_comments_attach_sub_comments_to_their_root() -> None:
    url = "https://www.kuaishou.com/rest/v/photo/comment/list?photoId=3xrestphoto0001&pcursor="
    posts = parse_file("kuaishou", FIX / "rest_comment_list.json", url)
    assert [p.post_id for p in posts] == ["c910000000001", "c910000000002", "c910000000003", "c910000000004"]
    root, pitch, warning, camel = posts
    assert root.parent_key == "kuaishou:3xrestphoto0001"
    assert pitch.parent_key == warning.parent_key == "kuaishou:c910000000001"
    assert (pitch.author_id, pitch.author_name, pitch.text) == ("3002", "专业协商老周", "能，扣1 私你")
    assert root.metrics.comments == 2
    assert camel.metrics.likes == 11000 and camel.author_id == "3xcamel"
    assert pitch.url == "https://www.kuaishou.com/short-video/3xrestphoto0001"


def test_rest_sub_comment_page_names_its_root() -> None:
    (sub,) = parse_file(
        "kuaishou", FIX / "rest_comment_sublist.json", "https://www.kuaishou.com/short-video/3xrestphoto0001"
    )
    assert sub.parent_key == "kuaishou:c910000000001"
    assert sub.text == "加v dx2026 免费评估"


def test_rest_refusal_is_not_an_empty_result() -> None:
    with pytest.raises(UnknownShape, match="result=400002"):
        parse_file("kuaishou", FIX / "rest_refused.json")
    # Wrong types inside a known shape survive as nothing, never a crash.
    assert parse("kuaishou", b'{"result": 1, "feeds": {"not": "a list"}, "rootCommentsV2": 7}') == []
    assert parse("kuaishou", b'{"result": 1, "feeds": [{"photo": {"id": ["x"]}}, 5, null]}') == []
