"""The console beyond loopback: HTTPS of its own (--certfile/--keyfile, Python's ssl under uvicorn) or behind a TLS
reverse proxy (--behind-proxy); either way Secure cookies and HSTS. Plain HTTP on a non-loopback address is refused
unless asked for by name."""

from __future__ import annotations

import re
import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from casebook import Casebook
from tests.integration.conftest import missing_real_part
from tests.integration.loopback import serve_asgi
from tests.unit.test_webui import PASSWORD, seed_home
from webui.app import create_app, transport_problem
from wiring.cli import app as cli

pytestmark = pytest.mark.integration
ANY = "0.0.0.0"  # noqa: S104  (the address the console must refuse to serve plain HTTP on)


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 made with openssl."""
    if shutil.which("openssl") is None:
        missing_real_part("openssl not installed")
    key, crt = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(crt)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return crt, key


def _sign_in(client: httpx.Client) -> httpx.Response:
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token
    data = {"name": "alice", "password": PASSWORD, "csrf": token.group(1)}
    return client.post("/login", data=data, follow_redirects=False)


def test_https_of_its_own_gives_secure_cookies_and_hsts(tmp_path: Path, cert: tuple[Path, Path]) -> None:
    crt, key = cert
    settings, _ = seed_home(tmp_path / "home")
    trust = ssl.create_default_context(cafile=str(crt))
    app = create_app(settings, secure_cookies=True)
    with serve_asgi(app, scheme="https", ssl_certfile=str(crt), ssl_keyfile=str(key)) as base:
        assert base.startswith("https://")
        with httpx.Client(base_url=base, verify=trust, timeout=30) as client:
            r = _sign_in(client)
            assert r.status_code == 303
            assert "secure" in r.headers["set-cookie"].lower()
            assert r.headers["strict-transport-security"].startswith("max-age=")
            assert client.get("/search").status_code == 200  # the Secure cookie goes back over HTTPS
        with pytest.raises((httpx.RemoteProtocolError, httpx.ConnectError)):  # no answer in plain HTTP
            httpx.get(base.replace("https://", "http://") + "/login", timeout=10)


def test_plain_http_console_has_no_secure_flag_or_hsts(tmp_path: Path) -> None:
    settings, _ = seed_home(tmp_path / "home")
    with serve_asgi(create_app(settings)) as base, httpx.Client(base_url=base, timeout=30) as client:
        r = _sign_in(client)
        assert r.status_code == 303 and "secure" not in r.headers["set-cookie"].lower()
        assert "strict-transport-security" not in r.headers


def _failed_login_through(base: str, headers: dict[str, str]) -> httpx.Response:
    """A wrong password posted as a browser behind the proxy would: the hop from proxy to console is plain HTTP,
    so the Secure cookie is carried by hand, as the proxy passes it on."""
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token and "secure" in page.headers["set-cookie"].lower()
        cookie = {"Cookie": f"qy_session={page.cookies['qy_session']}"}
        data = {"name": "alice", "password": "wrong-one", "csrf": token.group(1)}
        return client.post("/login", data=data, headers=cookie)


def _failed_from(settings: object) -> list[str]:
    entries = Casebook(settings.casebook).list_audit(who="alice")  # type: ignore[attr-defined]
    return sorted(e.details["address"] for e in entries if e.what == "login:failed")


def test_reverse_proxy_mode_trusts_forwarded_headers_from_the_proxy_only(tmp_path: Path) -> None:
    settings, _ = seed_home(tmp_path / "home")
    app = create_app(settings, secure_cookies=True)
    forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    with serve_asgi(app, proxy_headers=True, forwarded_allow_ips="127.0.0.1") as base:
        r = _failed_login_through(base, forwarded)
        assert r.status_code == 401 and r.headers["strict-transport-security"].startswith("max-age=")
    assert _failed_from(settings) == ["203.0.113.9"]  # the client's address, as the proxy saw it
    with serve_asgi(app, proxy_headers=True, forwarded_allow_ips="192.0.2.1") as base:  # not our proxy: ignored
        assert _failed_login_through(base, forwarded).status_code == 401
    assert _failed_from(settings) == ["127.0.0.1", "203.0.113.9"]


def test_serve_refuses_plain_http_beyond_loopback_unless_told(tmp_path: Path, cert: tuple[Path, Path]) -> None:
    crt, key = cert
    result = CliRunner().invoke(cli, ["serve", "--host", ANY, "--port", "0"])
    assert result.exit_code == 2 and "refusing to serve plain HTTP on 0.0.0.0" in " ".join(result.output.split())
    mismatched = tmp_path / "other-key.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(mismatched), "2048"], check=True, capture_output=True)
    problem = transport_problem(ANY, certfile=crt, keyfile=mismatched, behind_proxy=False, insecure_http=False)
    assert problem and "cannot use" in problem
    assert transport_problem(ANY, certfile=crt, keyfile=key, behind_proxy=False, insecure_http=False) is None
    assert transport_problem(ANY, certfile=crt, keyfile=None, behind_proxy=False, insecure_http=False)
    for ok in ({"behind_proxy": True, "insecure_http": False}, {"behind_proxy": False, "insecure_http": True}):
        assert transport_problem("192.0.2.10", certfile=None, keyfile=None, **ok) is None
    for local in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        assert transport_problem(local, certfile=None, keyfile=None, behind_proxy=False, insecure_http=False) is None
