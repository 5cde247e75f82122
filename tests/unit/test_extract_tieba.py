"""Tieba parser: the real search and forum-list pages plus a hand-written thread page (UTF-8 and GBK)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.records import PostKind
from crawlers.extract import UnknownShape, parse, parse_file

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "platforms" / "tieba"
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real"
# The forum page was fetched on 2024-08-10 (its image tokens say so); its short dates are read against that day.
FETCHED = datetime(2024, 8, 10, 12, 0, tzinfo=timezone.utc)
THREAD_URL = "https://tieba.baidu.com/p/9200000001"


def _real(name: str) -> Path:
    if not REAL.is_dir():
        pytest.skip("shared real fixtures absent")
    return REAL / "tieba" / name


def test_real_keyword_search_page() -> None:
    posts = parse_file("tieba", _real("mediacrawler_search_keyword_notes.html"))
    assert len(posts) == 10
    first = posts[0]
    assert first.key == "tieba:9117888152"
    assert first.url == "https://tieba.baidu.com/p/9117888152"
    assert first.title == "武汉交互空间科技：富士康10亿加码中国大陆，印度为何逐渐“失宠"
    assert "鸿海精密工业股份有限公司正式对外发布了一则重大投资公告" in first.text
    assert first.author_name == "VR虚拟达人"
    assert first.hashtags == ("武汉交互空间吧",)
    assert first.published_at == datetime(2024, 8, 5, 8, 45, tzinfo=timezone.utc)  # 2024-08-05 16:45 China time
    assert posts[1].author_name == "贴吧用户_GC64AUS"
    assert posts[5].hashtags == ("城市gdp吧", "城市GDP")


def test_real_forum_thread_list() -> None:
    posts = parse_file("tieba", _real("mediacrawler_tieba_note_list.html"), now=FETCHED)
    assert len(posts) == 48
    assert len({p.key for p in posts}) == 48
    first = posts[0]
    assert first.key == "tieba:9079949995"
    assert first.title == "盗墓笔记全集+txt小说，已整理"
    assert (first.author_id, first.author_name) == ("2121563791", "公子伯仲")
    assert first.metrics.comments == 18
    assert first.hashtags == ("盗墓笔记吧",)
    assert first.published_at == datetime(2024, 7, 5, 16, 0, tzinfo=timezone.utc)  # "7-6"
    by_id = {p.post_id: p for p in posts}
    assert by_id["2540926878"].author_name == "南派三叔"
    assert by_id["2540926878"].published_at == datetime(2014, 2, 28, 16, 0, tzinfo=timezone.utc)  # "2014-03"
    assert by_id["9121200532"].published_at == datetime(2024, 8, 9, 16, 10, tzinfo=timezone.utc)  # "00:10" today
    assert "#吴邪#" in by_id["9119398016"].text and "吴邪" in by_id["9119398016"].hashtags


def test_thread_detail_page() -> None:
    posts = parse_file("tieba", FIX / "thread_detail.html", THREAD_URL)
    assert [p.post_id for p in posts] == ["9200000001", "c150900000002", "c150900000003"]
    op, agent, regular = posts
    assert op.kind is PostKind.post and op.title == "信用卡逃不掉了，求助"
    assert op.text == "信用卡逃不掉了，求助\n欠了三家银行一共12万，\n每天都在被催收，有没有办法？"
    assert (op.author_id, op.author_name) == ("1900000001", "负债小透明")
    assert op.published_at == datetime(2023, 11, 20, 0, 30, tzinfo=timezone.utc)
    assert op.hashtags == ("信用卡吧",)
    assert agent.kind is PostKind.comment and agent.parent_key == "tieba:9200000001"
    assert agent.text == "可以办理停息挂账，[心]加q：12345678&详谈"
    assert agent.author_name == "专业协商停息"  # nickname preferred over an empty user_name
    assert agent.url == "https://tieba.baidu.com/p/9200000001?pid=150900000002#150900000002"
    assert regular.published_at == datetime(2023, 11, 21, 14, 47, tzinfo=timezone.utc)


@pytest.mark.parametrize("declared", ["UTF-8", "gbk"])
def test_gbk_encoded_thread_page(tmp_path: Path, declared: str) -> None:
    page = (FIX / "thread_detail.html").read_text(encoding="utf-8").replace('charset="UTF-8"', f'charset="{declared}"')
    saved = tmp_path / "thread_gbk.html"
    saved.write_bytes(page.encode("gbk"))
    posts = parse_file("tieba", saved, THREAD_URL)
    assert posts[0].text.endswith("每天都在被催收，有没有办法？")
    assert posts[1].author_name == "专业协商停息"


def test_verify_page_and_unknown_pages() -> None:
    with pytest.raises(UnknownShape, match="captcha"):
        parse_file("tieba", FIX / "verify_page.html")
    with pytest.raises(UnknownShape, match="unknown page"):
        parse("tieba", "<html><body>贴吧 404</body></html>")
    with pytest.raises(UnknownShape, match="empty"):
        parse("tieba", b"")


def test_mangled_pages_only_raise_unknown_shape() -> None:
    # Seeded byte-level damage (flipped bytes, cut runs, NUL bytes, broken attributes) once crashed lxml via parsel.
    import random

    rng = random.Random(11)
    page = (FIX / "thread_detail.html").read_bytes()
    for _ in range(300):
        data = bytearray(page)
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(len(data))
            if rng.random() < 0.5:
                data[pos] = rng.randrange(256)
            else:
                del data[pos : pos + rng.randint(1, 80)]
        try:
            posts = parse("tieba", bytes(data), THREAD_URL)
        except UnknownShape:
            continue
        assert all(p.post_id for p in posts)


def test_nul_bytes_are_dropped() -> None:
    page = (FIX / "thread_detail.html").read_text(encoding="utf-8").replace("欠了三家银行", "欠了\x00三家\x07银行")
    posts = parse("tieba", page.encode("utf-8"), THREAD_URL)
    assert "欠了三家银行一共12万" in posts[0].text


def test_deleted_thread_parses_to_nothing() -> None:
    page = (
        "<html><head><title>贴吧404</title></head><body><div class='page404'>很抱歉，该贴已被删除。</div></body></html>"
    )
    assert parse("tieba", page, THREAD_URL) == []


# --- what the real pages hold beyond their text


def test_real_forum_list_reads_its_own_date_and_images() -> None:
    # No --now: the page's image tokens (tbpicau=2024-08-10-05) say when it was served, never the wall clock.
    posts = parse_file("tieba", _real("mediacrawler_tieba_note_list.html"))
    by_id = {p.post_id: p for p in posts}
    assert by_id["9079949995"].published_at == datetime(2024, 7, 5, 16, 0, tzinfo=timezone.utc)  # "7-6" of 2024
    assert by_id["9121200532"].published_at == datetime(2024, 8, 9, 16, 10, tzinfo=timezone.utc)  # "00:10"
    assert all(p.published_at is None or p.published_at.year <= 2024 for p in posts)
    assert by_id["9079949995"].media[0].startswith("https://tiebapic.baidu.com/forum/pic/item/e0121e23dd54564eb1")
    assert len(by_id["9079949995"].media) == 3  # three bpic thumbnails in its media strip
    assert not any("点击展开" in p.text or "查看完整图片" in p.text for p in posts)


def test_real_search_hits_are_threads_with_their_floor_one_pid() -> None:
    posts = parse_file("tieba", _real("mediacrawler_search_keyword_notes.html"))
    assert all(p.kind is PostKind.post and p.parent_key is None for p in posts)  # no "回复：" titles on this page


def test_search_hit_that_is_a_reply_is_keyed_by_its_pid() -> None:
    page = _real("mediacrawler_search_keyword_notes.html").read_text(encoding="utf-8")
    page = page.replace(">请各位急用玛尼的小心，骗子最多<", ">回复：请各位急用玛尼的小心，骗子最多<")
    posts = parse("tieba", page)
    reply = posts[1]
    assert reply.key == "tieba:c150705176739" and reply.kind is PostKind.comment
    assert reply.parent_key == "tieba:9114743782"
    assert reply.url == "https://tieba.baidu.com/p/9114743782?pid=150705176739#150705176739"
    assert reply.text.startswith("这里面到处是骗子") and reply.title is None
    assert posts[0].key == "tieba:9117888152"


def test_thread_html_image_only_floor_and_thread_reply_count() -> None:
    page = (
        (FIX / "thread_detail.html")
        .read_text(encoding="utf-8")
        .replace(
            "楼上是中介，别信。自己打银行电话协商。",
            '<img class="BDE_Image" src="https://tiebapic.baidu.com/forum/pic/item/handwritten-floor3.jpg">'
            '<div class="replace_tip">点击展开，查看完整图片</div>',
        )
    )
    op, _agent, image_floor = parse("tieba", page, THREAD_URL)
    assert op.metrics.comments == 3  # PageData.thread.reply_num, not floor 1's comment_num (0)
    assert image_floor.text == ""
    assert image_floor.media == ("https://tiebapic.baidu.com/forum/pic/item/handwritten-floor3.jpg",)


def test_lzl_fragment_sub_replies_hang_under_their_floor() -> None:
    url = "https://tieba.baidu.com/p/comment?tid=9200000001&pid=150900000002&pn=1"
    posts = parse_file("tieba", FIX / "lzl_comment.html", url, now=FETCHED)
    assert [p.post_id for p in posts] == ["c151000000031", "c151000000032"]
    pitch, answer = posts
    assert pitch.parent_key == answer.parent_key == "tieba:c150900000002"
    assert (pitch.author_id, pitch.author_name, pitch.text) == (
        "1910000009",
        "上岸专员",
        "征信花了也能下，加q 88886666",
    )
    assert answer.author_name == "laobayou"
    assert pitch.published_at == datetime(2026, 1, 1, 4, 30, tzinfo=timezone.utc)
    assert pitch.url == "https://tieba.baidu.com/p/9200000001?pid=151000000031#151000000031"


def test_json_thread_page_pc() -> None:
    posts = parse_file("tieba", FIX / "pb_page_pc.json")
    keys = [p.post_id for p in posts]
    assert keys == ["9300000001", "c151000000011", "c151000000002", "c151000000021", "c151000000022", "c151000000003"]
    op, op_sub, poster, ask, answer, warning = posts
    assert op.text == "逾期了怎么办\n三张卡逾期两个月，[哭]求指路" and op.title == "逾期了怎么办"
    assert op.metrics.comments == 41  # thread.reply_num
    assert (op.author_id, op.author_name) == ("1910000001", "还款困难户")  # from user_list
    assert op.published_at == datetime(2026, 1, 1, 4, 0, tzinfo=timezone.utc)
    assert op.hashtags == ("信用卡吧",)
    assert op_sub.parent_key == "tieba:9300000001" and op_sub.author_name == "上岸专员"
    assert poster.text == "" and poster.media == ("https://tiebapic.baidu.com/forum/pic/item/handwritten-poster.jpg",)
    assert poster.author_name == "协商顾问小王" and poster.metrics.comments == 2
    assert ask.parent_key == answer.parent_key == "tieba:c151000000002"
    assert answer.text == "@还款困难户 看图"
    assert warning.text == "别找代理，直接打银行客服协商银保监会提示" and warning.author_name == "老吧友"


def test_json_forum_page_pc() -> None:
    first, image_thread = parse_file("tieba", FIX / "frs_page_pc.json")
    assert (first.key, first.metrics.comments, first.metrics.views) == ("tieba:9300000001", 41, 2300)
    assert first.text == "逾期了怎么办\n三张卡逾期两个月，求指路"
    assert image_thread.text == "上岸经验分享" and image_thread.author_name == "协商顾问小王"
    assert image_thread.media == ("https://tiebapic.baidu.com/forum/pic/item/handwritten-share.jpg",)


def test_json_multsearch_keys_replies_by_pid() -> None:
    thread, reply = parse_file("tieba", FIX / "multsearch.json")
    assert thread.key == "tieba:9300000001" and thread.title == "逾期了怎么办"
    assert thread.hashtags == ("信用卡吧",)
    assert reply.key == "tieba:c151000000002" and reply.parent_key == "tieba:9300000001"
    assert reply.text == "专业停息挂账，V：tx2026" and reply.author_name == "协商顾问小王"


def test_json_refusal_and_unknown_json() -> None:
    with pytest.raises(UnknownShape, match="220034"):
        parse_file("tieba", FIX / "refused.json")
    with pytest.raises(UnknownShape, match="unknown JSON"):
        parse("tieba", b'{"error_code": 0, "anti": {}}')
    assert parse("tieba", b'{"error_code": 0, "thread": {"id": 1}, "post_list": [5, {"id": []}, {"content": 3}]}') == []
