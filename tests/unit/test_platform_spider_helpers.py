"""Pure helpers of the platform spiders: target parsing, account/proxy loading. No network, no reactor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawlers.spiders.bilibili import aid_of
from crawlers.spiders.douyin import aweme_id_of, sec_uid_of
from crawlers.spiders.kuaishou import QUERIES, photo_id_of
from crawlers.spiders.sessions import SessionPool, load_account, parse_list, proxy_label
from crawlers.spiders.tieba import tid_of
from crawlers.spiders.weibo import mid_of
from crawlers.spiders.xiaohongshu import note_ref
from crawlers.spiders.zhihu import comment_root_of


def test_targets_from_urls_and_ids() -> None:
    assert aweme_id_of("https://www.douyin.com/video/7303456789012345678?previous_page=x") == "7303456789012345678"
    assert aweme_id_of("https://www.douyin.com/discover?modal_id=7303456789012345678") == "7303456789012345678"
    assert sec_uid_of("https://www.douyin.com/user/MS4wLjABAAAAx?from=share") == "MS4wLjABAAAAx"
    assert photo_id_of("https://www.kuaishou.com/short-video/3xabc123?authorId=1") == "3xabc123"
    assert note_ref("https://www.xiaohongshu.com/explore/6560a1b2?xsec_token=AB%3D&x=1") == ("6560a1b2", "AB=")
    assert note_ref("6560a1b2") == ("6560a1b2", "")
    assert mid_of("https://m.weibo.cn/detail/4970000000000001") == "4970000000000001"
    assert mid_of("https://m.weibo.cn/status/4970000000000001") == "4970000000000001"
    assert aid_of("https://www.bilibili.com/video/BV1ZF411g7EZ/?spm=1") == 298290791
    assert aid_of("https://www.bilibili.com/video/av170001/") == 170001
    assert comment_root_of("https://www.zhihu.com/question/1/answer/3300000001") == ("answers", "3300000001")
    assert comment_root_of("https://zhuanlan.zhihu.com/p/660000001") == ("articles", "660000001")
    assert tid_of("https://tieba.baidu.com/p/9200000001?pn=2") == "9200000001"
    for func in (aweme_id_of, mid_of, aid_of, comment_root_of, tid_of):
        with pytest.raises(ValueError):
            func("https://example.com/nothing-here")


def test_kuaishou_queries_select_what_the_parser_reads() -> None:
    assert "caption" in QUERIES["visionSearchPhoto"] and "realLikeCount" in QUERIES["visionProfilePhotoList"]
    assert "rootComments" in QUERIES["commentListQuery"] and "subComments" in QUERIES["commentListQuery"]
    for query in QUERIES.values():
        assert query.count("{") == query.count("}")


def test_account_files_in_three_shapes(tmp_path: Path) -> None:
    state = tmp_path / "zhihu-a.json"
    state.write_text(
        json.dumps(
            {
                "cookies": [
                    {"name": "z_c0", "value": "tok", "domain": ".zhihu.com"},
                    {"name": "other", "value": "x", "domain": "www.baidu.com"},
                ],
                "origins": [],
            }
        )
    )
    assert load_account(state, "zhihu").cookies == {"z_c0": "tok"}
    plain = tmp_path / "b.json"
    plain.write_text('{"SESSDATA": "abc", "buvid3": "def"}')
    assert load_account(plain, "bilibili").cookies == {"SESSDATA": "abc", "buvid3": "def"}
    listing = tmp_path / "c.json"
    listing.write_text('[{"name": "web_session", "value": "v", "domain": ".xiaohongshu.com"}]')
    assert load_account(listing, "xiaohongshu").cookies == {"web_session": "v"}
    with pytest.raises(ValueError, match="no cookies for douyin") as info:
        load_account(state, "douyin")
    assert "tok" not in str(info.value)
    broken = tmp_path / "broken.json"
    broken.write_text('{"cookies": [{"name": "z_c0", "value": "tok"')
    with pytest.raises(ValueError, match="unreadable"):
        load_account(broken, "zhihu")


def test_pool_rotation_and_labels(tmp_path: Path) -> None:
    files = []
    for n in (1, 2):
        path = tmp_path / f"acct{n}.json"
        path.write_text(json.dumps({"SUB": f"s{n}"}))
        files.append(path)
    pool = SessionPool("weibo", files, ["http://u:pw@10.0.0.1:8080", "http://10.0.0.2:3128"])
    meta: dict[str, object] = {}
    assert pool.apply(meta) == {"SUB": "s1"} and meta == {"cookiejar": 0, "proxy": "http://u:pw@10.0.0.1:8080"}
    assert pool.rotate() == "account=acct2 proxy=10.0.0.2:3128"
    assert pool.apply(meta) == {"SUB": "s2"} and meta["cookiejar"] == 1
    assert proxy_label("http://user:secret@proxy.example:8080") == "proxy.example:8080"
    assert not SessionPool("weibo", [], [])


def test_parse_list_from_file(tmp_path: Path) -> None:
    listing = tmp_path / "proxies.txt"
    listing.write_text("# pool\nhttp://a:1\n\nhttp://b:2\n")
    assert parse_list(f"@{listing}") == ["http://a:1", "http://b:2"]
    assert parse_list("x, y,,") == ["x", "y"]
    assert parse_list(None) == []


def test_crawl_stats_count_signed_and_unsigned_requests() -> None:
    from crawlers.run import _stats_from_scrapy

    raw = {
        "qingyuan/signing/active": True,
        "qingyuan/signing/bilibili/keys_fetched": 1,
        "qingyuan/signing/bilibili/signed": 3,
        "qingyuan/signing/douyin/signed": 2,
        "qingyuan/signing_failed/xiaohongshu": 4,
        "qingyuan/signing_unsupported/zhihu": 1,
    }
    stats = _stats_from_scrapy(raw, "bilibili", "job", 1.0, "")
    assert (stats.signed, stats.signing_failed) == (5, 5)


def test_demo_soft_block_middleware_retries_blocks_with_growing_delay_then_drops() -> None:
    from scrapy import Request
    from scrapy.exceptions import IgnoreRequest
    from scrapy.http import HtmlResponse
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.test import get_crawler

    from crawlers.middlewares import SoftBlockMiddleware

    crawler = get_crawler()
    crawler.stats = MemoryStatsCollector(crawler)
    mw = SoftBlockMiddleware(crawler, max_retries=2)
    request = Request("http://127.0.0.1/p/1")
    # a long page whose post text talks about 验证码 is content, not a captcha
    post = "<html><title>帖子</title><body>" + "别把验证码告诉任何人。" * 600 + "</body></html>"
    page = HtmlResponse(request.url, status=200, body=post.encode(), request=request)
    assert mw.process_response(request, page) is page
    # nor is a short demo API answer whose post text (its `description`) warns about 验证码
    notice = '{"id": "p1", "description": "温馨提示：请勿泄露卡号和验证码。"}'
    api = HtmlResponse(request.url, status=200, body=notice.encode(), request=request)
    assert mw.process_response(request, api) is api
    # nor a short rendered demo page whose comments say so; its <head> is what speaks for the site
    rendered = "<html><head><title>清源演示站 · 视频</title></head><body><li>别把验证码告诉别人</li></body></html>"
    shown = HtmlResponse(request.url, status=200, body=rendered.encode(), request=request)
    assert mw.process_response(request, shown) is shown
    blocked = HtmlResponse(request.url, status=200, body="<title>访问频次异常</title>".encode(), request=request)
    retry = mw.process_response(request, blocked)
    assert isinstance(retry, Request) and retry.meta["download_delay"] == 2.0 and retry.dont_filter
    again = mw.process_response(retry, HtmlResponse(request.url, status=461, body=b"", request=retry))
    assert again.meta["download_delay"] == 4.0
    with pytest.raises(IgnoreRequest):
        mw.process_response(again, HtmlResponse(request.url, status=200, body=b"  ", request=again))
    assert crawler.stats.get_value("qingyuan/soft_blocks") == 3


def test_spiders_state_their_modes_and_why_one_is_missing() -> None:
    from crawlers.spiders.bilibili import BilibiliSpider
    from crawlers.spiders.platform_base import modes_help
    from crawlers.spiders.weibo import WeiboSpider

    assert "dynamics" in BilibiliSpider.modes and "dynamics" not in WeiboSpider.modes
    with pytest.raises(ValueError, match="timeline is creator mode"):
        WeiboSpider(mode="dynamics", target="1")
    with pytest.raises(ValueError, match="one of search, creator, detail, comments, dynamics"):
        BilibiliSpider(mode="live", target="1")
    lines = modes_help().splitlines()
    assert len(lines) == 7 and lines[4].startswith("bilibili: search, creator, detail, comments, dynamics")
    assert all("no dynamics:" in line for line in lines if not line.startswith("bilibili"))


def test_crawl_help_lists_the_modes() -> None:
    from typer.testing import CliRunner

    from wiring.cli import app

    result = CliRunner().invoke(app, ["crawl", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "bilibili: search, creator, detail, comments, dynamics" in result.output
    assert "no dynamics: a Weibo user timeline is creator mode" in result.output
