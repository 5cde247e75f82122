"""The analyst console through FastAPI's TestClient, over the real tantivy store and the real casebook."""

from __future__ import annotations

import base64
import json
import re
import stat
import struct
import threading
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from casebook import Casebook
from classifiers.train.from_reviews import review_rows, write_jsonl
from core.evidence import screenshot_path, sha256_file
from core.records import (
    Category,
    Evidence,
    Hit,
    HitStatus,
    Label,
    ModelInfo,
)
from core.settings import Settings
from indexer import open_store
from indexer.base import SearchQuery
from tests import factories
from webui.app import create_app
from webui.auth import add_user
from webui.highlight import highlight, query_terms

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)> 停息挂账 加V信 qy8888"
PASSWORD = "correct horse battery"
MODEL = ModelInfo(name="qingyuan-bert-tiny", version="2026.11.1")
T0 = datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc)


def tiny_png(width: int = 40, height: int = 20) -> bytes:
    """A valid solid-colour PNG, so chromium renders the screenshot element for real."""
    row = b"\x00" + b"\x10\x6b\x5c" * width
    raw = row * height

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def make_hit(
    settings: Settings,
    post_id: str,
    text: str,
    *,
    score: float = 0.95,
    label: Label = Label.lead_gen,
    category: Category | None = Category.stop_interest,
    author: str = "agent01",
    minutes: int = 0,
    platform: str = "douyin",
    screenshot: bool = True,
    raw: bool = False,
) -> Hit:
    post = factories.make_post(
        post_id,
        text,
        platform=platform,
        url=f"https://www.douyin.com/video/{post_id}",
        author_id=author,
        author_name=f"债务规划{author}",
        published_at=T0 + timedelta(minutes=minutes),
        fetched_at=T0 + timedelta(hours=1, minutes=minutes),
    )
    slang = []
    if "停息挂账" in text:
        slang.append(factories.slang_in(text, "停息挂账", "停息挂账", category))
    if "zx" in text:
        slang.append(factories.slang_in(text, "zx", "征信", Category.credit_repair))
    contacts = [factories.contact_in(text, "qy8888")] if "qy8888" in text else []
    evidence: tuple[Evidence, ...] = ()
    if screenshot:
        shot = screenshot_path(settings, platform, post_id)
        shot.parent.mkdir(parents=True, exist_ok=True)
        shot.write_bytes(tiny_png())
        evidence = (Evidence(kind="screenshot", path=str(shot), sha256=sha256_file(shot), captured_at=post.fetched_at),)
    if raw:
        raw_file = settings.raw_dir / platform / f"{post_id}.html"
        raw_file.parent.mkdir(parents=True, exist_ok=True)
        raw_file.write_text(f"<html><script>alert('raw')</script>{text}</html>", encoding="utf-8")
        evidence += (Evidence(kind="raw_response", path=str(raw_file), sha256=sha256_file(raw_file)),)
    verdict = factories.make_verdict(
        label=label, score=score, category=category, slang=slang, contacts=contacts, model=MODEL
    )
    return factories.make_hit(post, verdict, evidence=evidence)


def seed_home(home: Path) -> tuple[Settings, list[Hit]]:
    """A data home with real tantivy-indexed hits (one of them hostile markup) and two analysts."""
    settings = Settings(home=home, elasticsearch_url=None, casebook_url=None)
    settings.ensure_dirs()
    hits = [
        make_hit(settings, "1001", HOSTILE, minutes=0),
        make_hit(settings, "1002", "专业停息挂账，逾期不用怕，加V信 qy8888 私聊", minutes=5, raw=True),
        make_hit(settings, "1003", "专业停息挂账，逾期不用怕，加V信 qy8888 详聊", minutes=10, author="agent02"),
        make_hit(
            settings, "1004", "zx修复 黑户洗白 看主页", minutes=15, category=Category.credit_repair, author="agent03"
        ),
        make_hit(
            settings,
            "2001",
            "银行提醒：协商还款请通过官方客服办理，谨防停息挂账骗局",
            label=Label.benign,
            score=0.05,
            minutes=20,
            author="bank",
            screenshot=False,
        ),
    ]
    store = open_store(settings)
    try:
        store.upsert(hits)
    finally:
        store.close()
    add_user(settings, "alice", PASSWORD)
    add_user(settings, "bob", PASSWORD)
    return settings, hits


@pytest.fixture
def home(tmp_path: Path) -> tuple[Settings, list[Hit]]:
    return seed_home(tmp_path / "home")


@pytest.fixture
def app(home):  # type: ignore[no-untyped-def]
    settings, _ = home
    return create_app(settings)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "page has no CSRF field"
    return m.group(1)


def login(client: TestClient, name: str = "alice", password: str = PASSWORD) -> str:
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"name": name, "password": password, "csrf": csrf_of(page.text), "next": "/search"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/search").text)


# ---------------------------------------------------------------- access


def test_pages_need_login(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    for path in ("/search", "/review", "/reports", "/audit", "/hit?key=douyin:1001", "/evidence/douyin/1001.png"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login?next=")


def test_wrong_password_is_refused_and_right_one_works(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    page = client.get("/login")
    r = client.post("/login", data={"name": "alice", "password": "nope-nope", "csrf": csrf_of(page.text)})
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text
    r = client.post("/login", data={"name": "mallory", "password": PASSWORD, "csrf": csrf_of(page.text)})
    assert r.status_code == 401
    login(client)
    assert client.get("/search").status_code == 200


def test_repeated_failed_logins_are_throttled(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    token = csrf_of(client.get("/login").text)
    codes = [
        client.post("/login", data={"name": "alice", "password": f"wrong-{i}", "csrf": token}).status_code
        for i in range(6)
    ]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    # even the right password waits out the lock, so guessing cannot continue
    r = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf": token}, follow_redirects=False)
    assert r.status_code == 429
    # another analyst is not locked out by it
    login(client, "bob")


def test_login_throttle_is_shared_by_console_processes_and_reset_by_a_success(home) -> None:  # type: ignore[no-untyped-def]
    settings, _ = home
    first, second = TestClient(create_app(settings)), TestClient(create_app(settings))  # two workers, one casebook

    def attempt(client: TestClient, name: str, password: str) -> int:
        token = csrf_of(client.get("/login").text)
        data = {"name": name, "password": password, "csrf": token}
        return client.post("/login", data=data, follow_redirects=False).status_code

    assert [attempt(first, "alice", f"wrong-{i}") for i in range(4)] == [401] * 4
    assert attempt(second, "alice", PASSWORD) == 303  # a success clears the count
    assert [attempt(second, "alice", f"again-{i}") for i in range(5)] == [401] * 5
    assert attempt(first, "alice", PASSWORD) == 429  # the other process sees the five failures
    restarted = TestClient(create_app(settings))
    assert attempt(restarted, "alice", PASSWORD) == 429
    assert attempt(restarted, "bob", PASSWORD) == 303


def test_open_redirect_after_login_is_refused(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"name": "alice", "password": PASSWORD, "csrf": csrf_of(page.text), "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/search"


def test_post_without_or_with_wrong_csrf_is_403(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    r = client.post("/login", data={"name": "alice", "password": PASSWORD})
    assert r.status_code == 403
    token = login(client)
    form = {"key": "douyin:1002", "action": "dismiss", "reason": "test"}
    assert client.post("/review/decide", data=form).status_code == 403
    assert client.post("/review/decide", data={**form, "csrf": token + "x"}).status_code == 403
    assert client.post("/reports/build", data={}).status_code == 403
    assert client.post("/logout", data={}).status_code == 403
    store = open_store(app.state.console.settings)
    assert store.get("douyin:1002").status is HitStatus.new  # nothing changed
    assert client.post("/review/decide", data={**form, "csrf": token}).status_code in (200, 303)


def test_security_headers_and_secret_file(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    r = client.get("/login")
    csp = r.headers["content-security-policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'self'" in script_src and "unsafe-inline" not in script_src
    assert "unsafe-inline" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    secret = app.state.console.settings.state_dir / "secret.key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_passwords_are_hashed_with_salt(home) -> None:  # type: ignore[no-untyped-def]
    settings, _ = home
    db = Casebook(settings.casebook)
    try:
        rows = {a.name: a.password_hash for a in db.list_analysts()}
    finally:
        db.close()
    assert PASSWORD not in rows["alice"]
    assert rows["alice"].startswith("scrypt$")
    assert rows["alice"] != rows["bob"]  # same password, different salt


def test_add_user_rejects_bad_names_and_short_passwords(home) -> None:  # type: ignore[no-untyped-def]
    settings, _ = home
    with pytest.raises(ValueError):
        add_user(settings, "bad name<script>", PASSWORD)
    with pytest.raises(ValueError):
        add_user(settings, "carol", "short")


# ---------------------------------------------------------------- escaping and search


def test_hostile_text_is_escaped_everywhere(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    login(client)
    pages = [
        client.get("/search", params={"q": "停息挂账"}).text,
        client.get("/hit", params={"key": "douyin:1001"}).text,
    ]
    for html in pages:
        assert "<script>alert(1)</script>" not in html
        assert "<img src=x onerror" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # the same with the hostile text in the query itself
    r = client.get("/search", params={"q": '"><script>alert(2)</script>'})
    assert "<script>alert(2)" not in r.text


def test_search_highlights_filters_and_facets(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    login(client)
    html = client.get("/search", params={"q": "停息挂账"}).text
    assert "<mark" in html and "停息挂账</mark>" in html
    assert 'id="total">3<' in html  # lead generation only by default, as the CLI
    everything = client.get("/search", params={"q": "停息挂账", "include_benign": "1"}).text
    assert 'id="total">4<' in everything and "douyin%3A2001" in everything
    assert "qy8888" in html and "微信" in html  # the contact shown with its type
    only_benign = client.get("/search", params={"q": "停息挂账", "label": "benign"}).text
    assert 'id="total">1<' in only_benign and "douyin%3A2001" in only_benign
    cat = client.get("/search", params={"category": "credit_repair"}).text
    assert 'id="total">1<' in cat and "zx</mark>" in cat and "征信" in cat
    bad = client.get("/search", params={"min_score": "7"})
    assert bad.status_code == 400 and "0 到 1" in bad.text and 'value="7"' in bad.text


def test_highlight_escapes_before_marking() -> None:
    out = str(highlight("<b>停息挂账</b> & 加微", ["停息挂账"]))
    assert out == "&lt;b&gt;<mark>停息挂账</mark>&lt;/b&gt; &amp; 加微"
    assert query_terms('征信修复 "停息 挂账"')[0] == "停息 挂账"


# ---------------------------------------------------------------- hit page and evidence


def test_hit_page_shows_evidence_and_related(app, home) -> None:  # type: ignore[no-untyped-def]
    _, hits = home
    client = TestClient(app)
    login(client)
    html = client.get("/hit", params={"key": "douyin:1002"}).text
    assert hits[1].evidence[0].sha256 in html
    assert "文件未改动" in html
    assert "/evidence/douyin/1002.png" in html
    assert "qingyuan-bert-tiny" in html and "2026.11.1" in html
    # 1003 shares the handle qy8888 and is a near-duplicate of 1002
    related = html.split("共享联系方式", 1)[1]
    assert "douyin:1003" in related
    assert "近似重复文本" in html and html.split("近似重复文本", 1)[1].count("douyin:1003") >= 1
    img = client.get("/evidence/douyin/1002.png")
    assert img.status_code == 200 and img.headers["content-type"] == "image/png"
    # the raw response is the platform's hostile HTML: shown as escaped source text, never rendered
    assert "/raw/douyin/1002.html" in html
    raw = client.get("/raw/douyin/1002.html")
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("text/html")
    assert "<script>alert('raw')</script>" not in raw.text
    assert "&lt;script&gt;alert(&#39;raw&#39;)&lt;/script&gt;" in raw.text
    assert client.get("/evidence/%2e%2e/raw/douyin/1002.html").status_code == 404  # evidence serves images only


def test_path_traversal_is_refused(app, home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings, _ = home
    client = TestClient(app)
    login(client)
    secret = tmp_path / "outside.png"
    secret.write_bytes(tiny_png())
    (settings.evidence_dir / "douyin" / "link.png").symlink_to(secret)
    for path in (
        "/evidence/../casebook.sqlite3",
        "/evidence/%2e%2e/%2e%2e/outside.png",
        "/evidence/..%2f..%2foutside.png",
        "/evidence/douyin/link.png",
        f"/evidence/{secret}",
        "/evidence//etc/passwd",
        "/raw/../state/secret.key",
        "/raw/%2e%2e/state/secret.key",
    ):
        r = client.get(path)
        assert r.status_code == 404, path
        assert b"\x89PNG" not in r.content


def test_evidence_recorded_outside_the_evidence_dir_is_not_served(app, home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, hits = home
    outside = tmp_path / "elsewhere.png"
    outside.write_bytes(tiny_png())
    forged = hits[3].model_copy(
        update={"evidence": (Evidence(kind="screenshot", path=str(outside), sha256=sha256_file(outside)),)}
    )
    app.state.console.store.upsert([forged])
    client = TestClient(app)
    login(client)
    html = client.get("/hit", params={"key": forged.key}).text
    assert "文件不在证据目录内" in html
    assert str(outside) not in html.split("<img", 1)[-1].split(">", 1)[0]


# ---------------------------------------------------------------- review queue


def _review_key(html: str) -> str | None:
    m = re.search(r'data-key="([^"]+)"', html)
    return m.group(1) if m else None


def take_next(client: TestClient, token: str) -> str | None:
    """Claim the next item the way the page does (a POST) and return the key it shows."""
    return _review_key(client.post("/review/next", data={"csrf": token}).text)


def test_get_review_claims_nothing(app) -> None:  # type: ignore[no-untyped-def]
    db = app.state.console.casebook
    alice, bob = TestClient(app), TestClient(app)
    alice_token, bob_token = login(alice, "alice"), login(bob, "bob")
    # A link (or a prefetch, or an <img src>) opening /review or /review?key=... must not take a lease.
    for path in ("/review", "/review?key=douyin:1001", "/review?key=douyin:1002"):
        assert alice.get(path).status_code == 200
    assert db.lease_holder("douyin:1001") is None and db.lease_holder("douyin:1002") is None
    assert db.my_lease("alice") is None
    assert 'id="claim-form"' in alice.get("/review?key=douyin:1002").text
    key = take_next(bob, bob_token)
    assert key == "douyin:1001" and db.lease_holder(key) == "bob"
    # a claim by POST works, and a taken item is not shown to another analyst by GET
    r = alice.post("/review/claim", data={"csrf": alice_token, "key": "douyin:1002"})
    assert _review_key(r.text) == "douyin:1002" and db.lease_holder("douyin:1002") == "alice"
    page = alice.get("/review", params={"key": key}).text
    assert _review_key(page) is None and "正由 bob 审核" in page
    assert alice.post("/review/claim", data={"key": "douyin:1003"}).status_code == 403  # CSRF still checked


def test_two_analysts_never_get_the_same_item(app) -> None:  # type: ignore[no-untyped-def]
    alice, bob = TestClient(app), TestClient(app)
    alice_token = login(alice, "alice")
    bob_token = login(bob, "bob")
    a_key = take_next(alice, alice_token)
    b_key = take_next(bob, bob_token)
    assert a_key == "douyin:1001"  # oldest first
    assert b_key and b_key != a_key
    assert _review_key(alice.get("/review").text) == a_key  # reloading keeps your item
    # bob cannot decide on alice's item, nor pull it to himself by key
    r = bob.post("/review/decide", data={"csrf": bob_token, "key": a_key, "action": "confirm"})
    assert r.status_code == 409
    assert _review_key(bob.get("/review", params={"key": a_key}).text) != a_key
    assert app.state.console.store.get(a_key).status is HitStatus.new


def test_claims_race_and_expire(home) -> None:  # type: ignore[no-untyped-def]
    settings, _ = home
    db = Casebook(settings.casebook)
    try:
        winners: list[str] = []
        barrier = threading.Barrier(6)

        def grab(name: str) -> None:
            barrier.wait()
            if db.claim("douyin:1004", name, 10):
                winners.append(name)

        threads = [threading.Thread(target=grab, args=(f"a{i}",)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(winners) == 1
        assert db.lease_holder("douyin:1004") == winners[0]
        # an expired lease is free for the next analyst
        assert db.claim("douyin:1003", "alice", -1)
        assert db.lease_holder("douyin:1003") is None
        assert db.claim("douyin:1003", "bob", 10)
        assert not db.claim("douyin:1003", "alice", 10)
    finally:
        db.close()


def test_decisions_update_store_and_audit_log(app, home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings, _ = home
    client = TestClient(app)
    token = login(client)
    first = take_next(client, token)
    r = client.post(
        "/review/decide",
        data={"csrf": token, "key": first, "action": "confirm", "category": "anti_collection"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    second = _review_key(client.get("/review").text)
    assert second and second != first
    r = client.post("/review/decide", data={"csrf": token, "key": second, "action": "dismiss", "reason": "  "})
    assert r.status_code == 400  # a dismissal needs a reason
    r = client.post(
        "/review/decide", data={"csrf": token, "key": second, "action": "dismiss", "reason": "银行官方提醒"}
    )
    assert r.status_code == 200
    store = app.state.console.store
    assert store.get(first).status is HitStatus.confirmed
    assert store.get(second).status is HitStatus.dismissed
    # confirming something already decided is refused
    again = client.post("/review/decide", data={"csrf": token, "key": first, "action": "confirm"})
    assert again.status_code == 409

    audit = client.get("/audit").text
    assert "review:confirmed" in audit and "review:dismissed" in audit and "银行官方提醒" in audit
    hit_html = client.get("/hit", params={"key": first}).text
    assert "反催收/防爆通讯录" in hit_html.split('id="current-category">', 1)[1][:40]

    out = tmp_path / "reviews.jsonl"
    casebook = Casebook(settings.casebook)
    try:
        assert write_jsonl(review_rows(casebook.decisions()), out) == 2
    finally:
        casebook.close()
    rows = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert rows[first] == {
        "id": first,
        "text": store.get(first).post.text,
        "label": "lead_gen",
        "category": "anti_collection",
        "source": "review",
    }
    assert rows[second]["label"] == "benign" and rows[second]["category"] is None


def test_category_change_is_stored_and_shown(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    token = login(client)
    key = take_next(client, token)
    r = client.post(
        "/review/decide", data={"csrf": token, "key": key, "action": "category", "category": "credit_repair"}
    )
    assert r.status_code == 200
    assert "征信修复/洗白" in r.text.split('id="current-category">', 1)[1][:30]
    assert app.state.console.store.get(key).status is HitStatus.new  # only the category changed


def test_skip_moves_to_next_and_empty_queue(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    token = login(client)
    seen = []
    take_next(client, token)
    for _ in range(5):
        key = _review_key(client.get("/review").text)
        if key is None:
            break
        seen.append(key)
        last = client.post("/review/skip", data={"csrf": token, "key": key})
    assert seen == ["douyin:1001", "douyin:1002", "douyin:1003", "douyin:1004"]  # benign 2001 never queued
    assert 'id="queue-empty"' in last.text


# ---------------------------------------------------------------- reports


def test_build_preview_and_send_a_report(app, home) -> None:  # type: ignore[no-untyped-def]
    settings, _ = home
    client = TestClient(app)
    token = login(client)
    key = take_next(client, token)
    client.post("/review/decide", data={"csrf": token, "key": key, "action": "confirm"})
    r = client.post("/reports/build", data={"csrf": token})
    assert r.status_code == 200 and "已生成 1 个批次" in r.text
    batch_id = re.search(r'data-batch="([^"]+)"', r.text).group(1)
    assert app.state.console.store.get(key).status is HitStatus.batched  # built, not yet reported
    preview = client.get(f"/reports/preview/{batch_id}")
    assert preview.status_code == 200
    assert "sandbox" in preview.headers["content-security-policy"]
    assert "<script>alert(1)" not in preview.text
    assert client.get(f"/reports/file/{batch_id}/xlsx").status_code == 200
    assert client.get("/reports/preview/..%2f..%2fstate%2fsecret.key").status_code == 404
    sent = client.post("/reports/send", data={"csrf": token, "batch_id": batch_id})
    assert "queued" in sent.text
    assert (settings.state_dir / "outbox" / batch_id / "state.json").is_file()
    assert app.state.console.store.get(key).status is HitStatus.batched  # queued is not delivered


def test_search_query_model_used_for_queue_is_valid() -> None:
    # the queue query is what the HitStore protocol accepts (guards against drift in indexer/base.py)
    q = SearchQuery(statuses=(HitStatus.new,), labels=("lead_gen",), min_score=0.5, limit=50)
    assert q.statuses == (HitStatus.new,)


def test_serve_binds_loopback_by_default() -> None:
    import inspect

    from webui.app import serve

    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"


# ---------------------------------------------------------------- sessions and sign-in limits


def _cookie(client: TestClient) -> str:
    return str(client.cookies.get("qy_session"))


def test_a_cookie_replayed_after_logout_or_a_password_change_is_refused(app, home) -> None:  # type: ignore[no-untyped-def]
    settings, _ = home
    client = TestClient(app)
    token = login(client)
    stolen = _cookie(client)
    payload = base64.b64decode(stolen.split(".")[0] + "==").decode("utf-8", "replace")
    assert "alice" not in payload and "user" not in payload  # the cookie names no one: only random tokens
    thief = TestClient(app, cookies={"qy_session": stolen})
    assert thief.get("/search", follow_redirects=False).status_code == 200  # a copied cookie works ...
    client.post("/logout", data={"csrf": token})
    assert thief.get("/search", follow_redirects=False).status_code == 303  # ... until its owner logs out
    # a password reset ends every session of that analyst
    other = TestClient(app)
    login(other)
    copied = TestClient(app, cookies={"qy_session": _cookie(other)})
    add_user(settings, "alice", "a brand new password")
    for c in (other, copied):
        r = c.get("/search", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_an_attacker_cannot_lock_an_analyst_out_of_her_own_machine(app) -> None:  # type: ignore[no-untyped-def]
    def attempt(address: str, password: str) -> int:
        client = TestClient(app, client=(address, 40000))
        token = csrf_of(client.get("/login").text)
        data = {"name": "alice", "password": password, "csrf": token}
        return client.post("/login", data=data, follow_redirects=False).status_code

    assert attempt("10.0.0.1", PASSWORD) == 303  # alice signs in from her desk once
    # eleven machines, five guesses each: over the per-name limit of 50 for alice
    codes = [attempt(f"10.9.0.{m}", f"guess-{g}") for m in range(11) for g in range(5)]
    assert codes.count(401) == 50 and codes.count(429) == 5
    assert attempt("10.7.7.7", PASSWORD) == 429  # a new machine now waits out the window ...
    assert attempt("10.0.0.1", PASSWORD) == 303  # ... her own does not
    # one machine spraying many names is stopped by the per-address limit
    sprayer = [TestClient(app, client=("10.6.6.6", 40000)) for _ in range(2)]
    token = csrf_of(sprayer[0].get("/login").text)
    sprayed = [
        sprayer[0].post("/login", data={"name": f"user{i}", "password": "x" * 8, "csrf": token}).status_code
        for i in range(21)
    ]
    assert sprayed.count(401) == 20 and sprayed[-1] == 429
