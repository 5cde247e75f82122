"""Error answers of the console are Chinese pages with a way back: never a Python message, Starlette's English
phrase or FastAPI's JSON. The reports page's batch form keeps the analyst's inputs when it is refused."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.unit.test_webui import login, seed_home
from webui.app import create_app

LEAKS = re.compile(
    r"Traceback|Error\b|Exception|Not Found|Method Not Allowed|Unprocessable|\"detail\"|\{\"|value_error"
)


@pytest.fixture
def client(tmp_path):  # type: ignore[no-untyped-def]
    settings, _ = seed_home(tmp_path / "home")
    return TestClient(create_app(settings), raise_server_exceptions=False)


def _is_error_page(text: str, title: str, back: str) -> None:
    assert title in text
    assert f'href="{back}" id="back"' in text
    assert not LEAKS.search(text), LEAKS.search(text)


def test_404_405_422_and_403_are_chinese_pages(client) -> None:  # type: ignore[no-untyped-def]
    token = login(client)
    r = client.get("/no-such-page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    _is_error_page(r.text, "页面或记录不存在", "/search")
    r = client.get("/hit?key=douyin:404404")
    assert r.status_code == 404
    _is_error_page(r.text, "没有这条记录", "/search")
    r = client.get("/reports/build")  # a form's target, opened as a link
    assert r.status_code == 405 and "POST" in r.headers["allow"]
    _is_error_page(r.text, "不支持这种访问方式", "/reports")
    r = client.post("/reports/send", data={"csrf": token})  # batch_id missing: FastAPI's validation error
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    _is_error_page(r.text, "提交的内容不完整或格式不对", "/reports")
    r = client.post("/reports/build", data={"csrf": "forged"})
    assert r.status_code == 403
    _is_error_page(r.text, "刷新页面", "/reports")


def test_an_unexpected_failure_is_a_500_page_without_the_python_message(client) -> None:  # type: ignore[no-untyped-def]
    login(client)

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals /etc/passwd")

    client.app.state.console.casebook.list_audit = broken
    r = client.get("/audit")
    assert r.status_code == 500
    _is_error_page(r.text, "服务器内部错误", "/audit")
    assert "secret internals" not in r.text and "RuntimeError" not in r.text
    assert r.headers["content-security-policy"].startswith("default-src 'self'")


def test_a_bad_score_keeps_the_batch_form(client) -> None:  # type: ignore[no-untyped-def]
    token = login(client)
    form = {"csrf": token, "platform": "weibo", "include_unreviewed": "1", "min_score": '1.5"><script>x</script>'}
    r = client.post("/reports/build", data=form)
    assert r.status_code == 400
    assert "置信度阈值无效" in r.text
    assert '<option value="weibo" selected>' in r.text
    assert re.search(r'name="include_unreviewed" value="1" checked', r.text)
    assert 'value="1.5&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in r.text  # kept, and escaped
    assert "还没有批次" in r.text  # nothing was built
