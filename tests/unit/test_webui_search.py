"""The console's search page: bad input keeps the form, pages past the last, CSV export, saved searches, and the
same count as the CLI for the same query."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from core.settings import Settings
from indexer import open_store
from tests.unit.test_webui import login, make_hit, seed_home
from webui.app import create_app
from wiring.cli import app as cli


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings, _ = seed_home(tmp_path_factory.mktemp("search") / "home")
    store = open_store(settings)
    try:  # enough lead-generation hits for three pages, one of them a spreadsheet formula
        extra = [make_hit(settings, f"30{i:02d}", f"征信修复 洗白 加V zx{i:04d}", minutes=30 + i) for i in range(45)]
        extra.append(make_hit(settings, "3999", '=HYPERLINK("http://x","征信修复")', minutes=99))
        store.upsert(extra)
    finally:
        store.close()
    return settings


@pytest.fixture(scope="module")
def client(home: Settings) -> TestClient:  # the tests read, and save under names of their own
    client = TestClient(create_app(home))
    login(client)
    return client


def total(html: str) -> int:
    m = re.search(r'id="total">(\d+)<', html)
    assert m, "no total on the page"
    return int(m.group(1))


@pytest.mark.parametrize(
    ("params", "said", "kept"),
    [
        ({"q": "征信", "min_score": "abc"}, "不是数字", 'value="abc"'),
        ({"q": "征信", "min_score": "95"}, "0 到 1", 'value="95"'),
        ({"q": "征信", "since": "notadate"}, "无法识别的时间", 'value="notadate"'),
        ({"q": "征信", "page": "0"}, "页码", 'value="0"'),
        ({"q": "征信", "page": "abc"}, "页码", 'value="abc"'),
        ({"q": "(征信 OR zx"}, "左括号没有闭合", 'value="(征信 OR zx"'),
        ({"q": "catgory:x"}, "未知字段", 'value="catgory:x"'),
    ],
)
def test_bad_input_is_a_400_with_a_chinese_message_above_the_kept_form(
    client: TestClient, params: dict[str, str], said: str, kept: str
) -> None:
    r = client.get("/search", params=params)
    assert r.status_code == 400
    assert said in r.text and 'id="search-error"' in r.text
    assert kept in r.text and 'value="征信"' in r.text if params.get("q") == "征信" else kept in r.text
    assert "Traceback" not in r.text and "{" not in r.text.split('id="search-error"')[1].split("</p>")[0]
    assert r.text.index('id="search-error"') < r.text.index('class="searchbar"')  # the message is above the form


def test_a_page_past_the_last_shows_the_last(client: TestClient) -> None:
    first = client.get("/search", params={"q": "征信"})
    n = total(first.text)
    last = -(-n // 20)
    assert last >= 3
    r = client.get("/search", params={"q": "征信", "page": "99"})
    assert r.status_code == 200
    assert f"第 {last} / {last} 页" in r.text and "第 99 页超出范围" in r.text
    assert "第 99 / " not in r.text


def test_csv_export_is_the_whole_search_and_defused(client: TestClient) -> None:
    page = client.get("/search", params={"q": "征信 -洗白", "include_benign": "1"}).text
    link = re.search(r'id="csv-export" href="([^"]+)"', page)
    assert link
    r = client.get(link.group(1).replace("&amp;", "&"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "key" and len(rows) - 1 == total(page)
    assert any(row[-1].startswith("'=HYPERLINK") for row in rows[1:])
    assert not any(cell.startswith("=") for row in rows[1:] for cell in row)


def test_saved_searches_are_listed_and_run(client: TestClient, home: Settings) -> None:
    page = client.get("/search", params={"q": "征信 -zx0001", "since": "2026-10-01"}).text
    params = re.search(r'name="params" value="([^"]+)"', page)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert params and csrf
    r = client.post(
        "/search/saved",
        data={"csrf": csrf.group(1), "name": "征信 十月", "params": params.group(1).replace("&amp;", "&")},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "已保存搜索" in r.text
    listed = re.search(r'<ul id="saved-searches">\s*<li><a href="([^"]+)">征信 十月</a>', r.text)
    assert listed
    again = client.get(listed.group(1).replace("&amp;", "&"))
    assert total(again.text) == total(page) and 'value="征信 -zx0001"' in again.text
    other = TestClient(create_app(home))
    login(other, "bob")
    assert "征信 十月" not in other.get("/search").text  # per analyst


def test_console_and_cli_count_the_same(client: TestClient, home: Settings) -> None:
    env = {"QINGYUAN_HOME": str(home.home), "QINGYUAN_CLASSIFIER": "lexicon"}
    for q in ("征信", "停息挂账", "征信 OR 停息挂账", "-洗白"):
        console = total(client.get("/search", params={"q": q}).text)
        result = CliRunner().invoke(cli, ["search", "--json", "-n", "1", "--", q], env=env)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["total"] == console, q
    benign = total(client.get("/search", params={"q": "停息挂账", "include_benign": "1"}).text)
    result = CliRunner().invoke(cli, ["search", "停息挂账", "--include-benign", "--json"], env=env)
    assert json.loads(result.stdout)["total"] == benign > total(client.get("/search", params={"q": "停息挂账"}).text)


def test_filters_typed_as_chinese_names_show_in_the_selects(client: TestClient) -> None:
    html = client.get("/search", params={"platform": "抖音", "status": "待审核", "category": "洗白"}).text
    assert '<option value="douyin" selected>' in html and '<option value="new" selected>' in html
    assert '<option value="credit_repair" selected>' in html
    multi = client.get("/search", params={"platform": "抖音,微博"}).text
    assert '<option value="douyin,weibo" selected>' in multi and total(multi) >= 1
