"""Platform spiders against a local replay server (real HTTP on 127.0.0.1, real Scrapy in its own process).

The replay server serves the hand-written fixtures and the real recordings, and injects faults: empty-200
blocks, 461, "访问频次异常", captcha pages, 5xx bursts and truncated JSON. Faults must cost retries, not data.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.integration.loopback import QuietHandler, serve_http

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "platforms"
REAL = ROOT.parent / "shared" / "fixtures" / "real"

Reply = tuple[int, bytes]
Route = Callable[[dict[str, list[str]], int], Reply]

RUNNER = r"""
import json, sys
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.misc import load_object

spider_path, out, kwargs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
settings = Settings()
for key, value in {
    "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY_JITTER": 0,
    "QINGYUAN_BACKOFF_BASE": 0.01, "LOG_LEVEL": "WARNING", "RETRY_TIMES": 3, "DOWNLOAD_TIMEOUT": 5,
    "TELNETCONSOLE_ENABLED": False,
}.items():
    settings.set(key, value, priority="cmdline")
process = CrawlerProcess(settings)
crawler = process.create_crawler(load_object(spider_path))
items = []


def on_item(item, response, spider):
    items.append(item.model_dump(mode="json"))


crawler.signals.connect(on_item, signals.item_scraped)  # signals hold weak references: keep a named function
process.crawl(crawler, **kwargs)
process.start()
with open(out, "w", encoding="utf-8") as fh:
    json.dump({"items": items, "stats": crawler.stats.get_stats()}, fh, default=str, ensure_ascii=False)
"""


class Replay:
    """Routes by path (the platform host is the first path segment); counts hits per path."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.queries: list[tuple[str, dict[str, list[str]]]] = []
        self.bodies: list[tuple[str, bytes]] = []
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self.current = threading.local()  # the body of the request this handler thread is answering

    def handle(
        self, path: str, query: dict[str, list[str]], data: bytes, headers: dict[str, str] | None = None
    ) -> Reply:
        with self.lock:
            self.headers.append(headers or {})
            self.hits[path] += 1
            n = self.hits[path]
            self.queries.append((path, query))
            self.bodies.append((path, data))
        self.current.body = data
        route = self.routes.get(path)
        if route is None:
            return 404, b"not found"
        return route(query, n)


@pytest.fixture
def replay() -> Iterator[tuple[Replay, str]]:
    state = Replay()

    class Handler(QuietHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            self.reply(*state.handle(parts.path, parse_qs(parts.query), self.read_body(), dict(self.headers.items())))

        do_GET = _serve
        do_POST = _serve

    with serve_http(Handler) as base:
        yield state, base


def run_spider(spider: str, tmp_path: Path, **kwargs: str) -> dict[str, Any]:
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, spider, str(out), json.dumps(kwargs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {**json.loads(out.read_text(encoding="utf-8")), "stderr": proc.stderr}


def body(path: Path) -> bytes:
    return path.read_bytes()


def sequence(*replies: Reply) -> Route:
    """Serve the replies in order, then repeat the last one."""

    def route(query: dict[str, list[str]], n: int) -> Reply:
        return replies[min(n, len(replies)) - 1]

    return route


# ----------------------------------------------------------------------------- weibo


def test_weibo_search_survives_blocks_and_expands_long_text(replay: tuple[Replay, str], tmp_path: Path) -> None:
    state, base = replay
    page1 = body(FIX / "weibo" / "search_getindex.json")
    empty_page = json.dumps({"ok": 1, "data": {"cards": []}}).encode()

    def search(query: dict[str, list[str]], n: int) -> Reply:
        page = query.get("page", ["1"])[0]
        if page == "1":
            # empty-200, then a rate-limit notice, then the data: two retries, no lost posts.
            return [(200, b""), (200, '{"ok":0,"msg":"访问频次异常"}'.encode()), (200, page1)][min(n, 3) - 1]
        return 200, empty_page

    state.routes["/m.weibo.cn/api/container/getIndex"] = search
    state.routes["/m.weibo.cn/statuses/extend"] = sequence((503, b"busy"), (200, body(FIX / "weibo" / "longtext.json")))
    result = run_spider(
        "crawlers.spiders.weibo.WeiboSpider", tmp_path, mode="search", query="停息挂账", base_url=base, job="t1"
    )
    items = result["items"]
    keys = [i["key"] for i in items]
    assert {"weibo:4970000000000001", "weibo:4970000000000002", "weibo:4969999999999999"} <= set(keys)
    expanded = [i for i in items if i["key"] == "weibo:4970000000000001" and "减免违约金" in i["text"]]
    assert expanded, "the long-text expansion was not fetched"
    # The expansion keeps what only the listing knew: author, publish time, metrics.
    assert all(i["author_id"] and i["published_at"] for i in expanded)
    assert all(i["crawl"]["query"] == "停息挂账" and i["crawl"]["job"] == "t1" for i in items)
    stats = result["stats"]
    assert stats["qingyuan/soft_block/weibo"] == 2
    assert stats.get("retry/count", 0) >= 3  # two soft blocks + one 503
    # Page 2 came back empty: a genuine end of results (not page 1), so no block and no page 3.
    pages = [q.get("page", ["?"])[0] for p, q in state.queries if p.endswith("getIndex")]
    assert pages.count("2") == 1 and "3" not in pages


def test_weibo_comments_follow_child_threads(replay: tuple[Replay, str], tmp_path: Path) -> None:
    state, base = replay
    hotflow = json.loads((FIX / "weibo" / "hotflow.json").read_text(encoding="utf-8"))
    hotflow["data"]["data"][0]["total_number"] = 2  # one inline reply of two: the child thread must be fetched
    state.routes["/m.weibo.cn/comments/hotflow"] = sequence((200, json.dumps(hotflow).encode()))
    state.routes["/m.weibo.cn/comments/hotFlowChild"] = sequence((200, body(FIX / "weibo" / "hotflow_child.json")))
    result = run_spider(
        "crawlers.spiders.weibo.WeiboSpider",
        tmp_path,
        mode="comments",
        target="https://m.weibo.cn/detail/4970000000000001",
        base_url=base,
    )
    by_key = {i["key"]: i for i in result["items"]}
    assert by_key["weibo:c4970000000100001"]["parent_key"] == "weibo:4970000000000001"
    assert by_key["weibo:c4970000000100004"]["parent_key"] == "weibo:c4970000000100001"
    assert by_key["weibo:c4970000000100004"]["url"] == "https://m.weibo.cn/detail/4970000000000001"


def test_soft_block_that_never_clears_is_counted_not_reported_as_empty(
    replay: tuple[Replay, str], tmp_path: Path
) -> None:
    state, base = replay
    state.routes["/m.weibo.cn/api/container/getIndex"] = sequence((461, b""))
    result = run_spider("crawlers.spiders.weibo.WeiboSpider", tmp_path, mode="search", query="征信修复", base_url=base)
    assert result["items"] == []
    stats = result["stats"]
    assert stats["qingyuan/soft_block/weibo"] == 4  # first try + 3 retries
    assert stats["qingyuan/soft_block_gave_up/weibo"] == 1


# ----------------------------------------------------------------------------- douyin


def test_douyin_creator_feed_pages_by_max_cursor_through_a_5xx_burst(
    replay: tuple[Replay, str], tmp_path: Path
) -> None:
    state, base = replay
    if REAL.is_dir():
        page1 = (REAL / "douyin" / "reactCnode_douyin_aweme_post_list_2020.json").read_bytes()
        expected_first, expected_count, cursor = "douyin:6839264343264218375", 41, str(json.loads(page1)["max_cursor"])
    else:
        feed = {"status_code": 0, "aweme_list": [json.loads(body(FIX / "douyin" / "detail.json"))["aweme_detail"]]}
        feed.update(max_cursor=1700000000000, has_more=1)
        page1, expected_first, expected_count, cursor = (
            json.dumps(feed).encode(),
            "douyin:7303456789012345678",
            1,
            ("1700000000000"),
        )
    last = json.dumps({"status_code": 0, "aweme_list": [], "has_more": 0, "max_cursor": 0}).encode()

    def feed_route(query: dict[str, list[str]], n: int) -> Reply:
        if query["max_cursor"] == ["0"]:
            return [(502, b"bad gateway"), (500, b"oops"), (200, page1)][min(n, 3) - 1]
        return 200, last

    state.routes["/www.douyin.com/aweme/v1/web/aweme/post/"] = feed_route
    result = run_spider(
        "crawlers.spiders.douyin.DouyinSpider",
        tmp_path,
        mode="creator",
        target="https://www.douyin.com/user/MS4wLjABAAAAOCNkaYVIwWH8z7H6EnpmDCbhVil-7uhlFAQPPxXiLmw",
        base_url=base,
    )
    keys = [i["key"] for i in result["items"]]
    assert keys[0] == expected_first and len(keys) == expected_count
    assert result["items"][0]["crawl"]["mode"] == "creator"
    cursors = [q["max_cursor"][0] for p, q in state.queries if p.endswith("/aweme/post/")]
    assert cursors == ["0", "0", "0", cursor]
    assert all(
        q["sec_user_id"] == ["MS4wLjABAAAAOCNkaYVIwWH8z7H6EnpmDCbhVil-7uhlFAQPPxXiLmw"] for _, q in state.queries
    )
    assert result["stats"]["retry/count"] == 2
    assert "qingyuan/soft_block/douyin" not in result["stats"]  # the empty last page is an end, not a block


def test_douyin_comments_fetch_reply_pages(replay: tuple[Replay, str], tmp_path: Path) -> None:
    state, base = replay
    comments = json.loads((FIX / "douyin" / "comments.json").read_text(encoding="utf-8"))
    comments["comments"][0]["reply_comment_total"] = 2  # one of two replies inline
    state.routes["/www.douyin.com/aweme/v1/web/comment/list/"] = sequence((200, json.dumps(comments).encode()))
    state.routes["/www.douyin.com/aweme/v1/web/comment/list/reply/"] = sequence(
        (200, body(FIX / "douyin" / "comment_replies.json"))
    )
    result = run_spider(
        "crawlers.spiders.douyin.DouyinSpider",
        tmp_path,
        mode="comments",
        target="https://www.douyin.com/video/7303456789012345678",
        base_url=base,
    )
    keys = {i["key"] for i in result["items"]}
    assert {"douyin:c7303500000000000001", "douyin:c7303500000000000002", "douyin:c7303500000000000004"} <= keys
    reply_query = next(q for p, q in state.queries if p.endswith("/reply/"))
    assert reply_query["comment_id"] == ["7303500000000000001"]
    assert reply_query["item_id"] == ["7303456789012345678"]


# ----------------------------------------------------------------------------- kuaishou


def test_kuaishou_search_posts_graphql_and_follows_pcursor(replay: tuple[Replay, str], tmp_path: Path) -> None:
    state, base = replay
    last = {"data": {"visionSearchPhoto": {"result": 1, "feeds": [], "pcursor": "no_more"}}}
    state.routes["/www.kuaishou.com/graphql"] = sequence(
        (200, body(FIX / "kuaishou" / "search_photo.json")[:200]),  # truncated transfer: retried, not lost
        (200, body(FIX / "kuaishou" / "search_photo.json")),
        (200, json.dumps(last).encode()),
    )
    result = run_spider(
        "crawlers.spiders.kuaishou.KuaishouSpider",
        tmp_path,
        mode="search",
        query="债务优化",
        base_url=base,
        api="graphql",
    )
    assert [i["key"] for i in result["items"]] == ["kuaishou:3xhandwrittenphoto01", "kuaishou:3xhandwrittenphoto02"]
    sent = [json.loads(b) for p, b in state.bodies if p.endswith("/graphql")]
    assert [s["operationName"] for s in sent] == ["visionSearchPhoto"] * 3
    assert sent[0]["variables"]["keyword"] == "债务优化" and sent[0]["variables"]["pcursor"] == ""
    assert sent[2]["variables"]["pcursor"] == "1"
    assert sent[2]["variables"]["searchSessionId"] == "MTRfMjcwOTM4MTQ0XzE3MDA"
    assert "visionSearchPhoto(" in sent[0]["query"]
    assert result["stats"]["qingyuan/truncated/kuaishou"] == 1


def test_kuaishou_rest_first_then_graphql_when_refused(replay: tuple[Replay, str], tmp_path: Path) -> None:
    state, base = replay
    page1 = json.loads(body(FIX / "kuaishou" / "rest_search_feed.json"))
    refused = body(FIX / "kuaishou" / "rest_refused.json")
    state.routes["/www.kuaishou.com/rest/v/search/feed"] = sequence((200, json.dumps(page1).encode()), (200, refused))
    state.routes["/www.kuaishou.com/graphql"] = lambda q, n: (200, body(FIX / "kuaishou" / "search_photo.json"))
    result = run_spider(
        "crawlers.spiders.kuaishou.KuaishouSpider", tmp_path, mode="search", query="停息", base_url=base, max_pages="2"
    )
    keys = [i["key"] for i in result["items"]]
    assert keys[:2] == ["kuaishou:3xrestphoto0001", "kuaishou:3xrestphoto0002"]  # REST page 1
    assert "kuaishou:3xhandwrittenphoto01" in keys  # page 2 refused on REST, served by GraphQL at the same cursor
    rest = [json.loads(b) for p, b in state.bodies if p.endswith("/search/feed")]
    assert [r["pcursor"] for r in rest] == ["", "1"] and rest[1]["searchSessionId"] == "MTRfMjAyNl9oYW5kd3JpdHRlbg"
    graphql = [json.loads(b) for p, b in state.bodies if p.endswith("/graphql")]
    assert graphql[0]["operationName"] == "visionSearchPhoto" and graphql[0]["variables"]["pcursor"] == "1"
    assert result["stats"]["qingyuan/fallback/kuaishou"] == 1


def test_kuaishou_rest_comments_hang_sub_comments_under_their_root(replay: tuple[Replay, str], tmp_path: Path) -> None:
    state, base = replay
    state.routes["/www.kuaishou.com/rest/v/photo/comment/list"] = lambda q, n: (
        200,
        body(FIX / "kuaishou" / "rest_comment_list.json"),
    )
    result = run_spider(
        "crawlers.spiders.kuaishou.KuaishouSpider",
        tmp_path,
        mode="comments",
        target="https://www.kuaishou.com/short-video/3xrestphoto0001",
        base_url=base,
    )
    parents = {i["post_id"]: i["parent_key"] for i in result["items"]}
    assert parents["c910000000001"] == "kuaishou:3xrestphoto0001"
    assert parents["c910000000002"] == parents["c910000000003"] == "kuaishou:c910000000001"


# ----------------------------------------------------------------------------- xiaohongshu


def test_xiaohongshu_comments_use_the_note_token(replay: tuple[Replay, str], tmp_path: Path) -> None:
    state, base = replay
    state.routes["/edith.xiaohongshu.com/api/sns/web/v2/comment/page"] = sequence(
        (200, '{"code": 300012, "success": false, "msg": "访问频次异常，请勿频繁操作"}'.encode()),
        (200, body(FIX / "xiaohongshu" / "comments.json")),
    )
    result = run_spider(
        "crawlers.spiders.xiaohongshu.XiaohongshuSpider",
        tmp_path,
        mode="comments",
        target="https://www.xiaohongshu.com/explore/6560a1b2000000001c01aa02?xsec_token=ABtok%3D&xsec_source=pc_feed",
        base_url=base,
    )
    assert len(result["items"]) == 3
    assert {i["parent_key"] for i in result["items"]} == {
        "xiaohongshu:6560a1b2000000001c01aa02",
        "xiaohongshu:c6560b00000000000270cc001",
    }
    assert all(q["xsec_token"] == ["ABtok="] and q["note_id"] == ["6560a1b2000000001c01aa02"] for _, q in state.queries)
    assert result["stats"]["qingyuan/soft_block/xiaohongshu"] == 1


def test_xiaohongshu_search_follows_each_hit_to_its_note_with_its_token(
    replay: tuple[Replay, str], tmp_path: Path
) -> None:
    state, base = replay
    state.routes["/edith.xiaohongshu.com/api/sns/web/v1/search/notes"] = lambda q, n: (
        200,
        body(FIX / "xiaohongshu" / "search_notes.json"),
    )
    feed = json.loads(body(FIX / "xiaohongshu" / "feed.json"))

    def note(query: dict[str, list[str]], n: int) -> Reply:
        asked = json.loads(state.current.body)
        answer = json.loads(json.dumps(feed))
        answer["data"]["items"][0]["id"] = asked["source_note_id"]
        answer["data"]["items"][0]["note_card"]["note_id"] = asked["source_note_id"]
        return 200, json.dumps(answer, ensure_ascii=False).encode()

    state.routes["/edith.xiaohongshu.com/api/sns/web/v1/feed"] = note
    result = run_spider(
        "crawlers.spiders.xiaohongshu.XiaohongshuSpider",
        tmp_path,
        mode="search",
        query="征信",
        base_url=base,
        max_pages="1",
    )
    items = {i["post_id"]: i for i in result["items"]}
    assert set(items) == {"6560a1b2000000001c01aa01", "6560a1b2000000001c01aa02"}  # whole notes only, no cards
    for note_id, token in (
        ("6560a1b2000000001c01aa01", "ABhandwrittenToken01="),
        ("6560a1b2000000001c01aa02", "ABhandwrittenToken02="),
    ):
        item = items[note_id]
        assert item["published_at"] and "逾期记录可以消除" in item["text"]  # description and time from feed
        assert item["url"].endswith(f"{note_id}?xsec_token={token.replace('=', '%3D')}&xsec_source=pc_search")
        asked = [json.loads(b) for p, b in state.bodies if p.endswith("/v1/feed") and note_id.encode() in b]
        assert asked and asked[0]["xsec_token"] == token


# ----------------------------------------------------------------------------- bilibili


def test_bilibili_search_pages_and_survives_412(replay: tuple[Replay, str], tmp_path: Path) -> None:
    state, base = replay
    page1 = json.loads((FIX / "bilibili" / "search_type_video.json").read_text(encoding="utf-8"))
    page1["data"]["numPages"] = 2
    page2 = {"code": 0, "data": {"numPages": 2, "result": [json.loads(body(FIX / "bilibili" / "view.json"))["data"]]}}
    page2["data"]["result"][0]["bvid"] = "BV1aH4y1e713"

    def search(query: dict[str, list[str]], n: int) -> Reply:
        if query["page"] == ["1"]:
            return 200, json.dumps(page1).encode()
        seen = sum(1 for p, q in state.queries if q.get("page") == ["2"])
        return (200, body(FIX / "bilibili" / "risk_control.json")) if seen == 1 else (200, json.dumps(page2).encode())

    state.routes["/api.bilibili.com/x/web-interface/wbi/search/type"] = search
    result = run_spider(
        "crawlers.spiders.bilibili.BilibiliSpider", tmp_path, mode="search", query="停息挂账", base_url=base
    )
    keys = [i["key"] for i in result["items"]]
    assert keys == ["bilibili:BV1aH4y1e71m", "bilibili:BV1aH4y1e712", "bilibili:BV1aH4y1e713"]
    assert result["stats"]["qingyuan/soft_block/bilibili"] == 1


# ----------------------------------------------------------------------------- zhihu


def test_zhihu_search_follows_paging_next(replay: tuple[Replay, str], tmp_path: Path) -> None:
    state, base = replay
    last = {"data": [], "paging": {"is_end": True, "next": ""}}

    def search(query: dict[str, list[str]], n: int) -> Reply:
        return (
            (200, body(FIX / "zhihu" / "search_v3.json"))
            if query["offset"] == ["0"]
            else (200, json.dumps(last).encode())
        )

    state.routes["/www.zhihu.com/api/v4/search_v3"] = search
    result = run_spider("crawlers.spiders.zhihu.ZhihuSpider", tmp_path, mode="search", query="停息挂账", base_url=base)
    assert [i["key"] for i in result["items"]] == ["zhihu:3300000001", "zhihu:a660000001"]
    offsets = [q["offset"][0] for p, q in state.queries]
    assert offsets == ["0", "20"]


def test_bilibili_dynamics_mode_and_dynamic_comments(replay: tuple[Replay, str], tmp_path: Path) -> None:
    state, base = replay
    page1 = json.loads(body(FIX / "bilibili" / "dynamic_feed_space.json"))
    last = {"code": 0, "data": {"has_more": False, "offset": "", "items": []}}
    state.routes["/api.bilibili.com/x/polymer/web-dynamic/v1/feed/space"] = lambda q, n: (
        200,
        json.dumps(page1 if q.get("offset", [""]) == [""] else last).encode(),
    )
    result = run_spider(
        "crawlers.spiders.bilibili.BilibiliSpider",
        tmp_path,
        mode="dynamics",
        target="https://space.bilibili.com/3546000000000001",
        base_url=base,
    )
    assert [i["key"] for i in result["items"]][:2] == ["bilibili:t1010000000000000001", "bilibili:t1010000000000000002"]
    offsets = [q.get("offset") for p, q in state.queries if p.endswith("/feed/space")]
    assert offsets == [None, ["1010000000000000003"]] and all(
        q["host_mid"] == ["3546000000000001"] for p, q in state.queries if p.endswith("/feed/space")
    )

    state.routes["/api.bilibili.com/x/polymer/web-dynamic/v1/detail"] = lambda q, n: (
        200,
        body(FIX / "bilibili" / "dynamic_detail.json"),
    )
    state.routes["/api.bilibili.com/x/v2/reply/wbi/main"] = lambda q, n: (
        200,
        body(FIX / "bilibili" / "reply_wbi_main_dynamic.json"),
    )
    comments = run_spider(
        "crawlers.spiders.bilibili.BilibiliSpider",
        tmp_path,
        mode="comments",
        target="https://t.bilibili.com/1010000000000000004",
        base_url=base,
    )
    assert [i["key"] for i in comments["items"]] == ["bilibili:c250000000001", "bilibili:c250000000002"]
    assert comments["items"][0]["parent_key"] == "bilibili:t1010000000000000004"
    (asked,) = [q for p, q in state.queries if p.endswith("/reply/wbi/main")]
    assert asked["oid"] == ["1010000000000000004"] and asked["type"] == ["17"]


# ----------------------------------------------------------------------------- tieba


def test_tieba_thread_comments_from_a_gbk_page_after_a_captcha(replay: tuple[Replay, str], tmp_path: Path) -> None:
    state, base = replay
    page = (FIX / "tieba" / "thread_detail.html").read_text(encoding="utf-8")
    page = page.replace('charset="UTF-8"', 'charset="gbk"').replace('"reply_num":3}', '"reply_num":3,"total_page":2}')
    page2 = page.replace("150900000002", "150900000012").replace("150900000003", "150900000013")
    state.routes["/tieba.baidu.com/p/9200000001"] = lambda query, n: (
        (200, body(FIX / "tieba" / "verify_page.html"))
        if n == 1
        else (200, (page2 if query.get("pn") == ["2"] else page).encode("gbk"))
    )
    state.routes["/tieba.baidu.com/p/comment"] = lambda query, n: (200, body(FIX / "tieba" / "lzl_comment.html"))
    result = run_spider(
        "crawlers.spiders.tieba.TiebaSpider",
        tmp_path,
        mode="comments",
        target="https://tieba.baidu.com/p/9200000001",
        base_url=base,
        api="html",
    )
    keys = [i["key"] for i in result["items"]]
    assert keys[:3] == ["tieba:9200000001", "tieba:c150900000002", "tieba:c150900000003"]
    assert "tieba:c150900000012" in keys and "tieba:c150900000013" in keys
    assert result["items"][1]["text"] == "可以办理停息挂账，[心]加q：12345678&详谈"
    assert result["stats"]["qingyuan/soft_block/tieba"] == 1
    # Floors with 楼中楼 (comment_num > 0) get their sub-replies fetched, parented to the floor.
    asked = [q for p, q in state.queries if p == "/tieba.baidu.com/p/comment"]
    assert {q["pid"][0] for q in asked} == {"150900000002", "150900000012"}
    sub = next(i for i in result["items"] if i["key"] == "tieba:c151000000031")
    assert sub["parent_key"] in ("tieba:c150900000002", "tieba:c150900000012")


def test_tieba_json_thread_with_sub_replies_and_html_fallback(replay: tuple[Replay, str], tmp_path: Path) -> None:
    state, base = replay
    pb = json.loads(body(FIX / "tieba" / "pb_page_pc.json"))
    pb["thread"]["id"] = 9200000001
    pb["post_list"][1]["sub_post_number"] = 5  # more 楼中楼 than the page carries: fetch the floor's fragment
    state.routes["/tieba.baidu.com/c/f/pb/page_pc"] = lambda query, n: (
        (200, json.dumps(pb, ensure_ascii=False).encode())
        if query["pn"] == ["1"]
        else (200, b'{"error_code": 0, "anti": {}}')
    )
    pb["page"]["total_page"] = 2
    state.routes["/tieba.baidu.com/p/comment"] = lambda query, n: (200, body(FIX / "tieba" / "lzl_comment.html"))
    page = (FIX / "tieba" / "thread_detail.html").read_text(encoding="utf-8")
    page2 = page.replace("150900000002", "150900000012").replace("150900000003", "150900000013")
    state.routes["/tieba.baidu.com/p/9200000001"] = lambda query, n: (200, page2.encode())
    result = run_spider(
        "crawlers.spiders.tieba.TiebaSpider",
        tmp_path,
        mode="comments",
        target="https://tieba.baidu.com/p/9200000001",
        base_url=base,
    )
    keys = [i["key"] for i in result["items"]]
    assert keys[:2] == ["tieba:9200000001", "tieba:c151000000011"]
    assert "tieba:c151000000022" in keys  # a 楼中楼 carried in the JSON page
    assert "tieba:c151000000031" in keys  # from the floor's p/comment fragment
    # Floor 2 of the JSON page, and the HTML fallback page's floor with 楼中楼.
    assert sorted(q["pid"][0] for p, q in state.queries if p == "/tieba.baidu.com/p/comment") == [
        "150900000012",
        "151000000002",
    ]
    # Page 2 came back in a shape the parser does not know: the HTML page for it was read instead.
    assert result["stats"]["qingyuan/fallback/tieba"] == 1
    assert "tieba:c150900000013" in keys


def test_watermark_makes_the_second_run_incremental(replay: tuple[Replay, str], tmp_path: Path) -> None:
    state, base = replay
    awemes = [
        d["aweme_info"] for d in json.loads(body(FIX / "douyin" / "search_general.json"))["data"] if "aweme_info" in d
    ]
    page1 = {"status_code": 0, "aweme_list": awemes, "has_more": 1, "max_cursor": 1699000000000}
    page2 = {"status_code": 0, "aweme_list": [], "has_more": 0, "max_cursor": 0}
    state.routes["/www.douyin.com/aweme/v1/web/aweme/post/"] = lambda query, n: (
        200,
        json.dumps(page1 if query["max_cursor"] == ["0"] else page2).encode(),
    )
    marks = tmp_path / "state" / "douyin-creator.json"
    args = {"mode": "creator", "target": "MS4wLjABAAAAhandwrittenSecUid01", "base_url": base, "watermark": str(marks)}
    first = run_spider("crawlers.spiders.douyin.DouyinSpider", tmp_path, **args)
    assert len(first["items"]) == 2
    assert json.loads(marks.read_text()) == {"MS4wLjABAAAAhandwrittenSecUid01": "2023-11-16T02:00:00+00:00"}
    requests_before = len(state.queries)
    second = run_spider("crawlers.spiders.douyin.DouyinSpider", tmp_path, **args)
    assert second["items"] == []
    assert second["stats"]["qingyuan/skipped_old/douyin"] == 2
    assert len(state.queries) - requests_before == 1  # nothing new on page 1: page 2 is not fetched


def test_soft_block_rotates_account_and_proxy_without_logging_secrets(
    replay: tuple[Replay, str], tmp_path: Path
) -> None:
    state, base = replay
    port = base.rsplit(":", 1)[1]
    accounts = []
    for n in (1, 2):
        path = tmp_path / f"weibo-account{n}.json"
        cookies = [
            {"name": "SUB", "value": f"secret-sub-{n}", "domain": ".weibo.cn", "path": "/"},
            {"name": "BAIDUID", "value": "not-for-weibo", "domain": ".baidu.com", "path": "/"},
        ]
        path.write_text(json.dumps({"cookies": cookies, "origins": []}))
        accounts.append(str(path))
    # The replay server doubles as both proxies; the credentials tell which one a request went through.
    proxies = f"http://u1:secretpw1@127.0.0.1:{port},http://u2:secretpw2@127.0.0.1:{port}"
    state.routes["/m.weibo.cn/api/container/getIndex"] = sequence(
        (200, '{"ok": 0, "msg": "访问频次异常"}'.encode()), (200, body(FIX / "weibo" / "search_getindex.json"))
    )
    result = run_spider(
        "crawlers.spiders.weibo.WeiboSpider",
        tmp_path,
        mode="search",
        query="停息挂账",
        base_url=base,
        max_pages="1",
        accounts=",".join(accounts),
        proxies=proxies,
    )
    assert len(result["items"]) == 4
    first, second = state.headers[0], state.headers[1]
    assert "secret-sub-1" in first.get("Cookie", "") and "BAIDUID" not in first.get("Cookie", "")
    assert "secret-sub-2" in second.get("Cookie", "") and "secret-sub-1" not in second.get("Cookie", "")
    auth1, auth2 = first.get("Proxy-Authorization", ""), second.get("Proxy-Authorization", "")
    assert auth1.startswith("Basic ") and auth2.startswith("Basic ") and auth1 != auth2
    assert result["stats"]["qingyuan/rotations/weibo"] == 1
    assert "weibo-account2" in result["stderr"]  # the rotation is logged by label...
    assert "secret" not in result["stderr"]  # ...and never with a cookie value or a proxy password
