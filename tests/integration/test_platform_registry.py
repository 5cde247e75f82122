"""A new platform needs its registry entry, its parser module and its spider module, and nothing else.

The test writes a platform that exists nowhere in the repository ("fakeplat", 假平台) as a package of three small
files in a temporary folder, registers it through QINGYUAN_PLATFORM_MODULES, and drives the real product in child
processes: `qingyuan parse`, `qingyuan crawl` against a loopback HTTP server, `qingyuan index`, `qingyuan search`,
`qingyuan report`, the console's search page, and the facts derived from the entry (cookie domains, block codes,
signing, the Chinese name in reports).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

ENTRY = """
from core.platforms import PlatformSpec

PLATFORM = PlatformSpec(
    name="fakeplat",
    name_zh="假平台",
    spider="qyfake.spider",
    parser="qyfake.parser",
    cookie_domains=("fake.invalid",),
    block_codes={"4455": "risk control: fakeplat 4455"},
    signing="cookies",
    post_kinds=("post",),
)
"""

PARSER = """
import json
from datetime import datetime, timezone

from core.records import Post, PostKind
from crawlers.extract.common import UnknownShape


def parse(body, url="", *, now=None):
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise UnknownShape(f"fakeplat: not JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise UnknownShape("fakeplat: no items list")
    return [
        Post(
            platform="fakeplat",
            post_id=str(item["id"]),
            kind=PostKind.post,
            url=f"https://fake.invalid/p/{item['id']}",
            text=item["text"],
            author_id=item.get("author"),
            published_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
        )
        for item in data["items"]
    ]
"""

SPIDER = """
from urllib.parse import quote

from crawlers.spiders.platform_base import PlatformSpider


class FakeSpider(PlatformSpider):
    name = "fakeplat"
    platform = "fakeplat"
    custom_settings = {**PlatformSpider.custom_settings, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}

    def build_start(self):
        for q in self.start_queries():
            yield self.request(f"https://fake.invalid/search?q={quote(q)}", seed=q)
"""

LEADS = {
    "items": [
        {"id": "1", "text": "专业停息挂账，逾期不用怕，成功率高，不成功不收费，加薇❤ qy20261 详聊", "author": "a1"},
        {"id": "2", "text": "征.信花了也能修复，zx修复找我们，主页有联系方式，评论区扣1", "author": "a2"},
        {"id": "3", "text": "今天去公园跑步，天气真好，晚上吃火锅。", "author": "a3"},
    ]
}


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    pkg = tmp_path / "plugins" / "qyfake"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "platform.py").write_text(ENTRY, encoding="utf-8")
    (pkg / "parser.py").write_text(PARSER, encoding="utf-8")
    (pkg / "spider.py").write_text(SPIDER, encoding="utf-8")
    return pkg.parent


@pytest.fixture
def site() -> Iterator[str]:
    """The fake platform's API on loopback (the spider's base_url rewrites https://fake.invalid/... here)."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = json.dumps(LEADS, ensure_ascii=False).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _env(plugin: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "QINGYUAN_ELASTICSEARCH_URL"}
    env.update(
        PYTHONPATH=os.pathsep.join([str(plugin), str(REPO)]),
        QINGYUAN_PLATFORM_MODULES="qyfake.platform",
        QINGYUAN_HOME=str(home),
        QINGYUAN_CLASSIFIER="lexicon",
    )
    return env


def _qingyuan(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", "from wiring.cli import app; app(prog_name='qingyuan')", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def _python(env: dict[str, str], code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_a_new_platform_is_its_registry_entry_parser_and_spider(plugin: Path, site: str, tmp_path: Path) -> None:
    env = _env(plugin, tmp_path / "home")

    # parse: the parser is found by the name in the registry entry
    saved = tmp_path / "search.json"
    saved.write_text(json.dumps(LEADS, ensure_ascii=False), encoding="utf-8")
    parsed = _qingyuan(env, "parse", "--platform", "fakeplat", str(saved))
    assert parsed.returncode == 0, parsed.stderr
    posts = [json.loads(line) for line in parsed.stdout.splitlines()]
    assert [f"{p['platform']}:{p['post_id']}" for p in posts] == ["fakeplat:1", "fakeplat:2", "fakeplat:3"]
    assert _qingyuan(env, "parse", "--platform", "fakeplat", str(REPO / "pyproject.toml")).returncode == 1

    # crawl: the spider is found by its name, runs in its own process, and spools what the parser made of the site
    crawled = _qingyuan(env, "crawl", "fakeplat", "--job", "fake", "-a", f"base_url={site}", "-a", "query=停息挂账")
    assert crawled.returncode == 0, crawled.stderr[-3000:]
    stats = json.loads(crawled.stdout)
    assert stats["posts_spooled"] == 3, stats

    # index, search and report pick it up with no other change
    posts_file = tmp_path / "posts.jsonl"
    posts_file.write_text(parsed.stdout, encoding="utf-8")
    indexed = _qingyuan(env, "index", "--input", str(posts_file))
    assert indexed.returncode == 0, indexed.stderr[-3000:]
    found = _qingyuan(env, "search", "", "--platform", "fakeplat", "--json")
    assert found.returncode == 0, found.stderr[-3000:]
    assert {h["post"]["key"] for h in json.loads(found.stdout)["hits"]} == {"fakeplat:1", "fakeplat:2"}
    reported = _qingyuan(
        env,
        "report",
        "--platform",
        "fakeplat",
        "--include-unreviewed",
        "--min-score",
        "0",
        "--out",
        str(tmp_path / "r"),
    )
    assert reported.returncode == 0, reported.stderr[-3000:]
    paths = [Path(p) for p in reported.stdout.split()]
    assert paths and all(p.name.startswith("QY-fakeplat-") for p in paths)
    batch = json.loads(next(p for p in paths if p.suffix == ".json").read_text(encoding="utf-8"))
    assert batch["platform"] == "fakeplat" and {i["hit_key"] for i in batch["items"]} == {"fakeplat:1", "fakeplat:2"}
    assert "假平台" in next(p for p in paths if p.suffix == ".html").read_text(encoding="utf-8")

    # the facts derived from the entry, and the console's search page offering the platform by its Chinese name
    facts = _python(
        env,
        """
import json
from fastapi.testclient import TestClient
from core.records import Platform
from core.settings import get_settings
from crawlers.extract.common import detect_soft_block
from crawlers.run import known_spiders
from crawlers.settings import scrapy_settings
from crawlers.spiders.sessions import _domain_ok
from webui.app import create_app
from webui.auth import add_user

settings = get_settings()
add_user(settings, "alice", "correct horse battery")
client = TestClient(create_app(settings))
page = client.get("/login").text
csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
client.post("/login", data={"name": "alice", "password": "correct horse battery", "csrf": csrf, "next": "/search"})
search = client.get("/search", params={"platform": "fakeplat"}).text
print(json.dumps({
    "enum": Platform("fakeplat").value,
    "spider": "fakeplat" in known_spiders(),
    "block": detect_soft_block("fakeplat", 200, '{"code": "4455", "items": []}', False),
    "cookie_ok": _domain_ok(".fake.invalid", "fakeplat"),
    "cookie_other": _domain_ok("douyin.com", "fakeplat"),
    "signed": "DOWNLOADER_MIDDLEWARES" in scrapy_settings(settings, "fakeplat", "j"),
    "console_option": '<option value="fakeplat"' in search and "假平台" in search,
    "console_hits": "fakeplat:1" in search or "fakeplat%3A1" in search,
}))
""",
    )
    assert json.loads(facts.strip().splitlines()[-1]) == {
        "enum": "fakeplat",
        "spider": True,
        "block": "risk control: fakeplat 4455",
        "cookie_ok": True,
        "cookie_other": False,
        "signed": True,
        "console_option": True,
        "console_hits": True,
    }
