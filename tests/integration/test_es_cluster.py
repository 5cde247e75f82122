"""The Elasticsearch store on a real two-node cluster: replicas, moving a concrete index behind its alias, a
reindex under concurrent searches and writes, and the loss of the data node (SIGKILL).

The node-loss test comes last: the node it kills is started again only when a later test asks for the cluster.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch, helpers

from core.records import HitStatus
from indexer.base import SearchQuery
from indexer.elastic_store import MAPPINGS, ElasticHitStore
from tests.integration.conftest import EsCluster
from tests.integration.test_hitstore import ALL_KEYS, DATA, keys_of, make_hit

pytestmark = pytest.mark.integration


@pytest.fixture()
def cluster_store(es_cluster: EsCluster) -> Iterator[ElasticHitStore]:
    store = ElasticHitStore(es_cluster.url, f"test-cluster-{uuid.uuid4().hex[:8]}", shards=2)
    try:
        yield store
    finally:
        store.drop()
        store.close()


def _green(store: ElasticHitStore) -> dict[str, object]:
    """Every shard of the store's index and its replica started (before a node loss, the replica must be whole)."""
    health = store.es.options(request_timeout=120).cluster.health(
        index=store.alias, wait_for_status="green", timeout="90s"
    )
    return dict(health)


def test_replicas_are_allocated_on_both_nodes(cluster_store: ElasticHitStore) -> None:
    assert cluster_store.replicas == 1  # chosen from the two data nodes, no setting given
    cluster_store.upsert(DATA)
    health = _green(cluster_store)
    assert health["status"] == "green" and health["active_shards"] == 4
    shards = cluster_store.es.cat.shards(index=cluster_store.current_index(), format="json").body
    for shard in ("0", "1"):
        assert len({s["node"] for s in shards if s["shard"] == shard and s["state"] == "STARTED"}) == 2


def test_a_concrete_index_named_like_the_alias_moves_behind_it(es_cluster: EsCluster) -> None:
    name = f"test-legacy-{uuid.uuid4().hex[:8]}"
    es = Elasticsearch(list(es_cluster.urls))
    before_aliases = {k: v for k, v in MAPPINGS["properties"].items() if k != "written_at"}
    es.indices.create(
        index=name,
        mappings={"dynamic": "strict", "properties": before_aliases},
        settings={"number_of_shards": 1, "number_of_replicas": 0},
    )
    helpers.bulk(
        es, ({"_index": name, "_id": h.key, "_source": ElasticHitStore._source(h)} for h in DATA), refresh=True
    )
    store = ElasticHitStore(es_cluster.url, name)
    try:
        assert store.current_index() == f"{name}-v1"
        assert set(es.indices.get_alias(name=name).body) == {f"{name}-v1"}  # an alias now, the old index gone
        assert store.keys() == ALL_KEYS
        assert "douyin:1" in keys_of(store.search(SearchQuery(text="征信", limit=100)).hits)
        assert store.upsert([make_hit("douyin", "after-move", "征信修复")]) == 1
        assert store.count() == len(DATA) + 1
    finally:
        store.drop()
        es.close()


def test_reindex_under_searches_and_writes_loses_nothing(es_cluster: EsCluster, cluster_store: ElasticHitStore) -> None:
    base = [make_hit("weibo", f"base{i}", f"停息挂账 第{i}条 私信") for i in range(600)]
    cluster_store.upsert(base)
    # Other processes: a crawler indexing and an analyst confirming, each with its own client.
    writer = ElasticHitStore(es_cluster.url, cluster_store.alias, shards=2)
    searcher = ElasticHitStore(es_cluster.url, cluster_store.alias, shards=2)
    stop = threading.Event()
    written: list[tuple[float, str]] = []  # (acknowledged at, key)
    confirmed: list[str] = []
    asked, answered, short, errors = [0], [0], [], []

    def write() -> None:
        i = 0
        while not stop.is_set():
            hit = make_hit("weibo", f"live{i}", "征信修复 加V详聊")
            try:
                writer.upsert([hit])
                written.append((time.monotonic(), hit.key))
                if i % 3 == 0:
                    key = base[i % len(base)].key
                    writer.set_status([key], HitStatus.confirmed)
                    confirmed.append(key)
            except Exception as exc:  # counted: every write must be accepted
                errors.append(exc)
            i += 1

    def search() -> None:
        while not stop.is_set():
            asked[0] += 1
            try:
                total = searcher.search(SearchQuery(limit=0)).total
            except Exception as exc:  # counted: every search must be answered
                errors.append(exc)
                continue
            answered[0] += 1
            if total < len(base):
                short.append(total)

    threads = [threading.Thread(target=write), threading.Thread(target=search)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        began = time.monotonic()
        lines: list[str] = []
        # Throttled so the copy takes seconds and writes land while it runs.
        done = cluster_store.reindex(progress=lines.append, docs_per_second=150)
        ended = time.monotonic()
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    during = [key for at, key in written if began <= at <= ended]
    print(
        f"\nreindex: {done.copied} copied ({done.docs_per_second:.0f} docs/s), {done.caught_up} caught up; "
        f"{len(during)} writes acknowledged during it; searches answered {answered[0]} of {asked[0]}"
    )
    assert done.new == f"{cluster_store.alias}-v2" == cluster_store.current_index()
    assert not cluster_store.es.indices.exists(index=done.old)
    assert any(line.startswith("copy ") for line in lines)
    assert during, "no write landed while the reindex ran; the test proved nothing"
    assert not errors and answered[0] == asked[0] > 0, errors[:3]
    assert not short
    assert cluster_store.keys() == {h.key for h in base} | {key for _, key in written}
    statuses = {h.key: h.status for h in cluster_store.get_many(confirmed)}
    assert confirmed and all(statuses[key] is HitStatus.confirmed for key in confirmed)
    writer.close()
    searcher.close()


def test_losing_the_data_node_keeps_every_hit_and_takes_writes(
    es_cluster: EsCluster, cluster_store: ElasticHitStore, caplog: pytest.LogCaptureFixture
) -> None:
    cluster_store.upsert(DATA)
    _green(cluster_store)
    caplog.set_level(logging.WARNING, logger="elastic_transport")
    es_cluster.kill("data")
    health = cluster_store.es.options(request_timeout=120).cluster.health(
        index=cluster_store.alias, wait_for_nodes="1", wait_for_status="yellow", timeout="90s"
    )
    assert health["status"] == "yellow" and health["number_of_nodes"] == 1 and not health["timed_out"]
    assert cluster_store.keys() == ALL_KEYS
    assert cluster_store.search(SearchQuery(limit=0)).total == len(DATA)
    assert "douyin:1" in keys_of(cluster_store.search(SearchQuery(text="征信", limit=100)).hits)
    assert cluster_store.upsert([make_hit("douyin", "after-loss", "反催收 加V")]) == 1
    assert cluster_store.get("douyin:after-loss") is not None
    # A process opening the store now sees one data node, and keeps the replica the index has.
    reopened = ElasticHitStore(list(es_cluster.urls), cluster_store.alias, shards=2)
    assert reopened.replicas == 1
    reopened.close()
    replicas = cluster_store.es.indices.get_settings(index=cluster_store.alias, name="index.number_of_replicas")
    assert [v["settings"]["index"]["number_of_replicas"] for v in replicas.body.values()] == ["1"]
    assert "has failed" in caplog.text  # the client put the lost node on time-out and went on with the other
