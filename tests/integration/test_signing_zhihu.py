"""Zhihu search through the web app's own signed requests: the real zhihu spider, Scrapy, the signing middleware and
Debian chromium against a fake Zhihu on loopback.

The fake search page imitates how the real web app signs (a hand-written stand-in, never Zhihu's code): its own
request helper, inside a closure, adds x-zse-93 and an x-zse-96 computed from the request path and the d_c0 cookie;
there is nothing global to call and XMLHttpRequest/fetch are not hooked. It asks for search_v3 offset 0 on load and
for the next offset when the reader scrolls to the bottom. The fake API refuses search_v3 without the right header
(403, error 10003: what Zhihu answers) and serves the hand-written fixture when it is right.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from scrapy import Request

from crawlers.extract import get_parser
from crawlers.signing.browser_signer import PageSigner, SigningUnavailable
from crawlers.signing.middleware import zhihu_search_params
from crawlers.spiders.sessions import load_account
from tests.integration.conftest import missing_real_part
from tests.integration.loopback import QuietHandler, serve_http
from tests.integration.test_signing import (
    CHROMIUM,
    FIX,
    HASH_JS,
    LOGIN_WALL,
    _cookie,
    account_file,
    crawl,
    qy_hash,
)

Z_C0 = "zh-secret-z_c0-9031"  # login cookie the fake search page wants (127.0.0.1)
D_C0 = "zh-secret-d_c0-5522"  # device cookie the page's signing code reads (127.0.0.1, readable by scripts)
SCRAPY_Z_C0 = "zh-secret-z_c0-scrapy-7"  # platform-domain cookie, what Scrapy sends along
SECRETS = (Z_C0, D_C0, SCRAPY_Z_C0)
ZSE_93 = "101_3_3.0"
SEARCH_FIXTURE = FIX / "zhihu" / "search_v3.json"
SPIDER = "crawlers.spiders.zhihu.ZhihuSpider"

SEARCH_PAGE = f"""<!doctype html><html><head><meta charset="utf-8"></head><body><div id="list"></div><script>
(function () {{
  // Everything lives in this closure, like the bundled app: no global signer, no patched fetch.
  {HASH_JS}
  const dc0 = (document.cookie.match(/(?:^|; )d_c0=([^;]*)/) || [])[1] || "";
  function signedGet(path) {{
    const u = new URL(path, location.href);
    const uri = u.pathname + u.search;
    return fetch(u.toString(), {{
      credentials: "include",
      headers: {{"x-zse-93": "{ZSE_93}", "x-zse-96": "2.0_" + qyHash("{ZSE_93}+" + uri + "+" + dc0)}},
    }}).then((r) => r.json());
  }}
  const q = new URLSearchParams(location.search).get("q") || "";
  let offset = 0, loading = false, done = false;
  function more() {{
    if (loading || done) return;
    loading = true;
    const params = new URLSearchParams({{gk_version: "gz-gaokao", t: "general", q: q, correction: "1",
      offset: String(offset), limit: "20", filter_fields: "", lc_idx: String(offset), show_all_topics: "0",
      search_source: "Normal"}});
    signedGet("api/v4/search_v3?" + params.toString()).then((page) => {{
      for (const item of page.data || []) {{
        const card = document.createElement("div");
        card.style.height = "600px";  // a real result list is taller than the window
        card.textContent = item.type;
        document.getElementById("list").appendChild(card);
      }}
      done = !page.paging || page.paging.is_end;
      offset += 20;
      loading = false;
    }});
  }}
  window.addEventListener("scroll", () => {{
    if (window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 300) more();
  }});
  more();
}})();
</script></body></html>"""


def zhihu_page(q: str, offset: int) -> bytes:
    """Offset 0: the fixture (its next link for this keyword); offset 20: the fixture with new ids, the end."""
    page = json.loads(SEARCH_FIXTURE.read_text(encoding="utf-8"))
    if offset == 0:
        page["paging"]["next"] = (
            f"https://www.zhihu.com/api/v4/search_v3?gk_version=gz-gaokao&t=general&q={quote(q)}&offset=20&limit=20"
        )
    elif offset == 20:
        for item in page["data"]:
            obj = item.get("object")
            if isinstance(obj, dict) and str(obj.get("id", "")).isdigit():
                obj["id"] = str(int(obj["id"]) + 20)
        page["paging"] = {"is_end": True, "next": "", "previous": ""}
    else:
        page = {"paging": {"is_end": True, "next": ""}, "data": []}
    return json.dumps(page, ensure_ascii=False).encode()


@dataclass
class Call:
    path: str
    ok: bool
    headers: dict[str, str]
    query: dict[str, str]


@dataclass
class FakeZhihu:
    base: str = ""
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, suffix: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.path.endswith(suffix)]


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    raw = headers.get("Cookie", "")
    return dict(part.strip().split("=", 1) for part in raw.split(";") if "=" in part)


@pytest.fixture(scope="module")
def zhihu_server() -> Iterator[FakeZhihu]:
    state = FakeZhihu()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            headers = dict(self.headers.items())
            cookies = _cookies(headers)
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            lowered = {k.lower(): v for k, v in headers.items()}
            if parts.path == "/www.zhihu.com/search":
                logged_in = cookies.get("z_c0") == Z_C0
                with state.lock:
                    state.calls.append(Call(parts.path, logged_in, headers, query))
                self.reply(200, (SEARCH_PAGE if logged_in else LOGIN_WALL).encode(), "text/html; charset=utf-8")
            elif parts.path == "/www.zhihu.com/api/v4/search_v3":
                want = "2.0_" + qy_hash(f"{ZSE_93}+{self.path}+{cookies.get('d_c0', '')}")
                ok = (
                    cookies.get("d_c0") == D_C0
                    and lowered.get("x-zse-93") == ZSE_93
                    and lowered.get("x-zse-96") == want
                )
                with state.lock:
                    state.calls.append(Call(parts.path, ok, headers, query))
                if ok:
                    self.reply(200, zhihu_page(query.get("q", ""), int(query.get("offset") or 0)))
                else:
                    refused = {"error": {"code": 10003, "message": "请求参数异常，请升级客户端后重试。"}}
                    self.reply(403, json.dumps(refused, ensure_ascii=False).encode())
            else:
                self.reply(404, b"not found", "text/plain")

    with serve_http(Handler) as state.base:
        yield state


@pytest.fixture
def fake(zhihu_server: FakeZhihu) -> FakeZhihu:
    if not Path(CHROMIUM).exists():
        missing_real_part("Debian chromium is not installed")
    with zhihu_server.lock:
        zhihu_server.calls.clear()
    return zhihu_server


def zhihu_account(tmp_path: Path, name: str = "zh-acct", *, logged_in: bool = True) -> Path:
    d_c0 = _cookie("d_c0", D_C0, "127.0.0.1")
    d_c0["httpOnly"] = False  # the page's signing code reads it, as Zhihu's does
    cookies = [d_c0, _cookie("z_c0", SCRAPY_Z_C0, ".zhihu.com")]
    if logged_in:
        cookies.append(_cookie("z_c0", Z_C0, "127.0.0.1"))
    return account_file(tmp_path, name, cookies)


def keys_of(body: bytes) -> set[str]:
    return {p.key for p in get_parser("zhihu")(body, "https://example.invalid/")}


def assert_no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# ----------------------------------------------------------------------------- crawls


@pytest.mark.integration
@pytest.mark.browser
def test_zhihu_search_is_captured_from_the_apps_own_signed_calls(fake: FakeZhihu, tmp_path: Path) -> None:
    q = "停息挂账"
    account = str(zhihu_account(tmp_path))
    args: dict[str, Any] = {"mode": "search", "query": q, "base_url": fake.base, "accounts": account, "max_pages": "3"}

    signed = crawl(SPIDER, tmp_path, "on", **args)
    want = keys_of(zhihu_page(q, 0)) | keys_of(zhihu_page(q, 20))
    assert len(want) == 4 and {i["key"] for i in signed["items"]} == want  # both pages, nothing else
    assert all(i["crawl"]["query"] == q for i in signed["items"])  # request.meta survived the page trip
    calls = fake.to("/api/v4/search_v3")
    # Page 1: the app's first call. Page 2: a fresh page's first call, then the one its scroll caused.
    assert [c.query["offset"] for c in calls] == ["0", "0", "20"]
    assert all(c.ok and c.query["q"] == q for c in calls)
    # Made by chromium's fetch (the app's), not by Scrapy.
    assert all(c.headers.get("Sec-Fetch-Mode") == "cors" for c in calls)
    pages = fake.to("/www.zhihu.com/search")
    assert len(pages) == 2 and all(p.ok and p.query == {"type": "content", "q": q} for p in pages)
    stats = signed["stats"]
    assert stats["qingyuan/signing/zhihu/signed"] == 2
    assert "qingyuan/soft_block/zhihu" not in stats
    assert "qingyuan/signing_failed/zhihu" not in stats
    assert "qingyuan/signing_unsupported/zhihu" not in stats
    assert_no_secrets(signed["log"])

    with fake.lock:
        fake.calls.clear()
    unsigned = crawl(SPIDER, tmp_path, "off", **args)
    assert unsigned["items"] == []
    calls = fake.to("/api/v4/search_v3")
    assert calls and not any(c.ok for c in calls)
    assert all("x-zse-96" not in {k.lower() for k in c.headers} for c in calls)
    assert not fake.to("/www.zhihu.com/search")  # signing off: no browser at all
    stats = unsigned["stats"]
    # Refused, and the stats say so: a soft block, never "no results".
    assert stats["qingyuan/soft_block/zhihu"] == len(calls) >= 2
    assert stats["qingyuan/soft_block_gave_up/zhihu"] == 1
    assert "qingyuan/signing/zhihu/signed" not in stats
    assert_no_secrets(unsigned["log"])


@pytest.mark.integration
@pytest.mark.browser
def test_a_zhihu_login_wall_sends_unsigned_and_says_why(fake: FakeZhihu, tmp_path: Path) -> None:
    # The account lacks the login the search page wants: the app never calls search_v3, the capture gives up,
    # the request goes out unsigned and is refused; the cool-down spares the retries another page and timeout.
    account = zhihu_account(tmp_path, "zh-expired", logged_in=False)
    result = crawl(SPIDER, tmp_path, "on", timeout_s=1.5, mode="search", query="征信修复", base_url=fake.base,
                   accounts=str(account))  # fmt: skip
    calls = fake.to("/api/v4/search_v3")
    assert result["items"] == [] and calls and not any(c.ok for c in calls)
    assert len(fake.to("/www.zhihu.com/search")) == 1
    stats = result["stats"]
    assert stats["qingyuan/signing_failed/zhihu"] == len(calls)
    assert stats["qingyuan/soft_block/zhihu"] == len(calls)
    assert "qingyuan/signing/zhihu/signed" not in stats
    assert "made no call to /api/v4/search_v3 within 1.5s" in result["log"]
    assert_no_secrets(result["log"])


# ----------------------------------------------------------------------------- the capture itself


@pytest.mark.integration
@pytest.mark.browser
def test_a_capture_without_the_api_call_fails_within_the_timeout(
    fake: FakeZhihu, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    account = load_account(zhihu_account(tmp_path, "zh-walled", logged_in=False), "zhihu")
    page_url = f"{fake.base}/www.zhihu.com/search?type=content&q=x"

    async def scenario() -> tuple[str, str, int, int]:
        async with PageSigner(executable_path=CHROMIUM, timeout_s=1.5) as signer:
            capture = signer.capture("zhihu", page_url, "/api/v4/search_v3", account=account, scroll_rounds=2)
            with pytest.raises(SigningUnavailable) as first:
                # The guard only stops a hung capture from hanging the test; the capture must fail by itself.
                await asyncio.wait_for(capture, 30)
            open_pages = sum(len(slot.context.pages) for slot in signer._slots.values())
            with pytest.raises(SigningUnavailable) as second:  # the cool-down: at once, without another page
                await signer.capture("zhihu", page_url, "/api/v4/search_v3", account=account)
            return str(first.value), str(second.value), open_pages, signer.pages_opened

    first, second, open_pages, opened = asyncio.run(scenario())
    assert "made no call to /api/v4/search_v3 within 1.5s" in first and "login wall" in first
    assert second == first
    assert open_pages == 0  # the capture closed its page
    assert opened == 1 and len(fake.to("/www.zhihu.com/search")) == 1
    assert not fake.to("/api/v4/search_v3")
    assert_no_secrets(first + caplog.text)


@pytest.mark.integration
@pytest.mark.browser
def test_a_capture_scrolls_to_the_wanted_answer_and_gives_up_past_the_end(fake: FakeZhihu, tmp_path: Path) -> None:
    account = load_account(zhihu_account(tmp_path), "zhihu")
    page_url = f"{fake.base}/www.zhihu.com/search?type=content&q=%E5%80%BA%E5%8A%A1%E4%BC%98%E5%8C%96"

    def offset_is(n: int) -> Any:
        return lambda url: dict(parse_qsl(urlsplit(url).query)).get("offset") == str(n)

    async def scenario() -> tuple[Any, str]:
        async with PageSigner(executable_path=CHROMIUM, timeout_s=3) as signer:
            got = await signer.capture(
                "zhihu", page_url, "/api/v4/search_v3", account=account, want=offset_is(20), scroll_rounds=3,
                pause_s=0.3,
            )  # fmt: skip
            # Offset 40 never comes (offset 20 was the end): a failure, but not the login's fault (no cool-down).
            with pytest.raises(SigningUnavailable) as past_end:
                await signer.capture(
                    "zhihu", page_url, "/api/v4/search_v3", account=account, want=offset_is(40), scroll_rounds=2,
                    pause_s=0.3,
                )  # fmt: skip
            again = await signer.capture("zhihu", page_url, "/api/v4/search_v3", account=account)
            assert dict(parse_qsl(urlsplit(again.url).query))["offset"] == "0"
            return got, str(past_end.value)

    got, past_end = asyncio.run(scenario())
    assert got.status == 200 and "offset=20" in got.url
    assert keys_of(got.body) == keys_of(zhihu_page("债务优化", 20))
    assert got.headers["content-type"].startswith("application/json")
    assert "set-cookie" not in got.headers
    assert "none the wanted one" in past_end
    assert all(c.ok for c in fake.to("/api/v4/search_v3"))


def test_which_zhihu_requests_the_search_page_can_reproduce() -> None:
    base = "https://www.zhihu.com/api/v4/search_v3?gk_version=gz-gaokao&t=general&q="
    assert zhihu_search_params(Request(base + "%E5%81%9C%20%E6%81%AF&offset=40&limit=20")) == ("停 息", 40, 20)
    assert zhihu_search_params(Request(base + "abc")) == ("abc", 0, 20)  # the page's defaults
    assert zhihu_search_params(Request(base + "abc&offset=x&limit=0")) == ("abc", 0, 20)
    assert zhihu_search_params(Request(base.replace("t=general", "t=people") + "abc")) is None
    assert zhihu_search_params(Request(base + "&offset=20")) is None  # no keyword
    assert zhihu_search_params(Request(base + "abc", method="POST")) is None
