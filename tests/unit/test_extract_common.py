"""Shared parser helpers, the registry, soft-block detection and hostile input across all platform parsers."""

from __future__ import annotations

import importlib.util
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawlers.extract import NATIVE_PLATFORMS, PLATFORMS, UnknownShape, available_platforms, parse, parse_file
from crawlers.extract.common import (
    decode_html,
    detect_soft_block,
    hashtags_open,
    hashtags_paired,
    load_json,
    parse_count,
    parse_time,
    strip_html,
    strip_js_wrapper,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real"
NOW = datetime(2023, 11, 21, 12, 0, tzinfo=timezone.utc)  # 20:00 in China


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


# ----------------------------------------------------------------------------- counts


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (12, 12),
        ("12", 12),
        ("1,234", 1234),
        ("1.2万", 12000),
        ("3.4w", 34000),
        ("10万+", 100000),
        ("1亿", 100000000),
        ("2.5k", 2500),
        ("1.2\u200b万", 12000),
        (" 7 ", 7),
        ("", None),
        ("-", None),
        ("暂无", None),
        (None, None),
        (True, None),
        (-3, None),
        (3.0, 3),
    ],
)
def test_parse_count(raw: object, expected: int | None) -> None:
    assert parse_count(raw) == expected


# ----------------------------------------------------------------------------- times


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Sat Nov 19 10:00:00 +0800 2022", utc(2022, 11, 19, 2, 0)),
        (1700000000, utc(2023, 11, 14, 22, 13, 20)),
        (1700000000000, utc(2023, 11, 14, 22, 13, 20)),
        ("1700000000", utc(2023, 11, 14, 22, 13, 20)),
        ("刚刚", NOW),
        ("5分钟前", utc(2023, 11, 21, 11, 55)),
        ("3小时前", utc(2023, 11, 21, 9, 0)),
        ("2天前", utc(2023, 11, 19, 12, 0)),
        ("昨天 12:00", utc(2023, 11, 20, 4, 0)),
        ("今天 08:30", utc(2023, 11, 21, 0, 30)),
        ("前天 23:59", utc(2023, 11, 19, 15, 59)),
        ("2024-08-05 16:45", utc(2024, 8, 5, 8, 45)),
        ("2024-08-05", utc(2024, 8, 4, 16, 0)),
        ("2023年11月20日 10:00", utc(2023, 11, 20, 2, 0)),
        ("2023-11-20T10:00:00Z", utc(2023, 11, 20, 10, 0)),
        ("2023-11-20T10:00:00+08:00", utc(2023, 11, 20, 2, 0)),
        ("11-20", utc(2023, 11, 19, 16, 0)),
        ("12-30", utc(2022, 12, 29, 16, 0)),  # this year's 12-30 is still ahead of "now", so it is last year's
        ("7-6 12:30", utc(2023, 7, 6, 4, 30)),
        ("2014-03", utc(2014, 2, 28, 16, 0)),
        ("19:30", utc(2023, 11, 21, 11, 30)),
        ("23:00", utc(2023, 11, 20, 15, 0)),  # later than now: yesterday
        ("not a time", None),
        ("", None),
        (None, None),
        ("99999999999999999999", None),
        ("2023-13-45 99:99", None),
    ],
)
def test_parse_time(raw: object, expected: datetime | None) -> None:
    got = parse_time(raw, NOW)
    assert got == expected
    if got is not None:
        assert got.utcoffset().total_seconds() == 0


# ----------------------------------------------------------------------------- text


def test_strip_html_keeps_emoticons_and_breaks() -> None:
    markup = (
        'a<span class="url-icon"><img alt=[心] src="x.png" /></span>b<br />c &amp; d<script>evil()</script><p>e</p>'
    )
    assert strip_html(markup) == "a[心]b\nc & d\ne"
    assert strip_html("<em class='keyword'>停息挂账</em>怎么办") == "停息挂账怎么办"
    assert strip_html("<a href='x'") == ""  # broken markup never raises
    assert strip_html("月入<5000也能下款 3 < 5") == "月入<5000也能下款 3 < 5"
    assert strip_html(None) == ""


def test_hashtags() -> None:
    assert hashtags_paired("#停息挂账# 信用卡 #征信修复[话题]# #征信[话题]#") == ["停息挂账", "征信修复", "征信"]
    assert hashtags_open("私信我 #停息挂账 #信用卡逾期#网贷") == ["停息挂账", "信用卡逾期", "网贷"]


# ----------------------------------------------------------------------------- JSON loading


def test_load_json_unwraps_page_state_and_jsonp() -> None:
    assert load_json('window.__INITIAL_STATE__={"a":undefined,"b":[1]};(function(){})()') == {"a": None, "b": [1]}
    assert load_json('callback_123({"ok":1})') == {"ok": 1}
    assert load_json('\ufeff{"ok": 1}'.encode()) == {"ok": 1}
    assert strip_js_wrapper("var $x = [1];") == "[1];"


@pytest.mark.parametrize("body", [b"", b"   ", b'{"data": {"items": [1, 2', b'{"a": "unterminated'])
def test_load_json_truncated_or_empty_is_unknown_shape(body: bytes) -> None:
    with pytest.raises(UnknownShape, match=r"truncated|empty"):
        load_json(body)


def test_load_json_garbage_names_the_problem() -> None:
    with pytest.raises(UnknownShape, match="not JSON"):
        load_json(b"<html><body>502 Bad Gateway</body></html>")


def test_decode_html_handles_gbk_declared_and_undeclared() -> None:
    page = '<html><head><meta charset="gbk"></head><body>停息挂账</body></html>'
    assert "停息挂账" in decode_html(page.encode("gbk"))
    undeclared = page.replace("gbk", "utf-8").encode("gbk")  # lies about its charset
    assert "停息挂账" in decode_html(undeclared)


# ----------------------------------------------------------------------------- soft blocks


@pytest.mark.parametrize(
    ("platform", "status", "body", "expected", "reason_part"),
    [
        ("xiaohongshu", 461, b'{"code": 461}', True, "461"),
        ("douyin", 406, b"", True, "406"),
        ("douyin", 200, b"", True, "empty-200"),
        ("douyin", 200, "\u200b\ufeff \n".encode(), False, "empty-200"),
        ("weibo", 200, '{"ok":0,"msg":"访问频次异常"}'.encode(), False, "访问频次异常"),
        ("tieba", 200, "<html><title>百度安全验证</title></html>".encode(), False, "captcha"),
        ("douyin", 200, b'{"status_code":0,"verify_type":"verify_slide"}', True, "verify"),
        ("weibo", 200, b'{"ok":-100,"url":"https://passport.weibo.com/sso/signin?entry=wapsso"}', True, "login"),
        ("bilibili", 200, b'{"code":-412,"message":"request was banned"}', True, "-412"),
        ("douyin", 200, b'{"status_code":0,"aweme_list":[],"has_more":0}', True, "empty list"),
        ("kuaishou", 200, b'{"data":{"visionSearchPhoto":{"result":1,"feeds":[]}}}', True, "empty list"),
        ("zhihu", 200, b'{"data":[],"paging":{"is_end":true}}', True, "empty list"),
        ("douyin", 429, b"slow down", False, "429"),
    ],
)
def test_detect_soft_block_reports_blocks(
    platform: str, status: int, body: bytes, expected: bool, reason_part: str
) -> None:
    reason = detect_soft_block(platform, status, body, expected)
    assert reason is not None and reason_part in reason


@pytest.mark.parametrize(
    ("platform", "body", "expected"),
    [
        ("douyin", b'{"status_code":0,"aweme_list":[],"has_more":0}', False),  # a genuinely empty creator page
        ("kuaishou", b'{"data":{"visionSearchPhoto":{"result":1,"feeds":[{"photo":{"id":"x"}}]}}}', True),
        ("bilibili", b'{"code":0,"data":{"result":[{"bvid":"BV1xx411c7mD"}]}}', True),
        ("tieba", "<html><div class='s_post'>停息挂账</div></html>".encode(), True),
    ],
)
def test_detect_soft_block_passes_genuine_answers(platform: str, body: bytes, expected: bool) -> None:
    assert detect_soft_block(platform, 200, body, expected) is None


@pytest.mark.parametrize(
    ("platform", "relpath"),
    [
        ("douyin", "douyin/reactCnode_douyin_aweme_post_list_2020.json"),
        ("weibo", "weibo/nonebot-bison_weibo_getIndex_user_list_0.json"),
        ("bilibili", "bilibili/bili_statics_video_initial_state_BV1ZF411g7EZ.json"),
        ("tieba", "tieba/mediacrawler_search_keyword_notes.html"),
        ("tieba", "tieba/mediacrawler_tieba_note_list.html"),
    ],
)
def test_real_recordings_are_not_soft_blocks(platform: str, relpath: str) -> None:
    if not REAL.is_dir():
        pytest.skip("shared real fixtures absent")
    assert detect_soft_block(platform, 200, (REAL / relpath).read_bytes(), True) is None


# ----------------------------------------------------------------------------- registry


def test_registry_lists_platforms_and_rejects_unknown() -> None:
    assert NATIVE_PLATFORMS == ("douyin", "kuaishou", "xiaohongshu", "weibo", "bilibili", "zhihu", "tieba")
    has_demo = importlib.util.find_spec("crawlers.extract.demo") is not None
    assert ("demo" in available_platforms()) is has_demo
    assert PLATFORMS == available_platforms()
    with pytest.raises(ValueError, match="unknown platform"):
        parse("myspace", b"{}")


def test_parse_unknown_shape_has_clear_message() -> None:
    with pytest.raises(UnknownShape, match=r"douyin: unknown response shape \(keys: foo\)"):
        parse("douyin", b'{"foo": 1}')


def test_parse_file_reports_truncation_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "cut.json"
    bad.write_bytes(b'{"aweme_list": [{"aweme_id": "1"')
    with pytest.raises(UnknownShape, match=r"^douyin response: truncated JSON \(32 chars"):
        parse_file("douyin", bad)


def test_parse_file_strips_a_js_wrapper(tmp_path: Path) -> None:
    state = {"videoData": {"bvid": "BV1ZF411g7EZ", "aid": 298290791, "title": "t", "owner": {"mid": 1}}, "x": None}
    saved = tmp_path / "page_state.js"
    saved.write_text("window.__INITIAL_STATE__=" + json.dumps(state, ensure_ascii=False) + ";(function(){}());")
    (post,) = parse_file("bilibili", saved)
    assert post.key == "bilibili:BV1ZF411g7EZ"


# ----------------------------------------------------------------------------- hostile input, every platform


def _fixture_bodies() -> list[tuple[str, bytes]]:
    out = []
    for platform in NATIVE_PLATFORMS:
        for path in sorted((FIXTURES / platform).glob("*")):
            out.append((platform, path.read_bytes()))
    return out


@pytest.mark.parametrize(("platform", "body"), _fixture_bodies())
def test_truncated_fixtures_raise_unknown_shape_or_parse_cleanly(platform: str, body: bytes) -> None:
    # Cut at several points (also inside a multi-byte character): only UnknownShape or a clean list may come out.
    for cut in (len(body) // 3, len(body) // 2 + 1, len(body) - 7):
        try:
            posts = parse(platform, body[:cut], now=NOW)
        except UnknownShape as exc:
            assert platform in str(exc)
        else:
            assert all(p.post_id for p in posts)  # HTML pages may legitimately yield the complete items


@pytest.mark.parametrize("platform", NATIVE_PLATFORMS)
def test_missing_fields_and_wrong_types_do_not_crash(platform: str) -> None:
    junk = {
        "douyin": {"aweme_list": [{"aweme_id": "7300000000000000001", "desc": {"x": 1}, "author": "?"}, {}, None]},
        "kuaishou": {
            "data": {"visionSearchPhoto": {"result": 1, "feeds": [{"photo": {"id": "3x1", "caption": 5}}, 7]}}
        },
        "xiaohongshu": {"code": 0, "data": {"items": [{"id": "65600000000000000000aa01", "note_card": None}, "x"]}},
        "weibo": {
            "ok": 1,
            "data": {"cards": [{"card_type": 9, "mblog": {"mid": "4970000000000001", "text": None}}, 3]},
        },
        "bilibili": {"code": 0, "data": {"result": [{"type": "video", "aid": 2, "title": ["x"]}, None]}},
        "zhihu": {"data": [{"type": "answer", "id": 1, "content": None, "question": "?"}, 5]},
    }
    if platform == "tieba":
        posts = parse("tieba", '<div class="s_post"><span class="p_title"><a data-tid="1">t</a></span></div>', now=NOW)
    else:
        posts = parse(platform, json.dumps(junk[platform]), now=NOW)
    assert len(posts) == 1
    assert isinstance(posts[0].text, str)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(platform=st.sampled_from(NATIVE_PLATFORMS), body=st.binary(max_size=300) | st.text(max_size=300))
def test_random_bytes_only_ever_raise_unknown_shape(platform: str, body: bytes | str) -> None:
    try:
        posts = parse(platform, body, now=NOW)
    except UnknownShape:
        return
    assert isinstance(posts, list)


@pytest.mark.parametrize("platform", NATIVE_PLATFORMS)
def test_a_body_of_only_zero_width_junk_is_unknown_shape(platform: str) -> None:
    with pytest.raises(UnknownShape):
        parse(platform, "\ufeff\u200b\u200c\u2060".encode(), now=NOW)


@pytest.mark.parametrize(
    ("platform", "body"),
    [
        (
            "weibo",
            '{"ok":1,"data":{"cards":[{"card_type":9,"mblog":{"mid":"1","text":"别把验证码告诉别人，请登录官方App"}}]}}',
        ),
        ("douyin", '{"status_code":0,"aweme_list":[{"aweme_id":"1","desc":"访问频次异常？captcha 安全验证"}]}'),
        ("tieba", "<html><title>反诈吧</title><body>" + "正文" * 4000 + "验证码千万别给别人</body></html>"),
        ("douyin", '{"status_code":0,"aweme_list":[{"aweme_id":"1","desc":"验证码'),  # truncated: a fault, not a block
    ],
)
def test_block_words_inside_posts_are_not_blocks(platform: str, body: str) -> None:
    assert detect_soft_block(platform, 200, body.encode(), True) is None
