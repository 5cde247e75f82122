"""Fleet faults on a real redis-server: a poison message goes to the dead letters after N deliveries, a redelivered
batch changes nothing, and a Redis killed with SIGKILL comes back with its queue (append-only file) while a worker
waits for it with back-off and says so."""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest

from casebook import Casebook
from classifiers.load import load_classifier
from core.settings import Settings
from fleet import keys
from fleet.connection import connect, retrying
from fleet.index_worker import IndexWorker
from fleet.jobs import CrawlJob, active_jobs, enqueue_crawl, ensure_group, trim_acknowledged
from indexer import open_store
from tests.factories import make_post
from tests.integration.redis_server import redis_binary, serve_redis
from wiring.pipeline import index_posts

pytestmark = pytest.mark.integration


@pytest.fixture()
def worker(redis_server, tmp_path):
    client = connect(redis_server.url)
    client.flushall()
    settings = Settings(home=tmp_path, redis_url=redis_server.url, claim_after_s=0.2, max_tries=2)
    settings.ensure_dirs()
    store, book = open_store(settings), Casebook(settings.casebook)
    classifier = load_classifier(settings, "lexicon")

    def index(posts, into):
        index_posts(posts, settings=settings, store=into, classifier=classifier, known=set())

    yield IndexWorker(settings, store=store, casebook=book, index_posts=index, batch_messages=8), client
    store.close()
    book.close()


def _drain(worker: IndexWorker, until, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():
        worker.process(worker.read(block_ms=100))
        time.sleep(0.05)


def test_poison_goes_to_dead_letters_and_the_rest_is_indexed_once(worker):
    worker, client = worker
    good = [make_post(post_id=str(i), text=f"停息挂账 加薇 zx{i} 征信修复") for i in range(3)]
    client.xadd(keys.POSTS, {"job": "t", "posts": "[" + ",".join(p.model_dump_json() for p in good) + "]"})
    client.xadd(keys.POSTS, {"job": "t", "posts": '[{"key": "not a post"}]'})
    _drain(worker, lambda: client.xlen(keys.DEAD) >= 1)

    dead = client.xrange(keys.DEAD)
    assert len(dead) == 1 and "deliveries" in dead[0][1]["reason"] and dead[0][1]["source"] == keys.POSTS
    assert client.xpending(keys.POSTS, keys.INDEX_GROUP)["pending"] == 0
    assert worker.store.count() == 3 and worker.casebook.count_intake() == 3
    assert int(client.hget(keys.COUNTERS, "dead_letters")) == 1

    # the same message delivered again: nothing changes in the index or the casebook
    first = {h.key: h for h in worker.store.get_many([p.key for p in good])}
    message = client.xrange(keys.POSTS, count=1)[0]
    worker.process([message])
    again = {h.key: h for h in worker.store.get_many([p.key for p in good])}
    assert again == first and worker.casebook.count_intake() == 3
    assert worker.counts.already_indexed == 3


def test_redis_killed_and_restarted_keeps_the_queue_and_the_worker_waits(caplog):
    if not redis_binary():
        pytest.skip("redis-server not installed")
    with serve_redis() as server:
        client = connect(server.url)
        assert enqueue_crawl(client, CrawlJob(job="j1", spider="demo", args={"base_url": "http://127.0.0.1:9"}))
        server.kill()  # SIGKILL: only what the append-only file holds survives
        restarter = threading.Timer(1.5, server.start)
        restarter.start()
        with caplog.at_level(logging.WARNING, logger="fleet.connection"):
            jobs = retrying("listing jobs", lambda: active_jobs(client), give_up_after=60)
        restarter.join()
        assert [j.job for j in jobs] == ["j1"]
        assert json.loads(client.xrange(keys.frontier("j1"))[0][1]["task"]) == {"start": True}
        said = caplog.text
        assert "redis unreachable during listing jobs" in said and "redis reachable again" in said


class Relay:
    """A TCP relay to a real server that can be cut and restored, as a network outage between worker and server."""

    def __init__(self, host: str, port: int) -> None:
        import socket

        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.conns: list = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self) -> None:
        self.open = False
        for conn in self.conns:
            try:
                conn.close()
            except OSError:
                pass
        self.conns = []

    def close(self) -> None:
        self.cut()
        self.listener.close()


def test_an_elasticsearch_outage_is_waited_out_and_the_batch_indexed_once(redis_server, es_url, tmp_path, caplog):
    from urllib.parse import urlsplit

    from indexer.elastic_store import ElasticHitStore

    target = urlsplit(es_url)
    relay = Relay(target.hostname or "127.0.0.1", target.port or 9200)
    alias = f"qy-outage-{tmp_path.name[-8:].lower()}"
    client = connect(redis_server.url)
    client.flushall()
    settings = Settings(home=tmp_path, redis_url=redis_server.url, claim_after_s=30, max_tries=2)
    store = ElasticHitStore(f"http://127.0.0.1:{relay.port}", alias, max_retries=1, initial_backoff=0.1)
    book = Casebook(settings.casebook)
    classifier = load_classifier(settings, "lexicon")
    worker = IndexWorker(
        settings,
        store=store,
        casebook=book,
        index_posts=lambda posts, into: index_posts(
            posts, settings=settings, store=into, classifier=classifier, known=set()
        ),
    )
    posts = [make_post(post_id=f"o{i}", text=f"反催收 上岸 加V{i}") for i in range(2)]
    client.xadd(keys.POSTS, {"job": "t", "posts": "[" + ",".join(p.model_dump_json() for p in posts) + "]"})
    try:
        messages = worker.read(block_ms=100)
        relay.cut()
        threading.Timer(3.0, lambda: setattr(relay, "open", True)).start()
        with caplog.at_level(logging.WARNING, logger="fleet.index_worker"):
            worker.process(messages)
        direct = ElasticHitStore(es_url, alias)
        assert {h.key for h in direct.get_many([p.key for p in posts])} == {p.key for p in posts}
        assert worker.counts.outages == 1 and worker.counts.indexed == 2
        assert "unreachable" in caplog.text and "reachable again" in caplog.text
        assert client.xpending(keys.POSTS, keys.INDEX_GROUP)["pending"] == 0  # acknowledged once, after the outage
        assert book.count_intake() == 2
        direct.drop()
    finally:
        relay.close()
        store.close()
        book.close()


def test_a_page_commit_queues_new_pages_once_streams_changed_posts_only_and_needs_ownership(redis_server, tmp_path):
    import asyncio

    from fleet.frontier import Frontier

    client = connect(redis_server.url)
    client.flushall()
    assert enqueue_crawl(client, CrawlJob(job="a", spider="demo"))
    assert enqueue_crawl(client, CrawlJob(job="b", spider="demo"))  # a re-crawl: another job, same platform
    post, other = make_post(post_id="w1", text="停息挂账 私信"), make_post(post_id="w2", text="协商还款")

    async def scenario() -> list:
        results = []
        mine = Frontier(redis_server.url, "a", "me", claim_after_s=30, max_tries=3, artefact_root=tmp_path)
        theirs = Frontier(redis_server.url, "a", "them", claim_after_s=30, max_tries=3, artefact_root=tmp_path)
        ((entry, task),) = [x async for x in _first(mine.tasks())]
        assert task == {"start": True}
        results.append(await theirs.commit(entry, [("fp1", "{}")], [post]))  # not its entry: refused
        results.append(await mine.commit(entry, [("fp1", "{}"), ("fp1", "{}"), ("fp2", "{}")], [post, other]))
        again = Frontier(redis_server.url, "b", "me", claim_after_s=30, max_tries=3, artefact_root=tmp_path)
        ((entry_b, _),) = [x async for x in _first(again.tasks())]
        edited = post.model_copy(update={"text": "停息挂账 私信 加薇"})
        results.append(await again.commit(entry_b, [("fp1", "{}")], [post, other, edited]))
        for f in (mine, theirs, again):
            await f.close()
        return results

    refused, first, recrawl = asyncio.run(scenario())
    assert refused == (False, 0, 0)
    assert first == (True, 2, 2)  # fp1 once, fp2 once; both posts streamed (in one entry, below)
    assert recrawl == (True, 1, 1)  # job b has its own seen-set; only the edited post is streamed again
    assert client.xlen(keys.POSTS) == 2
    assert client.xpending(keys.frontier("a"), keys.CRAWL_GROUP)["pending"] == 0


async def _first(agen):
    async for item in agen:
        yield item
        return


def test_a_scheduled_crawl_is_queued_when_redis_is_set(redis_server, tmp_path):
    from wiring.scheduler import JOB_BODIES, JobSpec

    client = connect(redis_server.url)
    client.flushall()
    settings = Settings(home=tmp_path, redis_url=redis_server.url)
    spec = JobSpec(id="crawl-demo", kind="crawl", interval="1h", options={"spider": "demo", "max_posts": 3})
    outcome = JOB_BODIES["crawl"](settings, spec)
    assert outcome["enqueued"] is True and outcome["job"].startswith("crawl-demo-")
    (job,) = active_jobs(client)
    assert (job.job, job.spider, job.args) == (outcome["job"], "demo", {"max_posts": "3"})


def test_acknowledged_post_entries_are_trimmed_and_pending_ones_kept(redis_server):
    client = connect(redis_server.url)
    client.flushall()
    ensure_group(client, keys.POSTS, keys.INDEX_GROUP)
    ids = [client.xadd(keys.POSTS, {"posts": "[]", "n": str(i)}) for i in range(5)]
    got = client.xreadgroup(keys.INDEX_GROUP, "w1", {keys.POSTS: ">"}, count=5)[0][1]
    assert [m for m, _ in got] == ids
    client.xack(keys.POSTS, keys.INDEX_GROUP, *ids[:3])

    assert trim_acknowledged(client, keys.POSTS, keys.INDEX_GROUP) == 3  # the two pending entries stay
    assert [m for m, _ in client.xrange(keys.POSTS)] == ids[3:]
    claimed = client.xclaim(keys.POSTS, keys.INDEX_GROUP, "w2", 0, ids[3:])  # a killed worker's batch is still there
    assert [m for m, _ in claimed] == ids[3:]

    client.xack(keys.POSTS, keys.INDEX_GROUP, *ids[3:])
    newer = client.xadd(keys.POSTS, {"posts": "[]", "n": "5"})
    assert trim_acknowledged(client, keys.POSTS, keys.INDEX_GROUP) == 1  # never past the last delivered entry
    assert [m for m, _ in client.xrange(keys.POSTS)] == [ids[4], newer]
    (group,) = client.xinfo_groups(keys.POSTS)
    assert group["lag"] == 1  # the group still knows exactly what is left to read
    assert [m for m, _ in client.xreadgroup(keys.INDEX_GROUP, "w1", {keys.POSTS: ">"})[0][1]] == [newer]
