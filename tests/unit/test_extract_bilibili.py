"""Bilibili parser: the real video page state plus hand-written search, view, creator and reply shapes."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.records import PostKind
from crawlers.extract import UnknownShape, parse, parse_file
from crawlers.extract.bilibili import aid_to_bvid, bvid_to_aid

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "platforms" / "bilibili"
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real"


def test_real_initial_state() -> None:
    if not REAL.is_dir():
        pytest.skip("shared real fixtures absent")
    (post,) = parse_file("bilibili", REAL / "bilibili" / "bili_statics_video_initial_state_BV1ZF411g7EZ.json")
    assert post.key == "bilibili:BV1ZF411g7EZ"
    assert post.url == "https://www.bilibili.com/video/BV1ZF411g7EZ"
    assert post.kind is PostKind.caption
    assert post.title == "《原神》PV短片——「雪霁逢椿」"
    assert post.text.startswith("《原神》PV短片——「雪霁逢椿」\n花开再艳，也终有一日须经受严冬的考验。\n")
    assert "\r" not in post.text
    assert (post.author_id, post.author_name) == ("401742377", "原神")
    assert post.published_at == datetime(2022, 4, 18, 4, 0, 31, tzinfo=timezone.utc)
    m = post.metrics
    assert (m.views, m.likes, m.comments, m.shares, m.collects) == (7080001, 669227, 44813, 207269, 243241)
    assert post.hashtags[:3] == ("原神", "手机游戏", "雪霁逢椿")


def test_av_bv_mapping_matches_the_real_pair() -> None:
    assert aid_to_bvid(298290791) == "BV1ZF411g7EZ"
    assert bvid_to_aid("BV1ZF411g7EZ") == 298290791
    assert bvid_to_aid(aid_to_bvid(1050000001)) == 1050000001


def test_search_strips_keyword_markup() -> None:
    posts = parse_file("bilibili", FIX / "search_type_video.json")
    assert [p.post_id for p in posts] == [aid_to_bvid(1050000001), aid_to_bvid(1050000002)]  # user card skipped
    ad, lawyer = posts
    assert ad.title == "信用卡停息挂账怎么办理？手把手教你"
    assert "<em" not in ad.text and "keyword" not in ad.text
    assert ad.hashtags == ("停息挂账", "信用卡", "债务")
    assert (ad.author_id, ad.author_name) == ("300000001", "债务规划师老张")
    assert (ad.metrics.views, ad.metrics.comments, ad.metrics.likes, ad.metrics.collects) == (15234, 87, 1200, 340)
    assert ad.media == ("https://i0.hdslb.com/bfs/archive/handwritten1.jpg",)
    assert lawyer.text.endswith("不需要找中介 & 不要交钱")
    assert lawyer.metrics.views == 13000


def test_view_api() -> None:
    (post,) = parse_file("bilibili", FIX / "view.json")
    assert post.post_id == aid_to_bvid(1050000001)
    assert "加V：lz_debt2023" in post.text
    assert post.hashtags == ("停息挂账", "信用卡")  # from `dynamic` when no tag list is served
    assert post.metrics.shares == 31


def test_creator_video_list() -> None:
    (post,) = parse_file("bilibili", FIX / "space_arc_search.json")
    assert post.post_id == "BV1aH4y1e711"
    assert post.published_at == datetime(2023, 11, 17, 5, 46, 40, tzinfo=timezone.utc)
    assert post.metrics.comments == 10


def test_replies_key_to_the_video_by_bvid() -> None:
    posts = parse_file("bilibili", FIX / "reply.json")
    video = aid_to_bvid(1050000001)
    assert [p.post_id for p in posts] == ["c190000000001", "c190000000002", "c190000000003"]
    root, sub, other = posts
    assert root.parent_key == f"bilibili:{video}"
    assert sub.parent_key == "bilibili:c190000000001"
    assert sub.hashtags == ("停息挂账",)
    assert root.url == f"https://www.bilibili.com/video/{video}#reply190000000001"
    assert other.metrics.likes == 300


def test_risk_control_code_is_unknown_shape() -> None:
    with pytest.raises(UnknownShape, match="-412"):
        parse_file("bilibili", FIX / "risk_control.json")
    with pytest.raises(UnknownShape, match="unknown response shape"):
        parse("bilibili", b'{"code": 0, "data": {"foo": []}}')


def test_deleted_video_parses_to_nothing() -> None:
    assert parse("bilibili", '{"code": 62002, "message": "稿件不可见", "ttl": 1}') == []
    assert parse("bilibili", '{"code": -404, "message": "啥都木有", "ttl": 1}') == []


# --- dynamics (动态) and comments the way the web client fetches them now (x/v2/reply/wbi/main)


def test_dynamics_feed_space() -> None:
    posts = parse_file("bilibili", FIX / "dynamic_feed_space.json")
    assert [p.key for p in posts] == [
        "bilibili:t1010000000000000001",
        "bilibili:t1010000000000000002",
        "bilibili:t1010000000000000009",
    ]
    opus, forward, orig = posts
    assert opus.title == "逾期上岸的三个办法"
    assert opus.text == "逾期上岸的三个办法\n第三个最有效：找专业团队协商，停息挂账分60期，v：jie_2026 #债务优化#"
    assert opus.url == "https://t.bilibili.com/1010000000000000001"
    assert (opus.author_id, opus.author_name) == ("3546000000000001", "负债规划阿杰")
    assert opus.published_at == datetime(2026, 1, 1, 4, 0, tzinfo=timezone.utc)
    assert opus.hashtags == ("信用卡逾期", "债务优化")
    assert (opus.metrics.likes, opus.metrics.comments, opus.metrics.shares) == (88, 12, 3)
    assert opus.media == ("https://i0.hdslb.com/bfs/new_dyn/handwritten-dyn1.jpg",)
    assert forward.text == "需要的私信，名额有限"
    assert orig.title == "信用卡协商还款的正规渠道" and "银行官方热线" in orig.text and orig.author_name == "财经早知道"
    assert orig.media == ("https://i0.hdslb.com/bfs/archive/handwritten-cover.jpg",)


def test_dynamic_detail_and_its_comments() -> None:
    (post,) = parse_file("bilibili", FIX / "dynamic_detail.json")
    assert post.key == "bilibili:t1010000000000000004" and post.text.startswith("征信花了？")
    url = "https://t.bilibili.com/1010000000000000004"
    root, sub = parse_file("bilibili", FIX / "reply_wbi_main_dynamic.json", url)
    assert root.parent_key == "bilibili:t1010000000000000004"
    assert sub.parent_key == "bilibili:c250000000001"
    assert root.url == "https://t.bilibili.com/1010000000000000004#reply250000000001"
    # Without the dynamic's URL a type-17 comment cannot name its parent, and never a made-up video.
    alone = parse_file("bilibili", FIX / "reply_wbi_main_dynamic.json")
    assert alone[0].parent_key is None and alone[0].url == ""


def test_hostile_dynamics_survive() -> None:
    assert (
        parse(
            "bilibili",
            b'{"code": 0, "data": {"has_more": false, "offset": "", "items": [null, 3, {"id_str": "1", "modules": {"module_dynamic": {"major": {"opus": {"pics": [null, {"url": 5}]}}}}}]}}',
        )[0].media
        == ()
    )
