"""Real servers for integration tests.

- Elasticsearch: the real 8.12.2 server started by scripts/elasticsearch.sh. Set QINGYUAN_TEST_ES_URL to use a
  server that is already running. When the server cannot start, the Elasticsearch tests skip locally and FAIL
  when the CI environment variable is set.
- Elasticsearch cluster: `es_cluster`, two real nodes (a master+data node and a data node) started once per session
  by scripts/elasticsearch.sh start-cluster, with `kill(role)` (SIGKILL) and `restart(role)`; a node a test killed is
  started again before the next test that asks for the cluster. ES_CLUSTER_PORTS=HTTP1,HTTP2 (and ES_CLUSTER_DIR)
  reuse a cluster already started with them. Skips locally / fails in CI like `es_url`.
- SMTP: `smtp_server`, a real aiosmtpd server on loopback that keeps what it accepts (tests/integration/partner_servers.py).
- Redis: `redis_server`, a real redis-server on a free loopback port with its own directory (redis_server.py).
- PostgreSQL (optional, for the casebook): QINGYUAN_TEST_PG_URL, or a throw-away cluster made with the Debian
  server binaries (initdb/pg_ctl) when they and the psycopg driver are installed; otherwise those tests skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.partner_servers import MailSink, serve_smtp
from tests.integration.redis_server import RedisServer, RedisStartError, redis_binary, serve_redis

ROOT = Path(__file__).resolve().parents[2]
ES_SCRIPT = ROOT / "scripts" / "elasticsearch.sh"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def missing_real_part(reason: str) -> None:
    """A real server or browser is missing: skip on a developer's machine, fail in CI (`make test` installs it)."""
    if os.environ.get("CI"):
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def _unavailable(reason: str) -> None:
    missing_real_part(f"Elasticsearch unavailable: {reason}")


def start_failed(what: str, detail: str) -> None:
    """An installed server did not come up: always a failure (never a skip), with what it said."""
    pytest.fail(f"{what} is installed but did not start:\n{detail[-3000:]}", pytrace=False)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text("utf-8", "replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


@pytest.fixture(scope="session")
def es_url() -> Iterator[str]:
    """URL of a real Elasticsearch 8.12.2: QINGYUAN_TEST_ES_URL, or one started for this session and stopped after."""
    given = os.environ.get("QINGYUAN_TEST_ES_URL")
    if given:
        yield given.rstrip("/")
        return
    env = {**os.environ, "ES_PORT": str(_free_port()), "ES_EPHEMERAL": "1", "ES_START_TIMEOUT": "240"}
    installed = subprocess.run(["bash", str(ES_SCRIPT), "installed"], env=env, timeout=60, check=False).returncode == 0
    try:
        # The script bounds its own start (ES_START_TIMEOUT); this timeout only guards against a broken script.
        started = subprocess.run(
            ["bash", str(ES_SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=1200, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _es_failed(installed, f"{exc}\n{getattr(exc, 'stderr', '') or ''}")
        return
    if started.returncode != 0:
        _es_failed(installed, started.stderr)
        return
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(ES_SCRIPT), "stop"], env=env, capture_output=True, timeout=120, check=False)


def _es_failed(installed: bool, detail: str) -> None:
    if installed:
        start_failed("Elasticsearch", detail)
    _unavailable(detail[-2000:])


@dataclass
class EsCluster:
    """A running two-node Elasticsearch cluster: `urls` = (master+data node, data node)."""

    urls: tuple[str, str]
    env: dict[str, str]
    down: set[str] = field(default_factory=set)

    ROLES = ("master", "data")

    @property
    def url(self) -> str:
        """Both nodes, comma-separated: what QINGYUAN_ELASTICSEARCH_URL takes."""
        return ",".join(self.urls)

    def node_url(self, role: str) -> str:
        return self.urls[self.ROLES.index(role)]

    def _script(self, *args: str) -> None:
        done = subprocess.run(
            ["bash", str(ES_SCRIPT), *args], env=self.env, capture_output=True, text=True, timeout=600, check=False
        )
        if done.returncode != 0:
            start_failed(f"Elasticsearch cluster ({' '.join(args)})", done.stderr)

    def kill(self, role: str) -> None:
        """SIGKILL one node ("data" is the loss the cluster survives; "master" it does not)."""
        self.down.add(role)
        self._script("kill-node", role)

    def restart(self, role: str) -> None:
        """Start a killed node again; returns once it has rejoined (bounded by ES_START_TIMEOUT)."""
        self._script("start-node", role)
        self.down.discard(role)

    def up(self) -> None:
        for role in sorted(self.down):
            self.restart(role)


@pytest.fixture(scope="session")
def es_cluster_session() -> Iterator[EsCluster]:
    given = os.environ.get("ES_CLUSTER_PORTS")
    ports = given or f"{_free_port()},{_free_port()}"
    env = {**os.environ, "ES_CLUSTER_PORTS": ports, "ES_START_TIMEOUT": os.environ.get("ES_START_TIMEOUT", "300")}
    if not given:
        env |= {"ES_CLUSTER_TRANSPORT_PORT": str(_free_port()), "ES_EPHEMERAL": "1"}
        env["ES_CLUSTER_DIR"] = tempfile.mkdtemp(prefix="qy-es-cluster-")
        if os.geteuid() == 0:  # the nodes run as the unprivileged user and must reach their directories
            os.chown(env["ES_CLUSTER_DIR"], 65534, 65534)
    installed = subprocess.run(["bash", str(ES_SCRIPT), "installed"], env=env, timeout=60, check=False).returncode == 0
    try:
        # Bounded by the script (ES_START_TIMEOUT for the nodes to come up and join); this only guards the script.
        started = subprocess.run(
            ["bash", str(ES_SCRIPT), "start-cluster"],
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _es_failed(installed, f"{exc}\n{getattr(exc, 'stderr', '') or ''}")
        return
    if started.returncode != 0:
        _es_failed(installed, started.stderr)
        return
    master, data = started.stdout.strip().splitlines()[-1].split(",")
    try:
        yield EsCluster(urls=(master, data), env=env)
    finally:
        if not given:
            subprocess.run(
                ["bash", str(ES_SCRIPT), "stop-cluster"], env=env, capture_output=True, timeout=240, check=False
            )


@pytest.fixture()
def es_cluster(es_cluster_session: EsCluster) -> EsCluster:
    """The session's two-node cluster with both nodes up (a node an earlier test killed is started again)."""
    es_cluster_session.up()
    return es_cluster_session


def _as_unprivileged(cmd: list[str]) -> list[str]:
    # PostgreSQL, like Elasticsearch, refuses to run as root.
    if os.geteuid() == 0:
        return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", *cmd]
    return cmd


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """SQLAlchemy URL of a real PostgreSQL: QINGYUAN_TEST_PG_URL, or a throw-away local cluster."""
    given = os.environ.get("QINGYUAN_TEST_PG_URL")
    if given:
        yield given
        return
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing_real_part("PostgreSQL driver (psycopg) not installed")
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        missing_real_part("PostgreSQL server binaries not installed")
    bindir = Path(bins[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="qy-pg-"))
    if os.geteuid() == 0:
        os.chown(root, 65534, 65534)
    data, port = root / "data", _free_port()
    try:
        subprocess.run(
            _as_unprivileged([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "qingyuan", "-E", "UTF8"]),
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            _as_unprivileged(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(root / "log"),
                    "-w",
                    "-t",
                    "60",  # pg_ctl gives up after 60 s instead of waiting on a server that never answers
                    "-o",
                    f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        said = getattr(exc, "stderr", b"") or b""
        detail = f"{exc}\n{said.decode('utf-8', 'replace') if isinstance(said, bytes) else said}\n{_tail(root / 'log')}"
        shutil.rmtree(root, ignore_errors=True)
        start_failed("PostgreSQL", detail)
    try:
        yield f"postgresql+psycopg://qingyuan@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_unprivileged([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            timeout=120,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def smtp_server() -> Iterator[tuple[MailSink, int]]:
    sink = MailSink()
    with serve_smtp(sink) as port:
        yield sink, port


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on loopback (append-only), for the shared mode; skipped locally, failed in CI, when the
    Debian package is missing; a failure to start is always a failure."""
    if not redis_binary():
        missing_real_part("redis-server not installed (Debian package redis-server)")
    try:
        with serve_redis() as server:
            yield server
    except RedisStartError as exc:
        start_failed("redis-server", str(exc))
