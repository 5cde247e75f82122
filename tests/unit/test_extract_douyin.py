"""Douyin parser: the real 2020 creator-feed recording plus hand-written search, detail and comment shapes."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.records import PostKind
from crawlers.extract import UnknownShape, parse, parse_file
from crawlers.extract.douyin import id_time

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "platforms" / "douyin"
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real"
REAL_FEED = REAL / "douyin" / "reactCnode_douyin_aweme_post_list_2020.json"


def test_real_creator_feed() -> None:
    if not REAL.is_dir():
        pytest.skip("shared real fixtures absent")
    posts = parse_file("douyin", REAL_FEED)
    assert len(posts) == 41
    assert len({p.key for p in posts}) == 41
    first = posts[0]
    assert first.key == "douyin:6839264343264218375"
    assert first.url == "https://www.douyin.com/video/6839264343264218375"
    assert first.kind is PostKind.caption
    assert first.text.startswith("原来在一个人身上耗尽所有感情后")
    assert (first.author_id, first.author_name) == ("61431549002", "Lx")
    assert (first.metrics.likes, first.metrics.comments, first.metrics.shares) == (50, 25, 0)
    assert first.metrics.views is None  # play_count 0 means hidden, not zero views
    # The 2020 feed has no create_time: the time comes from the id, a day before the response's extra.now.
    assert first.published_at == datetime(2020, 6, 17, 10, 38, 39, tzinfo=timezone.utc)
    now = datetime.fromtimestamp(1592483750, tz=timezone.utc)
    assert all(p.published_at is not None and p.published_at <= now for p in posts)
    by_id = {p.post_id: p for p in posts}
    assert by_id["6839230342612765959"].hashtags == ("深圳地铁",)
    # A mention entry (type 0, empty hashtag_name) is not a hashtag.
    assert by_id["6828153445799759116"].hashtags == ("换装", "对镜拍", "不良jk")
    assert by_id["6831524577835896068"].hashtags == ()
    assert by_id["6831524577835896068"].metrics.likes == 2073


def test_search_envelope_skips_non_video_cards() -> None:
    posts = parse_file("douyin", FIX / "search_general.json")
    assert [p.post_id for p in posts] == ["7301234567890123456", "7302345678901234567"]
    ad, bank = posts
    assert ad.hashtags == ("停息挂账", "信用卡逾期")
    assert ad.author_name == "债务规划小王"
    assert ad.published_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert (ad.metrics.likes, ad.metrics.collects) == (1203, 40)
    assert ad.media == ("https://p3-pc.douyinpic.com/obj/handwritten-cover-1.jpeg",)
    assert bank.title == "银行官方：如何申请个性化分期"
    assert bank.text == "银行官方：如何申请个性化分期\n正规渠道请拨打发卡行客服，谨防代理机构收费"
    assert bank.metrics.likes == 12000  # "1.2万"
    assert bank.published_at == datetime(2023, 11, 16, 2, 0, tzinfo=timezone.utc)


def test_detail() -> None:
    (post,) = parse_file("douyin", FIX / "detail.json")
    assert post.key == "douyin:7303456789012345678"
    assert "黑户可做" in post.text
    assert post.hashtags == ("贷款", "征信修复")
    assert post.metrics.views == 5400


def test_comments_with_inline_replies() -> None:
    posts = parse_file("douyin", FIX / "comments.json")
    assert [p.post_id for p in posts] == ["c7303500000000000001", "c7303500000000000002", "c7303500000000000003"]
    root, reply, other = posts
    assert all(p.kind is PostKind.comment for p in posts)
    assert root.parent_key == "douyin:7303456789012345678"
    assert reply.parent_key == "douyin:c7303500000000000001"
    assert reply.text == "看主页，V信在简介"
    assert reply.url == "https://www.douyin.com/video/7303456789012345678"
    assert other.metrics.likes == 15000  # "1.5w"
    assert root.published_at == datetime(2023, 11, 18, 9, 50, tzinfo=timezone.utc)


def test_reply_page_points_at_its_root_comment() -> None:
    (reply,) = parse_file("douyin", FIX / "comment_replies.json")
    assert reply.parent_key == "douyin:c7303500000000000001"
    assert reply.author_name == "路人乙"


def test_id_time_rejects_non_time_ids() -> None:
    assert id_time("12345") is None
    assert id_time("not-a-number") is None


def test_unknown_and_truncated() -> None:
    with pytest.raises(UnknownShape, match="unknown response shape"):
        parse("douyin", b'{"status_code": 0, "user": {}}')
    body = (FIX / "detail.json").read_bytes()
    with pytest.raises(UnknownShape, match="truncated"):
        parse("douyin", body[: len(body) // 2])
