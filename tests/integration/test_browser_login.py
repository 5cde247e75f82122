"""The Playwright path for logged-in crawling: an account's storage state loaded, the page rendered by JavaScript
as that account, and a screenshot taken — against a local page, in Debian chromium."""

from __future__ import annotations

import json

import pytest

from crawlers.browser import render
from tests.integration.loopback import QuietHandler, serve_http

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PAGE = b"""<!doctype html><html><head><meta charset="utf-8"></head><body><div id="who">loading</div><script>
fetch('/api/me').then(r => r.json()).then(d => {
  const el = document.getElementById('who');
  el.textContent = d.user ? '\\u5df2\\u767b\\u5f55\\uff1a' + d.user : 'login wall';
  el.dataset.state = d.user ? 'in' : 'out';
});
</script></body></html>"""


class Site(QuietHandler):
    def do_GET(self) -> None:
        if self.path == "/api/me":
            logged_in = "sessionid=s3cr3t" in (self.headers.get("Cookie") or "")
            self.reply(200, json.dumps({"user": "alice" if logged_in else None}).encode())
        else:
            self.reply(200, PAGE, "text/html; charset=utf-8")


@pytest.fixture(scope="module")
def site():
    with serve_http(Site) as base:
        yield base


def test_storage_state_logs_the_browser_in(site, tmp_path):
    state = tmp_path / "account.json"
    cookie = {
        "name": "sessionid",
        "value": "s3cr3t",
        "domain": "127.0.0.1",
        "path": "/",
        "expires": -1,
        "httpOnly": True,
        "secure": False,
        "sameSite": "Lax",
    }
    state.write_text(json.dumps({"cookies": [cookie], "origins": []}), encoding="utf-8")
    shot = tmp_path / "shot.png"
    html = render(site + "/", storage_state=state, wait_selector="#who[data-state]", screenshot_to=shot)
    assert 'data-state="in"' in html and "已登录：alice" in html
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 1000


def test_without_login_state_the_wall_shows(site, tmp_path):
    html = render(site + "/", wait_selector="#who[data-state]")
    assert 'data-state="out"' in html and "login wall" in html
