"""Sign-in under attack, against the console served by uvicorn on loopback: 24 wrong passwords sent in parallel,
an attacker trying to lock an analyst out, and the time an unknown name takes against a known one."""

from __future__ import annotations

import hashlib
import re
import statistics
import threading
import time
from pathlib import Path

import httpx
import pytest

from casebook import Casebook
from tests.integration.loopback import serve_asgi
from tests.unit.test_webui import PASSWORD, seed_home
from webui.app import create_app

pytestmark = pytest.mark.integration


def _login_form(client: httpx.Client) -> str:
    page = client.get("/login")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


def _client(base: str, source: str = "127.0.0.1") -> httpx.Client:
    # A loopback source address other than 127.0.0.1 stands for another machine.
    return httpx.Client(base_url=base, transport=httpx.HTTPTransport(local_address=source), timeout=60)


def test_24_parallel_wrong_passwords_check_only_five_and_the_analyst_still_signs_in(tmp_path: Path) -> None:
    settings, _ = seed_home(tmp_path / "home")
    with serve_asgi(create_app(settings)) as base:
        clients = [_client(base) for _ in range(24)]
        tokens = [_login_form(c) for c in clients]
        barrier = threading.Barrier(24)
        codes: list[int] = []

        def guess(i: int) -> None:
            barrier.wait()
            r = clients[i].post("/login", data={"name": "alice", "password": f"guess-{i}", "csrf": tokens[i]})
            codes.append(r.status_code)

        threads = [threading.Thread(target=guess, args=(i,)) for i in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(f"24 parallel wrong passwords: {codes.count(401)} checked (401), {codes.count(429)} refused (429)")
        assert codes.count(401) == 5 and codes.count(429) == 19
        # the attacker's address is locked for alice; alice at her own machine is not
        with _client(base) as again:
            data = {"name": "alice", "password": PASSWORD, "csrf": _login_form(again)}
            assert again.post("/login", data=data, follow_redirects=False).status_code == 429
        with _client(base, "127.0.0.2") as alice:
            data = {"name": "alice", "password": PASSWORD, "csrf": _login_form(alice)}
            assert alice.post("/login", data=data, follow_redirects=False).status_code == 303
        for c in clients:
            c.close()
    failed = [e for e in Casebook(settings.casebook).list_audit(who="alice") if e.what == "login:failed"]
    assert len(failed) == 5 and all(e.details["address"] == "127.0.0.1" for e in failed)


def test_unknown_names_cost_one_scrypt_like_known_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, _ = seed_home(tmp_path / "home")
    casebook = Casebook(settings.casebook)
    real, calls = hashlib.scrypt, []

    def counting(*args: object, **kwargs: object) -> bytes:  # the real scrypt, counted
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    casebook.check_password("nobody-warmup", "x")  # the dummy hash is made once, on first use
    monkeypatch.setattr(hashlib, "scrypt", counting)
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    for round_ in range(9):
        for kind, name in (("known", "alice"), ("unknown", f"nobody{round_}")):
            before, started = len(calls), time.perf_counter()
            assert not casebook.check_password(name, "wrong password")
            timings[kind].append(time.perf_counter() - started)
            assert len(calls) - before == 1, kind
    known, unknown = (statistics.median(timings[k]) * 1000 for k in ("known", "unknown"))
    print(f"wrong password, median of 9: known name {known:.1f} ms, unknown name {unknown:.1f} ms")
