"""The query language gives the same hits on both backends: a table of queries run against the embedded tantivy
index and a real Elasticsearch 8.12.2 holding the same hits; key sets are compared with each other and, where
written out, with the answer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from core.records import Category, Hit, HitStatus, Label, ModelInfo, PostKind
from indexer.base import HitStore, SearchQuery, SortOrder
from indexer.form import SearchForm
from tests import factories

MODEL = ModelInfo(name="test", version="1")
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=timezone.utc)


def _hit(
    platform: str,
    post_id: str,
    text: str,
    *,
    category: Category | None = None,
    label: Label = Label.lead_gen,
    status: HitStatus = HitStatus.new,
    author: tuple[str, str] = ("a0", "路人"),
    contacts: tuple[str, ...] = (),
    kind: PostKind = PostKind.post,
    days: int | None = 0,
) -> Hit:
    post = factories.make_post(
        post_id,
        text,
        platform=platform,
        author_id=author[0],
        author_name=author[1],
        kind=kind,
        published_at=T0 + timedelta(days=days) if days is not None else None,
    )
    verdict = factories.make_verdict(
        label=label,
        score=0.9 if label is Label.lead_gen else 0.1,
        category=category,
        contacts=[factories.contact_in(text, c) for c in contacts],
        model=MODEL,
    )
    return factories.make_hit(post, verdict, status=status, first_seen=T0)


HITS = [
    _hit("douyin", "1", "专业征信修复，逾期可洗白，加V qy8888", category=Category.credit_repair,
         author=("agent01", "债务规划师"), contacts=("qy8888",)),
    _hit("douyin", "2", "zx花了也能修，私信", category=Category.credit_repair, author=("agent01", "债务规划师"), days=1),
    _hit("kuaishou", "3", "停息挂账 个性化分期 代办，加微 ＱＹ8888", category=Category.stop_interest,
         contacts=("ＱＹ8888",), status=HitStatus.confirmed, days=2),
    _hit("weibo", "4", "律师提醒：征信修复都是骗局", label=Label.benign, status=HitStatus.dismissed, days=3),
    _hit("xiaohongshu", "5", "反催收 防爆通讯录 团队", category=Category.anti_collection, kind=PostKind.comment,
         status=HitStatus.reported, days=4),
    _hit("weibo", "6", "修复征信找我，不成功不收费", category=Category.credit_repair, kind=PostKind.comment, days=None),
    _hit("bilibili", "7", "代理退保 全额退", category=Category.surrender_agency, author=("b7", "退保小王"), days=5),
    _hit("zhihu", "8", "今天天气很好，去公园跑步", label=Label.benign, days=6),
    _hit("tieba", "9", "停息挂账骗局曝光，征信没法花钱修复", label=Label.benign, kind=PostKind.comment, days=7),
]  # fmt: skip
ALL = {h.key for h in HITS}

# (query, the answer where it is written out; None: the backends only have to agree)
TABLE: list[tuple[str, set[str] | None]] = [
    ("zx OR 征信", {"douyin:1", "douyin:2", "weibo:4", "weibo:6", "tieba:9"}),
    ("zx", {"douyin:2"}),
    ("征信 -修复", {"douyin:2"}),
    ("征信 NOT 律师", {"douyin:1", "douyin:2", "weibo:6", "tieba:9"}),
    ("-征信", ALL - {"douyin:1", "douyin:2", "weibo:4", "weibo:6", "tieba:9"}),
    ("NOT (征信 OR 停息挂账)", {"xiaohongshu:5", "bilibili:7", "zhihu:8"}),
    ("(停息挂账 OR 反催收) platform:快手", {"kuaishou:3"}),
    ("platform:快手 OR platform:weibo", {"kuaishou:3", "weibo:4", "weibo:6"}),
    ("category:征信修复", {"douyin:1", "douyin:2", "weibo:6"}),
    ("category:洗白 -platform:抖音", {"weibo:6"}),
    ("status:待审核 征信", {"douyin:1", "douyin:2", "weibo:6", "tieba:9"}),
    ("status:已确认 OR status:reported", {"kuaishou:3", "xiaohongshu:5"}),
    ("contact:qy8888", {"douyin:1", "kuaishou:3"}),
    ("contact:QY8888", {"douyin:1", "kuaishou:3"}),
    ("author:agent01", {"douyin:1", "douyin:2"}),
    ("author:债务规划师 -zx", {"douyin:1"}),
    ('author:"退保小王"', {"bilibili:7"}),
    ("kind:comment", {"xiaohongshu:5", "weibo:6", "tieba:9"}),
    ("kind:comment label:benign", {"tieba:9"}),
    ("label:lead_gen -kind:comment", {"douyin:1", "douyin:2", "kuaishou:3", "bilibili:7"}),
    ('"征信修复"', {"douyin:1", "weibo:4"}),
    ("“修复征信”", {"weibo:6"}),
    ('"征信修复" OR "修复征信"', {"douyin:1", "weibo:4", "weibo:6"}),
    ("((征信)) AND 骗局", {"weibo:4", "tieba:9"}),
    ("骗局 -(律师 OR 曝光)", set()),
    ("停息挂账 AND -骗局 AND status:confirmed", {"kuaishou:3"}),
    ("征信 (platform:douyin OR kind:comment) -zx", None),
    ("NOT NOT 代理退保", {"bilibili:7"}),
    ("！！ OR 公园", {"zhihu:8"}),  # a side of only punctuation drops out
]


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, es_url: str) -> Iterator[dict[str, HitStore]]:
    from indexer.elastic_store import ElasticHitStore
    from indexer.tantivy_store import TantivyHitStore

    tantivy = TantivyHitStore(Path(tmp_path_factory.mktemp("parity")) / "index")
    elastic = ElasticHitStore(es_url, f"test-parity-{uuid.uuid4().hex[:10]}")
    for store in (tantivy, elastic):
        assert store.upsert(HITS) == len(HITS)
    try:
        yield {"tantivy": tantivy, "elasticsearch": elastic}
    finally:
        elastic.drop()
        elastic.close()
        tantivy.close()


def _keys(store: HitStore, query: SearchQuery) -> set[str]:
    result = store.search(query.model_copy(update={"limit": 100}))
    assert result.total == len(result.hits)
    return {h.key for h in result.hits}


@pytest.mark.integration
@pytest.mark.parametrize(("text", "expected"), TABLE, ids=[t for t, _ in TABLE])
def test_both_backends_give_the_same_hits(stores: dict[str, HitStore], text: str, expected: set[str] | None) -> None:
    found = {name: _keys(store, SearchQuery(text=text)) for name, store in stores.items()}
    assert found["tantivy"] == found["elasticsearch"], text
    if expected is not None:
        assert found["tantivy"] == expected, text


@pytest.mark.integration
@pytest.mark.parametrize("sort", [SortOrder.relevance, SortOrder.newest, SortOrder.oldest, SortOrder.score])
def test_sorts_and_pages_agree(stores: dict[str, HitStore], sort: SortOrder) -> None:
    query = SearchQuery(text="征信 OR 停息挂账 OR kind:comment", sort=sort)
    pages = {}
    for name, store in stores.items():
        keys: list[str] = []
        for offset in range(0, 10, 3):
            page = store.search(query.model_copy(update={"offset": offset, "limit": 3}))
            keys += [h.key for h in page.hits]
        pages[name] = keys
    assert sorted(pages["tantivy"]) == sorted(pages["elasticsearch"])
    assert len(set(pages["tantivy"])) == len(pages["tantivy"])  # pages never repeat a hit
    if sort is not SortOrder.relevance:  # scores differ between engines; field sorts must not
        assert pages["tantivy"] == pages["elasticsearch"]
    if sort is SortOrder.oldest:
        assert pages["tantivy"][-1] == "weibo:6"  # undated last


@pytest.mark.integration
def test_the_search_form_counts_the_same_on_both(stores: dict[str, HitStore]) -> None:
    """What the console and the CLI send: lead generation by default, benign on request or by label:."""
    forms = [
        (SearchForm(q="征信"), {"douyin:1", "douyin:2", "weibo:6"}),
        (SearchForm(q="征信", include_benign=True), {"douyin:1", "douyin:2", "weibo:4", "weibo:6", "tieba:9"}),
        (SearchForm(q="征信 label:benign"), {"weibo:4", "tieba:9"}),
        (SearchForm(q="", platform="抖音,weibo", status="待审核"), {"douyin:1", "douyin:2", "weibo:6"}),
        (SearchForm(since="2026-10-03", until="2026-10-05"), {"kuaishou:3", "xiaohongshu:5"}),  # Beijing days
    ]
    for form, expected in forms:
        for store in stores.values():
            assert _keys(store, form.to_query()) == expected, form


@pytest.mark.integration
def test_an_elasticsearch_index_made_before_the_new_fields_gains_them(es_url: str) -> None:
    from elasticsearch import Elasticsearch

    from indexer.elastic_store import MAPPINGS, ElasticHitStore

    new = ("author", "contact", "kind", "oldest_ts")
    alias = f"test-upgrade-{uuid.uuid4().hex[:10]}"
    es = Elasticsearch(es_url)
    old = {**MAPPINGS, "properties": {k: v for k, v in MAPPINGS["properties"].items() if k not in new}}
    es.indices.create(index=f"{alias}-v1", mappings=old, aliases={alias: {"is_write_index": True}})
    for hit in HITS[:3]:
        source = {k: v for k, v in ElasticHitStore._source(hit).items() if k not in new}
        es.index(index=alias, id=hit.key, document=source, refresh=True)
    store = ElasticHitStore(es_url, alias)
    try:
        assert _keys(store, SearchQuery(text="contact:qy8888")) == {"douyin:1", "kuaishou:3"}
        assert _keys(store, SearchQuery(text="author:债务规划师")) == {"douyin:1", "douyin:2"}
    finally:
        store.drop()
        store.close()
        es.close()
