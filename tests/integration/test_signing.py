"""Request signing end to end: the real spiders, Scrapy, the signing middleware and Debian chromium against a fake
"platform" on loopback.

The fake platform imitates how the real ones check signatures, with hand-written stand-ins (never the platforms'
code): its Xiaohongshu page defines `window._webmsxyw(uri, data)` once the visitor is logged in, its Douyin page
hooks XMLHttpRequest.open to append a_bogus/msToken, and its Bilibili nav serves the wbi keys of the public worked
example. Its API endpoints answer like the platforms do when a signature is missing or wrong (461, empty 200,
-352) and with the hand-written fixtures under tests/fixtures/platforms when it is right.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import pytest

from crawlers.extract import get_parser
from crawlers.signing.browser_signer import PageSigner, SigningUnavailable
from crawlers.spiders.sessions import load_account
from tests.integration.conftest import missing_real_part
from tests.integration.loopback import QuietHandler, serve_http

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "platforms"
CHROMIUM = "/usr/bin/chromium"

XHS_SESSION = "xhs-secret-session-4711"  # login cookie the fake page wants (127.0.0.1)
XHS_A1 = "xhs-secret-a1-0815"  # platform-domain cookie, what Scrapy sends along
DY_SESSION = "dy-secret-session-2342"
DY_SS = "dy-secret-ss-1337"
SECRETS = (XHS_SESSION, XHS_A1, DY_SESSION, DY_SS)

# bilibili-API-collect docs/misc/sign/wbi.md: these nav keys give the mixin key below (see tests/unit/test_wbi.py).
IMG_KEY, SUB_KEY = "7cd084941338484aae1ad9425b84077c", "4932caff0ff746eab6f01bf08b70ac45"
DOC_MIXIN = "ea1db124af3c7062474693fa704f4ff8"

# The fake pages' stand-in for a signature: a 32-bit polynomial hash (same in JS and Python for BMP text).
HASH_JS = """function qyHash(s) {
  let h = 7;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h.toString(16);
}"""


def qy_hash(text: str) -> str:
    h = 7
    for ch in text:
        h = (h * 31 + ord(ch)) % 2**32
    return format(h, "x")


XHS_PAGE = f"""<!doctype html><html><head><meta charset="utf-8"></head><body><div id="feed">笔记</div><script>
{HASH_JS}
// Like the real web app, the signing function shows up a moment after load.
setTimeout(() => {{
  window._webmsxyw = (uri, data) => ({{
    "X-s": "XYW_" + qyHash(uri + (data === undefined ? "" : JSON.stringify(data))),
    "X-t": Date.now(),
  }});
}}, 150);
</script></body></html>"""
LOGIN_WALL = """<!doctype html><html><head><meta charset="utf-8"></head><body><div>登录后查看更多内容</div>
</body></html>"""
DOUYIN_PAGE = f"""<!doctype html><html><head><meta charset="utf-8"></head><body><script>
{HASH_JS}
(function () {{
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {{
    let target = String(url);
    if (target.includes("/aweme/v1/web/")) {{
      const u = new URL(target, location.href);
      const sig = qyHash(u.pathname + u.search);
      target += (target.includes("?") ? "&" : "?") + "a_bogus=" + sig + "&msToken=qyms" + sig.length;
    }}
    return open.call(this, method, target, ...rest);
  }};
}})();
</script></body></html>"""


@dataclass
class Seen:
    path: str
    ok: bool
    headers: dict[str, str]
    query: str = ""


@dataclass
class FakePlatform:
    base: str = ""
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Keys nav serves, one per call, the last one from then on (a list of two imitates the daily rotation).
    nav_keys: list[tuple[str, str]] = field(default_factory=lambda: [(IMG_KEY, SUB_KEY)])

    def record(self, path: str, ok: bool, headers: dict[str, str], query: str = "") -> None:
        with self.lock:
            self.seen.append(Seen(path, ok, headers, query))

    def api(self, suffix: str) -> list[Seen]:
        return [s for s in self.seen if s.path.endswith(suffix)]


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    raw = headers.get("Cookie", "")
    return dict(part.strip().split("=", 1) for part in raw.split(";") if "=" in part)


def _xhs_signed(path: str, body: bytes, headers: dict[str, str]) -> bool:
    uri = "/" + path.split("/", 2)[2]  # drop the host segment: the page signs the platform's own path
    want = "XYW_" + qy_hash(uri + body.decode("utf-8"))
    lowered = {k.lower(): v for k, v in headers.items()}  # header names are case-insensitive (Scrapy sends X-S)
    return lowered.get("x-s") == want and lowered.get("x-t", "").isdigit()


def _douyin_signed(path: str, raw_query: str) -> bool:
    parts = raw_query.split("&")
    sig = dict(p.split("=", 1) for p in parts if p.startswith(("a_bogus=", "msToken=")))
    rest = "&".join(p for p in parts if not p.startswith(("a_bogus=", "msToken=")))
    return sig.get("a_bogus") == qy_hash(f"{path}?{rest}") and sig.get("msToken", "").startswith("qyms")


def _wbi_signed(raw_query: str) -> bool:
    params = dict(parse_qsl(raw_query, keep_blank_values=True))
    w_rid = params.pop("w_rid", "")
    if abs(int(params.get("wts", "0")) - time.time()) > 300:
        return False
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))
    return w_rid == hashlib.md5((query + DOC_MIXIN).encode(), usedforsecurity=False).hexdigest()


def _empty_page(platform: str) -> bytes:
    if platform == "xiaohongshu":
        return json.dumps({"code": 0, "success": True, "data": {"has_more": False, "items": []}}).encode()
    return b"{}"


def _bili_search() -> bytes:
    page = json.loads((FIX / "bilibili" / "search_type_video.json").read_text(encoding="utf-8"))
    page["data"]["numPages"] = 1
    return json.dumps(page, ensure_ascii=False).encode()


@pytest.fixture(scope="module")
def platform() -> Iterator[FakePlatform]:
    state = FakePlatform()

    class Handler(QuietHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            path, raw_query = parts.path, parts.query
            body = self.read_body()
            headers = dict(self.headers.items())
            cookies = _cookies(headers)
            if path == "/www.xiaohongshu.com/explore":
                logged_in = cookies.get("web_session") == XHS_SESSION
                state.record(path, logged_in, headers)
                self.reply(200, (XHS_PAGE if logged_in else LOGIN_WALL).encode(), "text/html; charset=utf-8")
            elif path in ("/www.douyin.com/", "/nohook/www.douyin.com/"):
                page = DOUYIN_PAGE if path == "/www.douyin.com/" else LOGIN_WALL
                state.record(path, True, headers)
                self.reply(200, page.encode(), "text/html; charset=utf-8")
            elif path == "/edith.xiaohongshu.com/api/sns/web/v1/search/notes":
                ok = _xhs_signed(path, body, headers)
                state.record(path, ok, headers)
                page1 = json.loads(body or b"{}").get("page") == 1
                reply = (
                    (FIX / "xiaohongshu" / "search_notes.json").read_bytes() if page1 else _empty_page("xiaohongshu")
                )
                self.reply(200, reply) if ok else self.reply(461, b"")
            elif path == "/edith.xiaohongshu.com/api/sns/web/v1/feed":
                # Search hits are followed to the note (with their xsec_token), signed the same way.
                ok = _xhs_signed(path, body, headers)
                state.record(path, ok, headers)
                note = json.loads((FIX / "xiaohongshu" / "feed.json").read_bytes())
                asked = str(json.loads(body or b"{}").get("source_note_id", ""))
                note["data"]["items"][0]["id"] = note["data"]["items"][0]["note_card"]["note_id"] = asked
                self.reply(200, json.dumps(note, ensure_ascii=False).encode()) if ok else self.reply(461, b"")
            elif path == "/www.douyin.com/aweme/v1/web/general/search/single/":
                ok = _douyin_signed(path, raw_query) and cookies.get("sessionid") == DY_SESSION
                state.record(path, ok, headers, raw_query)
                self.reply(200, (FIX / "douyin" / "search_general.json").read_bytes() if ok else b"")
            elif path == "/api.bilibili.com/x/web-interface/nav":
                state.record(path, True, headers)
                with state.lock:
                    img, sub = state.nav_keys.pop(0) if len(state.nav_keys) > 1 else state.nav_keys[0]
                nav = {
                    "code": -101,
                    "message": "账号未登录",
                    "data": {
                        "isLogin": False,
                        "wbi_img": {
                            "img_url": f"https://i0.hdslb.com/bfs/wbi/{img}.png",
                            "sub_url": f"https://i0.hdslb.com/bfs/wbi/{sub}.png",
                        },
                    },
                }
                self.reply(200, json.dumps(nav, ensure_ascii=False).encode())
            elif path == "/api.bilibili.com/x/web-interface/wbi/search/type":
                ok = _wbi_signed(raw_query)
                state.record(path, ok, headers, raw_query)
                refused = {"code": -352, "message": "风控校验失败", "ttl": 1, "data": {"v_voucher": "voucher_x"}}
                self.reply(200, _bili_search() if ok else json.dumps(refused, ensure_ascii=False).encode())
            else:
                state.record(path, False, headers)
                self.reply(404, b"not found", "text/plain")

        do_GET = _serve
        do_POST = _serve

    with serve_http(Handler) as state.base:
        yield state


@pytest.fixture
def fake(platform: FakePlatform) -> FakePlatform:
    if not Path(CHROMIUM).exists():
        missing_real_part("Debian chromium is not installed")
    with platform.lock:
        platform.seen.clear()
        platform.nav_keys = [(IMG_KEY, SUB_KEY)]
    return platform


def _cookie(name: str, value: str, domain: str) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "domain": domain,
        "path": "/",
        "expires": -1,
        "httpOnly": True,
        "secure": False,
        "sameSite": "Lax",
    }


def account_file(tmp_path: Path, name: str, cookies: list[dict[str, Any]]) -> Path:
    """A Playwright storage state: the loopback cookie logs the page in, the platform-domain one is Scrapy's."""
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"cookies": cookies, "origins": []}), encoding="utf-8")
    return path


# The project's own Scrapy settings (crawlers/settings.py, where the middleware is wired), made fast for a test.
RUNNER = r"""
import json, sys
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings as ScrapySettings
from scrapy.utils.misc import load_object
from core.settings import Settings
from crawlers.settings import scrapy_settings

spider, name, home, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
overrides, kwargs = json.loads(sys.argv[5]), json.loads(sys.argv[6])
settings = ScrapySettings(scrapy_settings(Settings(home=home), name, "signing-test"), priority="project")
for key, value in overrides.items():
    settings.set(key, value, priority="cmdline")
process = CrawlerProcess(settings)
crawler = process.create_crawler(load_object(spider))
items = []


def on_item(item, response, spider):
    items.append(item.model_dump(mode="json"))


crawler.signals.connect(on_item, signals.item_scraped)
process.crawl(crawler, **kwargs)
process.start()
with open(out, "w", encoding="utf-8") as fh:
    json.dump({"items": items, "stats": crawler.stats.get_stats()}, fh, default=str, ensure_ascii=False)
"""


def crawl(spider: str, tmp_path: Path, signing: str, *, timeout_s: float = 10, **kwargs: str) -> dict[str, Any]:
    name = spider.rsplit(".", 2)[-2]
    out = tmp_path / f"{name}-{signing}.json"
    overrides = {
        "QINGYUAN_SIGNING": signing,
        "QINGYUAN_SIGNING_TIMEOUT": timeout_s,
        "DOWNLOAD_DELAY": 0,
        "DOWNLOAD_DELAY_JITTER": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "QINGYUAN_BACKOFF_BASE": 0.01,
        "RETRY_TIMES": 1,
        "DOWNLOAD_TIMEOUT": 10,
        "LOG_LEVEL": "DEBUG",  # the most talkative level: secrets must not show even here
    }
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, spider, name, str(tmp_path / "home"), str(out), json.dumps(overrides),
         json.dumps({"max_pages": "1", **kwargs})],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    out.with_suffix(".log").write_text(proc.stderr + proc.stdout, encoding="utf-8")  # kept for a failing test
    return {**result, "log": proc.stderr + proc.stdout}


def expected_keys(platform: str, fixture: Path) -> set[str]:
    return {p.key for p in get_parser(platform)(fixture.read_bytes(), "https://example.invalid/")}


def assert_no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# ----------------------------------------------------------------------------- crawls


def test_xiaohongshu_search_is_signed_by_the_logged_in_page(fake: FakePlatform, tmp_path: Path) -> None:
    account = account_file(
        tmp_path,
        "xhs-acct",
        [_cookie("web_session", XHS_SESSION, "127.0.0.1"), _cookie("a1", XHS_A1, ".xiaohongshu.com")],
    )
    args = {"mode": "search", "query": "停息挂账", "base_url": fake.base, "accounts": str(account)}
    spider = "crawlers.spiders.xiaohongshu.XiaohongshuSpider"

    signed = crawl(spider, tmp_path, "on", **args)
    want = expected_keys("xiaohongshu", FIX / "xiaohongshu" / "search_notes.json")
    assert want and {i["key"] for i in signed["items"]} == want
    calls = fake.api("/search/notes")
    assert calls and all(c.ok for c in calls)
    assert len(fake.api("/explore")) == 1 and fake.api("/explore")[0].ok  # one page, reused; it was logged in
    notes = fake.api("/v1/feed")
    assert len(notes) == len(want) and all(c.ok for c in notes)  # every hit read whole, signed
    stats = signed["stats"]
    assert stats["qingyuan/signing/xiaohongshu/signed"] == len(calls) + len(notes)
    assert "qingyuan/soft_block/xiaohongshu" not in stats
    assert_no_secrets(signed["log"])

    fake.seen.clear()
    unsigned = crawl(spider, tmp_path, "off", **args)
    assert unsigned["items"] == []
    assert fake.api("/search/notes") and not any(c.ok for c in fake.api("/search/notes"))
    assert not fake.api("/explore")  # signing off: no browser at all
    stats = unsigned["stats"]
    # Refused, and the stats say so: a soft block, never "no results".
    assert stats["qingyuan/soft_block/xiaohongshu"] == len(fake.api("/search/notes")) >= 2
    assert stats["qingyuan/soft_block_reason/http 461"] >= 1
    assert stats["qingyuan/soft_block_gave_up/xiaohongshu"] == 1
    assert_no_secrets(unsigned["log"])


def test_douyin_search_goes_through_the_pages_hooked_xhr(fake: FakePlatform, tmp_path: Path) -> None:
    account = account_file(
        tmp_path,
        "dy-acct",
        [_cookie("sessionid", DY_SESSION, "127.0.0.1"), _cookie("sessionid_ss", DY_SS, ".douyin.com")],
    )
    args = {"mode": "search", "query": "征信修复", "base_url": fake.base, "accounts": str(account)}
    spider = "crawlers.spiders.douyin.DouyinSpider"

    signed = crawl(spider, tmp_path, "on", **args)
    want = expected_keys("douyin", FIX / "douyin" / "search_general.json")
    assert want and {i["key"] for i in signed["items"]} == want
    assert all(i["crawl"]["query"] == "征信修复" for i in signed["items"])  # request.meta survived the page trip
    calls = fake.api("/general/search/single/")
    assert calls and all(c.ok for c in calls)
    # Sent by chromium (the context's user agent and cookies), not by Scrapy.
    assert all("Qingyuan/0.1" in c.headers.get("User-Agent", "") for c in calls)
    assert all(unquote(c.query).count("keyword=征信修复") == 1 for c in calls)
    assert signed["stats"]["qingyuan/signing/douyin/signed"] == len(calls)
    assert "qingyuan/soft_block/douyin" not in signed["stats"]
    assert_no_secrets(signed["log"])

    fake.seen.clear()
    unsigned = crawl(spider, tmp_path, "off", **args)
    assert unsigned["items"] == []
    calls = fake.api("/general/search/single/")
    assert calls and not any(c.ok for c in calls)
    assert all("a_bogus" not in c.query for c in calls)
    stats = unsigned["stats"]
    assert stats["qingyuan/soft_block/douyin"] == len(calls)
    assert stats["qingyuan/soft_block_reason/empty-200"] == len(calls)
    assert_no_secrets(unsigned["log"])


def test_bilibili_search_gets_a_wbi_signature_from_the_nav_keys(fake: FakePlatform, tmp_path: Path) -> None:
    args = {"mode": "search", "query": "停息挂账 (协商)", "base_url": fake.base}
    spider = "crawlers.spiders.bilibili.BilibiliSpider"

    signed = crawl(spider, tmp_path, "on", **args)
    want = expected_keys("bilibili", FIX / "bilibili" / "search_type_video.json")
    assert want and {i["key"] for i in signed["items"]} == want
    calls = fake.api("/wbi/search/type")
    assert len(calls) == 1 and calls[0].ok
    sent = dict(parse_qsl(calls[0].query))
    assert sent["keyword"] == "停息挂账 协商"  # the platform's filter: !'()* dropped before signing and sending
    assert len(fake.api("/x/web-interface/nav")) == 1
    stats = signed["stats"]
    assert stats["qingyuan/signing/bilibili/keys_fetched"] == 1
    assert stats["qingyuan/signing/bilibili/signed"] == 1
    assert "qingyuan/soft_block/bilibili" not in stats

    fake.seen.clear()
    unsigned = crawl(spider, tmp_path, "off", **args)
    assert unsigned["items"] == []
    calls = fake.api("/wbi/search/type")
    assert calls and all("w_rid" not in c.query for c in calls)
    assert not fake.api("/x/web-interface/nav")
    stats = unsigned["stats"]
    assert stats["qingyuan/soft_block/bilibili"] == len(calls)
    assert stats["qingyuan/soft_block_reason/risk control"] == len(calls)


def test_auto_mode_leaves_replay_crawls_unsigned(fake: FakePlatform, tmp_path: Path) -> None:
    # base_url set and no explicit switch: the existing replay tests must see the requests as the spider built them.
    result = crawl("crawlers.spiders.bilibili.BilibiliSpider", tmp_path, "auto", mode="search", query="征信修复",
                   base_url=fake.base)  # fmt: skip
    assert result["stats"]["qingyuan/signing/active"] is False
    assert not fake.api("/x/web-interface/nav")
    assert fake.api("/wbi/search/type") and all("w_rid" not in c.query for c in fake.api("/wbi/search/type"))


def test_a_login_wall_on_the_signing_page_sends_unsigned_and_says_why(fake: FakePlatform, tmp_path: Path) -> None:
    # The account lacks the login the page wants: no _webmsxyw, so the crawl goes on unsigned, the platform
    # refuses, and the stats hold both the block and the signing failure.
    account = account_file(tmp_path, "xhs-expired", [_cookie("a1", XHS_A1, ".xiaohongshu.com")])
    result = crawl("crawlers.spiders.xiaohongshu.XiaohongshuSpider", tmp_path, "on", timeout_s=1.5, mode="search",
                   query="反催收", base_url=fake.base, accounts=str(account))  # fmt: skip
    calls = fake.api("/search/notes")
    assert result["items"] == [] and calls and not any(c.ok for c in calls)
    assert len(fake.api("/explore")) == 1  # the cool-down spares the retries another page load and timeout
    stats = result["stats"]
    assert stats["qingyuan/signing_failed/xiaohongshu"] == len(calls)
    assert stats["qingyuan/soft_block/xiaohongshu"] == len(calls)
    assert "window._webmsxyw did not appear" in result["log"]
    assert_no_secrets(result["log"])


def test_rotated_wbi_keys_are_fetched_again_after_a_rejection(fake: FakePlatform, tmp_path: Path) -> None:
    # The first nav answer carries yesterday's keys: the signature is refused (-352), the cached keys are dropped,
    # and the spider's retry is signed again with the keys of a second nav call.
    fake.nav_keys = [("0" * 32, "1" * 32), (IMG_KEY, SUB_KEY)]
    result = crawl("crawlers.spiders.bilibili.BilibiliSpider", tmp_path, "on", mode="search", query="债务优化",
                   base_url=fake.base)  # fmt: skip
    want = expected_keys("bilibili", FIX / "bilibili" / "search_type_video.json")
    assert {i["key"] for i in result["items"]} == want
    assert [c.ok for c in fake.api("/wbi/search/type")] == [False, True]
    assert len(fake.api("/x/web-interface/nav")) == 2
    stats = result["stats"]
    assert stats["qingyuan/signing/bilibili/keys_rejected"] == 1
    assert stats["qingyuan/signing/bilibili/keys_fetched"] == 2
    assert stats["qingyuan/soft_block/bilibili"] == 1


# Zhihu (search captured from the web app's own signed calls): tests/integration/test_signing_zhihu.py.


# ----------------------------------------------------------------------------- the signer itself


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_a_page_without_the_signing_function_fails_clearly_and_once(
    fake: FakePlatform, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # The loopback cookie is missing: the fake page shows its login wall and never defines _webmsxyw.
    account = load_account(
        account_file(tmp_path, "xhs-walled", [_cookie("a1", XHS_A1, ".xiaohongshu.com")]), "xiaohongshu"
    )

    async def scenario() -> tuple[str, str, int]:
        pages = {"xiaohongshu": f"{fake.base}/www.xiaohongshu.com/explore"}
        async with PageSigner(executable_path=CHROMIUM, timeout_s=1.5, page_urls=pages) as signer:
            with pytest.raises(SigningUnavailable) as first:
                await signer.sign_headers("xiaohongshu", "https://edith.xiaohongshu.com/api/x", b"{}", account=account)
            # Within the cool-down the same login fails at once, without opening another page.
            with pytest.raises(SigningUnavailable) as second:
                await signer.sign_headers("xiaohongshu", "https://edith.xiaohongshu.com/api/x", b"{}", account=account)
            return str(first.value), str(second.value), len(fake.api("/explore"))

    first, second, page_loads = _run(scenario())
    assert "window._webmsxyw did not appear within 1.5s" in first and "login wall" in first
    assert second == first and page_loads == 1
    assert_no_secrets(first + caplog.text)


def test_a_douyin_page_without_the_sdk_hook_is_unavailable(fake: FakePlatform) -> None:
    async def scenario() -> str:
        pages = {"douyin": f"{fake.base}/nohook/www.douyin.com/"}
        async with PageSigner(executable_path=CHROMIUM, timeout_s=1.0, page_urls=pages) as signer:
            with pytest.raises(SigningUnavailable) as info:
                await signer.fetch_in_page(f"{fake.base}/nohook/www.douyin.com/aweme/v1/web/x", platform="douyin")
            return str(info.value)

    assert "XMLHttpRequest hook did not appear" in _run(scenario())


def test_a_crashed_signing_page_is_reopened(
    fake: FakePlatform, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    account = load_account(
        account_file(
            tmp_path,
            "xhs-acct",
            [_cookie("web_session", XHS_SESSION, "127.0.0.1"), _cookie("a1", XHS_A1, ".xiaohongshu.com")],
        ),
        "xiaohongshu",
    )
    url = "https://edith.xiaohongshu.com/api/sns/web/v1/user_posted?num=30&cursor=&user_id=5f00"

    async def scenario() -> tuple[dict[str, str], dict[str, str], int]:
        pages = {"xiaohongshu": f"{fake.base}/www.xiaohongshu.com/explore"}
        async with PageSigner(executable_path=CHROMIUM, timeout_s=5, page_urls=pages) as signer:
            before = await signer.sign_headers("xiaohongshu", url, None, account=account)
            page = await signer.page("xiaohongshu", account)
            crashes: list[object] = []
            page.on("crash", lambda crashed: crashes.append(crashed))
            with contextlib.suppress(Exception):  # the navigation dies with the renderer
                await page.goto("chrome://crash", timeout=5000)
            for _ in range(100):  # the crash event arrives just after the failed navigation
                if crashes:
                    break
                await asyncio.sleep(0.05)
            assert crashes, "chromium did not crash the page"
            after = await signer.sign_headers("xiaohongshu", url, None, account=account)
            # Again, signing at once: the call may meet "Target crashed" before the crash event; either way it
            # must come back signed from a fresh page.
            page = await signer.page("xiaohongshu", account)
            with contextlib.suppress(Exception):
                await page.goto("chrome://crash", timeout=5000)
            again = await signer.sign_headers("xiaohongshu", url, None, account=account)
            assert again["x-s"] == after["x-s"]
            return before, after, signer.pages_opened

    before, after, opened = _run(scenario())
    want = "XYW_" + qy_hash("/api/sns/web/v1/user_posted?num=30&cursor=&user_id=5f00")
    assert before["x-s"] == want and after["x-s"] == want and after["x-t"].isdigit()
    assert opened == 3
    assert_no_secrets(caplog.text)
