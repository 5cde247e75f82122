"""The shared mode for real: redis-server, Elasticsearch, PostgreSQL and the demo site on loopback; two crawl and two
index workers (`qingyuan worker` subprocesses), one of each SIGKILLed while it holds unacknowledged work.

Every crawled demo post must be indexed exactly once (each document's `_version` is 1 and the casebook's intake holds
each key once) with the verdict the single-machine pipeline gives the same posts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from core.settings import Settings
from demo.content import bio_post_id, load_content
from demo.server import serve_demo
from tests.integration.conftest import EsCluster

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.slow]

VIDEOS = 6  # the feed's first posts, with their comments and their authors' bios
CLAIM_AFTER_S = 8.0
DEADLINE_S = 240.0
ROOT = Path(__file__).resolve().parents[2]
QINGYUAN = [str(Path(sys.executable).with_name("qingyuan"))]


@pytest.fixture()
def search_url(es_cluster: EsCluster) -> str:
    """The Elasticsearch the index workers write to: the two-node cluster (both URLs; a worker fails over)."""
    return es_cluster.url


def expected_keys(videos: int) -> set[str]:
    data = load_content()
    posts = data["posts"][:videos]
    authors = {a["id"]: a for a in data["authors"]}
    keys = {f"demo:{p['id']}" for p in posts}
    keys |= {f"demo:{c['id']}" for p in posts for c in p["comments"]}
    keys |= {f"demo:{bio_post_id(p['author_id'])}" for p in posts if authors[p["author_id"]]["bio"]}
    return keys


def _fresh_database(pg_url: str) -> str:
    import psycopg

    name = f"qy_fleet_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return pg_url.rsplit("/", 1)[0] + f"/{name}"


def _worker(role: str, env: dict[str, str], log: Path, *extra: str) -> subprocess.Popen[bytes]:
    cmd = [*QINGYUAN, "worker", "--role", role, "--exit-when-idle", "600", *extra]
    with log.open("ab") as fh:
        return subprocess.Popen(
            cmd, env=env, cwd=str(ROOT), stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )


def _consumers_holding(client, stream: str, group: str, prefix: str) -> int:
    try:
        info = client.xinfo_consumers(stream, group)
    except Exception:
        return 0
    return sum(int(c["pending"]) for c in info if c["name"] == prefix or c["name"].startswith(prefix + ":"))


def test_two_crawl_and_two_index_workers_survive_a_kill_each(redis_server, search_url, pg_url, tmp_path):
    import redis

    from casebook import Casebook
    from classifiers.load import load_classifier
    from fleet import keys
    from indexer.elastic_store import ElasticHitStore
    from indexer.tantivy_store import TantivyHitStore
    from wiring.pipeline import index_posts

    alias = f"qy-fleet-{uuid.uuid4().hex[:8]}"
    casebook_url = _fresh_database(pg_url)
    store = ElasticHitStore(search_url, alias)  # the index exists before the workers race to create it
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    client.flushall()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "QINGYUAN_HOME": str(tmp_path / "home"),
        "QINGYUAN_SHARED_DIR": str(tmp_path / "shared"),
        "QINGYUAN_REDIS_URL": redis_server.url,
        "QINGYUAN_ELASTICSEARCH_URL": search_url,
        "QINGYUAN_ELASTICSEARCH_INDEX": alias,
        "QINGYUAN_CASEBOOK_URL": casebook_url,
        "QINGYUAN_CLAIM_AFTER_S": str(CLAIM_AFTER_S),
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    expected = expected_keys(VIDEOS)
    host = os.uname().nodename
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with serve_demo() as url:
            job_args = ["--job", "fleet-test", "-a", f"base_url={url}", "-a", f"max_posts={VIDEOS}"]
            enqueue = subprocess.run(
                [*QINGYUAN, "crawl", "demo", "--enqueue", *job_args],
                env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            assert enqueue.returncode == 0, enqueue.stderr
            crawl = [_worker("crawl", env, logs / f"crawl{i}.log") for i in range(2)]
            index = [_worker("index", env, logs / f"index{i}.log", "--batch", "2") for i in range(2)]
            workers = crawl + index
            victims = {"crawl": crawl[0], "index": index[0]}
            streams = {
                "crawl": (keys.frontier("fleet-test"), keys.CRAWL_GROUP),
                "index": (keys.POSTS, keys.INDEX_GROUP),
            }
            killed: dict[str, int] = {}
            deadline = time.monotonic() + DEADLINE_S
            while time.monotonic() < deadline:
                for role, proc in victims.items():
                    stream, group = streams[role]
                    # killed while it holds a page or a batch it has not acknowledged
                    held = _consumers_holding(client, stream, group, f"{host}:{role}:{proc.pid}")
                    if role not in killed and held:
                        os.killpg(proc.pid, signal.SIGKILL)
                        killed[role] = held
                done = client.hlen(keys.JOBS_DONE) == 1 and not client.hlen(keys.JOBS)
                lag = client.xinfo_groups(keys.POSTS) if client.exists(keys.POSTS) else []
                indexed_all = done and all(int(g["pending"]) == 0 and g.get("lag") == 0 for g in lag)
                if indexed_all and len(killed) == 2:
                    break
                time.sleep(0.3)
            counters = client.hgetall(keys.COUNTERS)
            status = subprocess.run(
                [*QINGYUAN, "fleet", "status", "--json"],
                env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=60, check=True,
            )  # fmt: skip
    finally:
        for proc in workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    worker_logs = "\n".join(f"--- {p.name}\n{p.read_text('utf-8', 'replace')[-3000:]}" for p in sorted(logs.iterdir()))
    assert set(killed) == {"crawl", "index"}, f"no worker held work to kill it over: {killed}\n{worker_logs}"
    fleet = json.loads(status.stdout)
    assert fleet["dead_letters"]["count"] == 0, fleet["dead_letters"]
    # the killed workers' unacknowledged work was taken over by the others
    assert int(counters.get("pages_claimed", 0)) >= 1 and int(counters.get("messages_claimed", 0)) >= 1, counters

    store.refresh()
    hits = {h.key: h for h in store.get_many(sorted(expected))}
    assert set(hits) == expected, f"missing {sorted(expected - set(hits))[:5]}\n{worker_logs}"
    assert store.count() == len(expected)  # and nothing else
    versions = store.es.search(index=alias, query={"match_all": {}}, size=len(expected) + 10, version=True)
    assert {d["_version"] for d in versions["hits"]["hits"]} == {1}  # each document written once
    book = Casebook(casebook_url)
    try:
        assert book.count_intake() == len(expected)
    finally:
        book.close()

    # The single-machine pipeline on the same posts gives the same verdicts.
    settings = Settings(home=tmp_path / "single")
    single = TantivyHitStore(settings.home / "index")
    try:
        index_posts(
            [h.post for h in hits.values()], settings=settings, store=single, classifier=load_classifier(settings)
        )
        alone = {h.key: h.verdict for h in single.get_many(sorted(expected))}
    finally:
        single.close()
    diffs = [
        k
        for k, hit in hits.items()
        if (hit.verdict.label, hit.verdict.category) != (alone[k].label, alone[k].category)
        or abs(hit.verdict.score - alone[k].score) > 1e-3
    ]
    assert not diffs, diffs
    # evidence went to the shared storage
    assert any((tmp_path / "shared" / "evidence" / "demo").glob("*.png"))
    print(
        f"fleet: {len(expected)} posts indexed once each, 0 verdict diffs, killed holding {killed}, claims {counters}"
    )
