"""Weibo parser: the real getIndex user timeline plus hand-written search, detail, comment and long-text shapes."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.records import PostKind
from crawlers.extract import UnknownShape, parse, parse_file
from crawlers.extract.weibo import long_text_ids

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "platforms" / "weibo"
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real"
REAL_LIST = REAL / "weibo" / "nonebot-bison_weibo_getIndex_user_list_0.json"
NOW = datetime(2023, 11, 21, 12, 0, tzinfo=timezone.utc)
MID = "4970000000000001"


def test_real_user_timeline() -> None:
    if not REAL.is_dir():
        pytest.skip("shared real fixtures absent")
    posts = parse_file("weibo", REAL_LIST)
    assert len(posts) == 10
    first = posts[0]
    assert first.key == "weibo:4645748019299849"
    assert first.url == "https://m.weibo.cn/detail/4645748019299849"
    assert first.kind is PostKind.post
    assert (first.author_id, first.author_name) == ("6279793937", "明日方舟Arknights")
    assert first.published_at == datetime(2021, 6, 8, 1, 35, 4, tzinfo=timezone.utc)  # "Tue Jun 08 09:35:04 +0800"
    assert (first.metrics.shares, first.metrics.comments, first.metrics.likes) == (9079, 2126, 37053)
    assert first.text.startswith("#明日方舟# #音律联觉#\n2021明日方舟音律联觉")
    assert first.hashtags[:2] == ("明日方舟", "音律联觉")
    assert all("<" not in p.text and "全文" not in p.text[-4:] for p in posts)
    lottery = next(p for p in posts if p.post_id == "4648806186747944")
    assert lottery.text.startswith("恭喜@黄防护服黄 等10名用户获得【音律联觉主题黑胶礼盒各一套】")


def test_real_long_text_ids() -> None:
    if not REAL.is_dir():
        pytest.skip("shared real fixtures absent")
    ids = long_text_ids(REAL_LIST.read_bytes())
    assert "4645748019299849" in ids and "4649031014551911" in ids
    assert "4648806186747944" not in ids  # isLongText false
    assert len(ids) == 6


def test_search_container_with_card_groups_reposts_and_relative_times() -> None:
    posts = parse_file("weibo", FIX / "search_getindex.json", now=NOW)
    assert [p.post_id for p in posts] == [MID, "4970000000000002", "4969999999999999", "4970000000000003"]
    ad, repost, original, diary = posts
    assert ad.text == "#停息挂账# 信用卡逾期找我们，专业协商[心]，V：tx88&99"  # truncated, 全文 link dropped
    assert ad.hashtags == ("停息挂账",)
    assert ad.metrics.likes == 11000
    assert ad.published_at == datetime(2023, 11, 21, 11, 55, tzinfo=timezone.utc)  # 5分钟前
    assert repost.text == "转发理由：大家注意\n别上当"
    assert repost.published_at == datetime(2023, 11, 20, 13, 5, tzinfo=timezone.utc)  # 昨天 21:05
    assert original.published_at == datetime(2022, 11, 19, 2, 0, tzinfo=timezone.utc)
    assert original.media == ("https://wx1.sinaimg.cn/orj360/handwritten1.jpg",)
    assert diary.published_at == datetime(2023, 11, 19, 16, 0, tzinfo=timezone.utc)  # 11-20
    assert long_text_ids((FIX / "search_getindex.json").read_bytes()) == [MID]


def test_long_text_supersedes_by_key() -> None:
    (full,) = parse_file("weibo", FIX / "longtext.json", f"https://m.weibo.cn/statuses/extend?id={MID}")
    assert full.key == f"weibo:{MID}"
    assert full.text.splitlines() == [
        "#停息挂账# 信用卡逾期找我们，专业协商",
        "停息挂账、个性化分期、减免违约金",
        "V：tx88&99，备注微博",
    ]
    with pytest.raises(UnknownShape, match="without an id"):
        parse_file("weibo", FIX / "longtext.json")


def test_statuses_show_and_detail_page() -> None:
    (show,) = parse_file("weibo", FIX / "statuses_show.json")
    assert show.published_at == datetime(2023, 11, 20, 10, 30, tzinfo=timezone.utc)
    assert show.metrics.likes == 11000
    (page,) = parse_file("weibo", FIX / "detail_page.html")
    assert page.key == "weibo:4970000000000009"
    assert page.text == "征信有问题？#征信修复# 内部渠道处理，不成功不收费"
    assert page.author_name == "信用管家"


def test_hotflow_comments_and_child_replies() -> None:
    url = f"https://m.weibo.cn/comments/hotflow?id={MID}&mid={MID}&max_id_type=0"
    root, reply, other = parse_file("weibo", FIX / "hotflow.json", url)
    assert root.kind is PostKind.comment and root.post_id == "c4970000000100001"
    assert root.parent_key == f"weibo:{MID}"
    assert root.text == "怎么收费[疑问]"
    assert reply.parent_key == "weibo:c4970000000100001"
    assert reply.text == "回复@网友A:私信发你"
    assert other.metrics.likes == 15000
    assert root.url == f"https://m.weibo.cn/detail/{MID}"
    (child,) = parse_file("weibo", FIX / "hotflow_child.json")
    assert child.parent_key == "weibo:c4970000000100001"


def test_login_wall_and_garbage() -> None:
    with pytest.raises(UnknownShape, match="ok=-100"):
        parse_file("weibo", FIX / "login_required.json")
    with pytest.raises(UnknownShape, match="truncated"):
        parse("weibo", '<script>var $render_data = [{"status": {"mid": "1"')
    assert parse("weibo", '{"ok": 0, "msg": "这里还没有内容"}') == []


def test_deleted_post_parses_to_nothing() -> None:
    assert parse("weibo", '{"ok": 0, "msg": "抱歉，此微博已被作者删除"}') == []
    assert parse("weibo", '{"ok": 0, "errno": "20101", "msg": "该微博不存在"}') == []


def test_saved_extend_response_names_its_post_and_completes_the_truncated_one() -> None:
    from crawlers.extract.weibo import merge_long_texts

    (alone,) = parse_file("weibo", FIX / "extend_saved.json")  # no request URL: the id is in the JSON
    assert alone.key == f"weibo:{MID}" and alone.author_id is None
    assert alone.text.endswith("V：tx88&99，备注微博")
    truncated = parse_file("weibo", FIX / "search_getindex.json", now=NOW)
    merged = merge_long_texts([*truncated, alone])
    assert [p.key for p in merged] == [p.key for p in truncated]  # folded into the truncated post, order kept
    full = merged[0]
    assert full.text == alone.text
    assert (full.author_id, full.author_name) == ("7000000001", "协商还款指导中心")
    assert full.published_at == datetime(2023, 11, 21, 11, 55, tzinfo=timezone.utc)
    assert "停息挂账" in full.hashtags


def test_relative_dates_never_come_from_the_wall_clock_when_a_time_is_given() -> None:
    old = datetime(2024, 7, 10, 4, 0, tzinfo=timezone.utc)
    posts = parse_file("weibo", FIX / "search_getindex.json", now=old)
    assert posts[0].published_at == datetime(2024, 7, 10, 3, 55, tzinfo=timezone.utc)  # 5分钟前
    assert posts[3].published_at is not None and posts[3].published_at.year == 2023  # "11-20" seen in July 2024


def test_spiders_read_dates_against_the_response_date_header() -> None:
    from scrapy.http import HtmlResponse

    from crawlers.spiders.platform_base import response_time

    dated = HtmlResponse("https://m.weibo.cn/x", headers={"Date": "Wed, 10 Jul 2024 04:00:00 GMT"}, body=b"")
    assert response_time(dated) == datetime(2024, 7, 10, 4, 0, tzinfo=timezone.utc)
    assert response_time(HtmlResponse("https://m.weibo.cn/x", body=b"")) is None
    assert response_time(HtmlResponse("https://m.weibo.cn/x", headers={"Date": "garbage"}, body=b"")) is None
