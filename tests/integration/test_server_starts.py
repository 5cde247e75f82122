"""Server starts are bounded: `scripts/elasticsearch.sh start` comes up or fails within ES_START_TIMEOUT and shows
the server's log tail, even when `elasticsearch -d` never returns (seen when /dev/null had been replaced by a
regular file). A stand-in install in a temporary cache plays the server: a launcher that never returns, with or
without a node answering on the port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import ES_SCRIPT

pytestmark = pytest.mark.integration

BUILD_HASH = "48a287ab9497e852de30327444b0809e55d46466"
NODE = f"""
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{{"version": {{"build_hash": "{BUILD_HASH}"}}}}'
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""
LAUNCHER = """#!/bin/bash
pidfile=; port=; logs=
while [ $# -gt 0 ]; do
  case "$1" in -p) pidfile=$2; shift ;; http.port=*) port=${1#http.port=} ;; path.logs=*) logs=${1#path.logs=} ;; esac
  shift
done
echo "stand-in node: starting on port $port" >>"$logs/qingyuan-test.log"
MODE_LINES
exec sleep 600  # the launcher never returns, as `elasticsearch -d` did
"""
ANSWERS = 'setsid /usr/bin/python3 "$(dirname "$0")/node.py" "$port" </dev/null >/dev/null 2>&1 &\necho $! >"$pidfile"'
DEAD = 'echo "fatal: cannot open /dev/null for writing (a regular file owned by root)" >>"$logs/qingyuan-test.log"'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def stand_in() -> Iterator[tuple[Path, dict[str, str]]]:
    """A cache holding a verified-looking install whose launcher the test writes; readable by the server user."""
    cache = Path(tempfile.mkdtemp(prefix="qy-es-stand-in-"))
    home = cache / "elasticsearch-8.12.2"
    for sub in ("bin", "lib", "jdk/bin", "config"):
        (home / sub).mkdir(parents=True)
    (home / "config" / "jvm.options").write_text("-Xlog:gc*:file=logs/gc.log\n")
    (home / "lib" / "elasticsearch-8.12.2.jar").write_text("")
    (home / "jdk" / "bin" / "java").write_text("#!/bin/sh\n")
    (home / "bin" / "node.py").write_text(NODE)
    (home / ".qingyuan-verified").touch()
    env = {
        **os.environ,
        "QINGYUAN_ES_CACHE": str(cache),
        "ES_PORT": str(_free_port()),
        "ES_START_TIMEOUT": "6",
        "ES_EPHEMERAL": "1",
    }
    try:
        yield home, env
    finally:
        subprocess.run(["bash", str(ES_SCRIPT), "stop"], env=env, capture_output=True, timeout=120, check=False)
        shutil.rmtree(cache, ignore_errors=True)


def _install(home: Path, mode_lines: str) -> None:
    launcher = home / "bin" / "elasticsearch"
    launcher.write_text(LAUNCHER.replace("MODE_LINES", mode_lines))
    for path in [home.parent, *home.parent.rglob("*")]:
        path.chmod(0o755)


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The timeout here only stops a hung test; the script must return well before it.
    return subprocess.run(["bash", str(ES_SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=120)


def test_a_launcher_that_never_returns_does_not_hang_start_when_the_node_is_up(stand_in) -> None:  # type: ignore[no-untyped-def]
    home, env = stand_in
    _install(home, ANSWERS)
    started = _start(env)
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip().splitlines()[-1] == f"http://127.0.0.1:{env['ES_PORT']}"
    assert "did not return within 6s" in started.stderr
    status = subprocess.run(["bash", str(ES_SCRIPT), "status"], env=env, capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stdout + status.stderr


def test_a_node_that_never_answers_fails_in_bounded_time_with_its_log_tail(stand_in) -> None:  # type: ignore[no-untyped-def]
    home, env = stand_in
    _install(home, DEAD)
    started = _start(env)
    assert started.returncode != 0
    assert "no answer from" in started.stderr and "within 6s" in started.stderr
    assert "fatal: cannot open /dev/null for writing" in started.stderr  # the log tail says why
