"""One HitStore suite run against both backends (embedded tantivy and a real Elasticsearch 8.12.2).

Every query's expected answer is written out here or computed by a plain-Python reference over the same hits,
so both backends must return the same hits; `test_backends_agree` also compares them with each other directly.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from core.records import Category, Hit, HitStatus, Label, ModelInfo, Platform, utcnow
from indexer.base import HitStore, SearchQuery, SortOrder
from indexer.query import QueryError
from tests import factories
from tests.integration.loopback import QuietHandler, serve_http

MODEL = ModelInfo(name="test", version="1")
T0 = datetime(2024, 3, 1, 10, 0, tzinfo=timezone.utc)


def make_hit(
    platform: str,
    post_id: str,
    text: str,
    *,
    category: Category | None = None,
    score: float = 0.5,
    published: datetime | None = T0,
    status: HitStatus = HitStatus.new,
    label: Label = Label.lead_gen,
    author: str | None = None,
    first_seen: datetime | None = None,
) -> Hit:
    post = factories.make_post(
        post_id, text, platform=platform, url="", author_id=author, published_at=published, fetched_at=utcnow()
    )
    verdict = factories.make_verdict(label=label, score=score, category=category, model=MODEL)
    return factories.make_hit(post, verdict, status=status, first_seen=first_seen or T0 + timedelta(days=30))


def dataset() -> list[Hit]:
    d = timedelta(days=1)
    hits = [
        make_hit(
            "douyin",
            "1",
            "专业征信修复，逾期记录可洗白，V信联系",
            category=Category.credit_repair,
            score=0.95,
            author="a1",
            first_seen=T0 + timedelta(hours=5),
        ),
        make_hit(
            "douyin",
            "2",
            "征信修复找我们，三天上岸",
            category=Category.credit_repair,
            score=0.9,
            author="a1",
            first_seen=T0 + timedelta(hours=5),
        ),
        make_hit(
            "kuaishou",
            "3",
            "停息挂账 个性化分期 代办，评论区扣1",
            category=Category.stop_interest,
            score=0.9,
            published=T0 + d,
            author="a2",
        ),
        make_hit(
            "weibo",
            "4",
            "银行官方通知：可通过官方渠道协商还款，谨防征信修复骗局",
            score=0.05,
            label=Label.benign,
            published=T0 + d,
            status=HitStatus.dismissed,
        ),
        make_hit(
            "xiaohongshu",
            "5",
            "反催收防爆通讯录，专业团队",
            category=Category.anti_collection,
            score=0.8,
            published=T0 + 2 * d,
            status=HitStatus.confirmed,
        ),
        make_hit(
            "zhihu",
            "6",
            "债务优化 债务重组 协商代办 全国可做",
            category=Category.debt_optimisation,
            score=0.85,
            published=None,
        ),
        make_hit(
            "bilibili",
            "7",
            "代理退保，全额退保险费",
            category=Category.surrender_agency,
            score=0.7,
            published=T0 + 3 * d,
        ),
        make_hit(
            "tieba",
            "8",
            "职业背债 白户包装 高额回报",
            category=Category.debt_mule_recruiting,
            score=0.75,
            published=T0 + 3 * d,
        ),
        make_hit(
            "douyin", "9", "帮你修复征信记录，私信", category=Category.credit_repair, score=0.6, published=T0 + 4 * d
        ),
        make_hit("weibo", "10", "律师解读：征信 修复 没有捷径", score=0.1, label=Label.benign, published=T0 + 4 * d),
        # Zero-width junk and full-width letters, as crawled text arrives.
        make_hit(
            "douyin",
            "11",
            "征\u200b信修复 ＶＸ：ｚｘ８８８",
            category=Category.credit_repair,
            score=0.88,
            published=T0 + 5 * d,
        ),
    ]
    platforms = list(Platform)
    for i in range(24):  # bulk for paging and facets, with deliberate score and time ties
        hits.append(
            make_hit(
                platforms[i % len(platforms)].value,
                f"n{i:02d}",
                f"网贷逾期 协商还款 第{i}期 上岸",
                category=Category.debt_optimisation if i % 3 else Category.stop_interest,
                score=round(0.3 + (i % 5) * 0.1, 2),
                published=T0 + timedelta(days=i % 4, hours=i % 2),
                status=HitStatus.confirmed if i % 7 == 0 else HitStatus.new,
                first_seen=T0 + timedelta(days=40 + i % 6),
            )
        )
    return hits


DATA = dataset()
ALL_KEYS = {h.key for h in DATA}


# -- plain-Python reference ---------------------------------------------------------------------------------


def reference(query: SearchQuery, hits: list[Hit] = DATA) -> list[Hit]:
    """Filter and sort exactly as the HitStore contract says (text queries are checked with written answers)."""
    assert not query.text and not query.phrase, "reference covers filters and sorts only"
    out = []
    for h in hits:
        p, v = h.post, h.verdict
        if query.platforms and p.platform not in query.platforms:
            continue
        if query.categories and v.category not in query.categories:
            continue
        if query.statuses and h.status not in query.statuses:
            continue
        if query.labels and v.label.value not in query.labels:
            continue
        if query.author_id and p.author_id != query.author_id:
            continue
        if query.min_score is not None and v.score < query.min_score:
            continue
        if query.max_score is not None and v.score > query.max_score:
            continue
        if query.since is not None and (p.published_at is None or p.published_at < query.since):
            continue
        if query.until is not None and (p.published_at is None or p.published_at >= query.until):
            continue
        out.append(h)
    sort = query.sort if query.sort is not SortOrder.relevance else SortOrder.newest
    if sort is SortOrder.newest:
        out.sort(key=lambda h: (-(h.post.published_at.timestamp() if h.post.published_at else -1e18), h.key))
    elif sort is SortOrder.score:
        out.sort(key=lambda h: (-h.verdict.score, h.key))
    else:
        out.sort(key=lambda h: (h.first_seen, h.key))
    return out


def keys_of(hits: list[Hit]) -> list[str]:
    return [h.key for h in hits]


# -- fixtures ---------------------------------------------------------------------------------------------


def _tantivy(tmp_path: Path) -> HitStore:
    from indexer.tantivy_store import TantivyHitStore

    return TantivyHitStore(tmp_path / "index")


def _elastic(url: str) -> HitStore:
    from indexer.elastic_store import ElasticHitStore

    return ElasticHitStore(url, f"test-hits-{uuid.uuid4().hex[:10]}")


@pytest.fixture(params=["tantivy", pytest.param("elasticsearch", marks=pytest.mark.integration)])
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HitStore]:
    if request.param == "tantivy":
        store = _tantivy(tmp_path)
    else:
        store = _elastic(request.getfixturevalue("es_url"))
    try:
        yield store
    finally:
        if hasattr(store, "drop"):
            store.drop()
        store.close()


@pytest.fixture
def store(empty_store: HitStore) -> HitStore:
    assert empty_store.upsert(DATA) == len(DATA)
    return empty_store


# -- the suite --------------------------------------------------------------------------------------------


def test_is_a_hitstore(store: HitStore) -> None:
    assert isinstance(store, HitStore)
    assert store.count() == len(DATA)
    assert store.keys() == ALL_KEYS
    assert not store.stale_segmentation  # type: ignore[attr-defined]


def test_get_and_get_many_round_trip(store: HitStore) -> None:
    original = DATA[0]
    assert store.get(original.key) == original
    assert store.get("douyin:missing") is None
    got = store.get_many(["weibo:4", "nope:1", "douyin:1"])
    assert keys_of(got) == ["weibo:4", "douyin:1"]
    assert got[0] == DATA[3]


def test_reupsert_is_idempotent(store: HitStore) -> None:
    before = store.search(SearchQuery(text="征信", limit=100, facets=True))
    assert store.upsert(DATA) == len(DATA)
    assert store.count() == len(DATA)
    after = store.search(SearchQuery(text="征信", limit=100, facets=True))
    assert after.total == before.total
    assert set(keys_of(after.hits)) == set(keys_of(before.hits))
    assert after.by_category == before.by_category


def test_upsert_replaces_by_key(store: HitStore) -> None:
    changed = make_hit("douyin", "1", "已删除的内容", category=Category.credit_repair, score=0.2)
    store.upsert([changed])
    assert store.count() == len(DATA)
    assert store.get("douyin:1") == changed
    assert "douyin:1" not in keys_of(store.search(SearchQuery(text="征信修复", limit=100)).hits)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 征信 must find 征信修复 (indexed in jieba search mode), including through zero-width junk.
        ("征信", {"douyin:1", "douyin:2", "weibo:4", "douyin:9", "weibo:10", "douyin:11"}),
        # The words field also holds the de-obfuscated text, so the spaced-out "征信 修复" is found too.
        ("征信修复", {"douyin:1", "douyin:2", "weibo:4", "douyin:11", "weibo:10"}),
        ("征信 上岸", {"douyin:2"}),  # words are ANDed
        ("停息挂账", {"kuaishou:3"}),
        ("挂账", {"kuaishou:3"}),
        ("反催收", {"xiaohongshu:5"}),
        ("VX", {"douyin:11"}),  # full-width folded, case-insensitive
        ("zx888", {"douyin:11"}),
        ("洗白 征信", {"douyin:1"}),
        ("不存在的词", set()),
    ],
)
def test_words(store: HitStore, text: str, expected: set[str]) -> None:
    result = store.search(SearchQuery(text=text, limit=100))
    assert set(keys_of(result.hits)) == expected
    assert result.total == len(expected)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Exact phrase per character: 修复征信 (reversed) does not match; spaces and punctuation are ignored.
        (SearchQuery(phrase="征信修复"), {"douyin:1", "douyin:2", "weibo:4", "douyin:11", "weibo:10"}),
        (SearchQuery(text='"信修复"'), {"douyin:1", "douyin:2", "weibo:4", "douyin:11", "weibo:10"}),
        (SearchQuery(text="“修复征信”"), {"douyin:9"}),
        (SearchQuery(phrase="官方渠道协商"), {"weibo:4"}),
        (SearchQuery(phrase="协商还款", text="银行"), {"weibo:4"}),
        (SearchQuery(phrase="征信修复", labels=("benign",)), {"weibo:4", "weibo:10"}),
        (SearchQuery(phrase="信征"), set()),
    ],
)
def test_phrases(store: HitStore, query: SearchQuery, expected: set[str]) -> None:
    result = store.search(query.model_copy(update={"limit": 100}))
    assert set(keys_of(result.hits)) == expected


FILTERS = [
    SearchQuery(platforms=(Platform.douyin,)),
    SearchQuery(platforms=(Platform.douyin, Platform.weibo), categories=(Category.credit_repair,)),
    SearchQuery(categories=(Category.debt_optimisation,)),
    SearchQuery(statuses=(HitStatus.confirmed,)),
    SearchQuery(statuses=(HitStatus.new, HitStatus.dismissed), labels=("benign",)),
    SearchQuery(author_id="a1"),
    SearchQuery(min_score=0.8),
    SearchQuery(min_score=0.5, max_score=0.9),
    SearchQuery(since=T0 + timedelta(days=2)),
    SearchQuery(since=T0 + timedelta(days=1), until=T0 + timedelta(days=3)),
    SearchQuery(until=T0 + timedelta(days=1)),
]


@pytest.mark.parametrize("query", FILTERS, ids=lambda q: ",".join(sorted(q.model_dump(exclude_defaults=True))))
@pytest.mark.parametrize("sort", [SortOrder.newest, SortOrder.score, SortOrder.first_seen])
def test_filters_and_sorts(store: HitStore, query: SearchQuery, sort: SortOrder) -> None:
    q = query.model_copy(update={"sort": sort, "limit": 100})
    expected = reference(q)
    result = store.search(q)
    assert keys_of(result.hits) == keys_of(expected)
    assert result.total == len(expected)


def test_empty_query_matches_everything_newest_first(store: HitStore) -> None:
    result = store.search(SearchQuery(limit=1000))
    assert result.total == len(DATA)
    assert keys_of(result.hits) == keys_of(reference(SearchQuery()))
    assert result.hits[-1].key == "zhihu:6"  # undated posts come last


@pytest.mark.parametrize("sort", [SortOrder.newest, SortOrder.score, SortOrder.first_seen])
def test_paging_walks_the_same_order(store: HitStore, sort: SortOrder) -> None:
    full = keys_of(reference(SearchQuery(sort=sort)))
    pages: list[str] = []
    for offset in range(0, len(full) + 7, 7):
        page = store.search(SearchQuery(sort=sort, offset=offset, limit=7))
        assert page.total == len(full)
        pages += keys_of(page.hits)
    assert pages == full


def test_relevance_pages_partition_the_matches(store: HitStore) -> None:
    q = SearchQuery(text="协商还款", sort=SortOrder.relevance)
    everything = store.search(q.model_copy(update={"limit": 100}))
    seen: list[str] = []
    for offset in range(0, everything.total, 5):
        seen += keys_of(store.search(q.model_copy(update={"offset": offset, "limit": 5})).hits)
    assert sorted(seen) == sorted(keys_of(everything.hits))
    assert len(seen) == everything.total == 25


def _counts(hits: list[Hit], key: Callable[[Hit], str | None]) -> dict[str, int]:
    return dict(Counter(k for k in map(key, hits) if k))


@pytest.mark.parametrize(
    "query",
    [SearchQuery(), SearchQuery(platforms=(Platform.douyin, Platform.weibo)), SearchQuery(min_score=0.5)],
)
def test_facets(store: HitStore, query: SearchQuery) -> None:
    expected = reference(query)
    result = store.search(query.model_copy(update={"facets": True, "limit": 0}))
    assert result.total == len(expected)
    assert result.hits == []
    assert result.by_category == _counts(expected, lambda h: h.verdict.category.value if h.verdict.category else None)
    assert result.by_platform == _counts(expected, lambda h: h.post.platform.value)
    assert result.by_day == _counts(
        expected, lambda h: h.post.published_at.strftime("%Y-%m-%d") if h.post.published_at else None
    )


def test_facets_follow_the_text_query(store: HitStore) -> None:
    result = store.search(SearchQuery(text="征信", facets=True))
    assert result.by_category == {"credit_repair": 4}
    assert result.by_platform == {"douyin": 4, "weibo": 2}


def test_set_status_is_a_partial_update(store: HitStore) -> None:
    keys = ["douyin:1", "douyin:2", "douyin:1", "nope:9"]
    assert store.set_status(keys, HitStatus.reported, report_id="batch-1") == 2
    assert store.set_status(keys, HitStatus.reported, report_id="batch-1") == 0  # nothing left to change
    assert store.set_status(["douyin:1"], HitStatus.reported, report_id="batch-2") == 1  # a new report id
    one = store.get("douyin:1")
    assert one is not None
    assert one.status is HitStatus.reported
    assert one.report_ids == ("batch-1", "batch-2")
    assert one.post == DATA[0].post and one.verdict == DATA[0].verdict
    reported = store.search(SearchQuery(statuses=(HitStatus.reported,), limit=100))
    assert set(keys_of(reported.hits)) == {"douyin:1", "douyin:2"}
    # Still found by words after the update (the re-added document kept its text fields).
    assert "douyin:2" in keys_of(store.search(SearchQuery(text="征信 上岸")).hits)
    assert store.count() == len(DATA)


def test_hostile_text_is_indexed_and_found(empty_store: HitStore) -> None:
    huge = "垃圾" * 150_000 + " 征信修复 "
    junk = make_hit("douyin", "huge", huge + "\x00\ufeff<script>alert(1)</script>", score=0.5)
    quotes = make_hit("weibo", "q", 'He said "征信" AND OR NOT *:? \\ ( ) [ ] { } ~ ^', score=0.5)
    assert empty_store.upsert([junk, quotes]) == 2
    assert empty_store.get("douyin:huge") == junk
    # As plain words (how the console's related-post lookups pass crawled text), syntax characters are only text.
    plain = SearchQuery(words=tuple("AND OR NOT *:? \\ ( ) [ ] {".split()))
    assert keys_of(empty_store.search(plain).hits) == ["weibo:q"]
    assert keys_of(empty_store.search(SearchQuery(text='"征信" *:?')).hits) == ["weibo:q"]
    # As a query, operators with nothing to join are an error that says where, never a silent empty result.
    with pytest.raises(QueryError, match="第 1 个字符"):
        empty_store.search(SearchQuery(text="AND OR NOT *:? \\ ( ) [ ] {"))


def test_empty_store(empty_store: HitStore) -> None:
    assert empty_store.count() == 0
    assert empty_store.keys() == set()
    result = empty_store.search(SearchQuery(text="征信", facets=True))
    assert result.total == 0 and result.hits == [] and result.by_category == {}
    assert empty_store.set_status(["douyin:1"], HitStatus.confirmed) == 0


# -- the two backends against each other ----------------------------------------------------------------------

AGREE = [
    SearchQuery(text="征信", sort=SortOrder.score),
    SearchQuery(text="协商还款 上岸", sort=SortOrder.newest, offset=3, limit=9),
    SearchQuery(text="网贷逾期", platforms=(Platform.douyin, Platform.kuaishou), sort=SortOrder.first_seen),
    SearchQuery(phrase="协商还款", min_score=0.4, max_score=0.6, sort=SortOrder.score, facets=True),
    SearchQuery(text='"征信修复" 专业', since=T0, until=T0 + timedelta(days=10), facets=True),
    SearchQuery(statuses=(HitStatus.confirmed,), sort=SortOrder.newest, facets=True, limit=3, offset=2),
    SearchQuery(text="征信", sort=SortOrder.relevance, facets=True),
]


@pytest.mark.integration
def test_backends_agree(es_url: str, tmp_path: Path) -> None:
    tantivy_store, elastic_store = _tantivy(tmp_path), _elastic(es_url)
    try:
        for store in (tantivy_store, elastic_store):
            store.upsert(DATA)
            store.set_status(["kuaishou:3", "douyin:n05"], HitStatus.confirmed, report_id="r-1")
        for query in AGREE:
            a, b = tantivy_store.search(query), elastic_store.search(query)
            assert a.total == b.total, query
            if query.sort is SortOrder.relevance:
                assert set(keys_of(a.hits)) == set(keys_of(b.hits)), query
            else:
                assert keys_of(a.hits) == keys_of(b.hits), query
            assert a.hits == sorted(a.hits, key=lambda h: keys_of(a.hits).index(h.key))
            assert (a.by_category, a.by_platform, a.by_day) == (b.by_category, b.by_platform, b.by_day), query
        assert tantivy_store.get_many(sorted(ALL_KEYS)) == elastic_store.get_many(sorted(ALL_KEYS))
    finally:
        elastic_store.drop()  # type: ignore[attr-defined]
        elastic_store.close()


# -- Elasticsearch-only behaviour -------------------------------------------------------------------------------


@pytest.mark.integration
def test_elastic_reindex_swaps_the_alias(es_url: str) -> None:
    from indexer.elastic_store import ElasticHitStore

    store = ElasticHitStore(es_url, f"test-reindex-{uuid.uuid4().hex[:8]}")
    try:
        store.upsert(DATA)
        assert store.current_index() == f"{store.alias}-v1"
        new = store.reindex().new
        assert new == f"{store.alias}-v2" == store.current_index()
        assert not store.es.indices.exists(index=f"{store.alias}-v1")
        assert store.count() == len(DATA)
        assert set(keys_of(store.search(SearchQuery(text="征信", limit=100)).hits)) >= {"douyin:1", "douyin:9"}
        store.upsert([make_hit("douyin", "after", "征信修复")])  # writes go to the new version
        assert store.es.count(index=new)["count"] == len(DATA) + 1
        # A second store on the same alias finds the existing version instead of creating v1 again.
        again = ElasticHitStore(es_url, store.alias)
        assert again.current_index() == new
    finally:
        store.drop()


@pytest.mark.integration
def test_elastic_deep_pages_use_search_after(es_url: str) -> None:
    from indexer.elastic_store import ElasticHitStore

    store = ElasticHitStore(es_url, f"test-deep-{uuid.uuid4().hex[:8]}")
    try:
        store.upsert(DATA)
        store.max_window = 4  # force the search_after path on this small index
        for sort in (SortOrder.newest, SortOrder.score):
            full = keys_of(reference(SearchQuery(sort=sort)))
            page = store.search(SearchQuery(sort=sort, offset=10, limit=6, facets=True))
            assert keys_of(page.hits) == full[10:16]
            assert page.total == len(DATA)
            assert sum(page.by_platform.values()) == len(DATA)
        assert store.keys() == ALL_KEYS
        assert [h.key for h in store.iter_hits(SearchQuery(sort=SortOrder.score), batch=4)] == keys_of(
            reference(SearchQuery(sort=SortOrder.score))
        )
    finally:
        store.drop()


@pytest.mark.integration
def test_elastic_api_key_never_appears(es_url: str, caplog: pytest.LogCaptureFixture) -> None:
    from indexer.elastic_store import ElasticHitStore, redact_url

    secret = "c2VjcmV0LWtleS1kby1ub3QtbG9n"
    caplog.set_level(logging.DEBUG)
    store = ElasticHitStore(es_url, f"test-secret-{uuid.uuid4().hex[:8]}", api_key=secret)
    try:
        store.upsert(DATA[:3])
        assert secret not in repr(store)
        assert secret not in caplog.text
        assert redact_url("https://user:pw@es.example:9243/x?q=1") == "https://es.example:9243/x"
    finally:
        store.drop()


@dataclass
class _Bulk429:
    """Stands in for a cluster under write pressure: the first `rejections` _bulk requests get HTTP-level 200 with
    every item rejected 429 (what ES does when its write queue is full); records each request's document ids."""

    rejections: int
    bulk_ids: list[list[str]] = field(default_factory=list)

    @contextmanager
    def serve(self) -> Iterator[str]:
        outer = self

        class Handler(QuietHandler):
            def _answer(self, body: object) -> None:
                self.reply(200, json.dumps(body).encode(), "application/json", {"X-Elastic-Product": "Elasticsearch"})

            def do_POST(self) -> None:
                body = self.read_body().decode()
                if not self.path.split("?")[0].endswith("/_bulk"):
                    self._answer({"_shards": {"total": 1, "successful": 1, "failed": 0}})
                    return
                lines = [json.loads(line) for line in body.splitlines() if line.strip()]
                ids = [line["index"]["_id"] for line in lines[::2]]
                outer.bulk_ids.append(ids)
                status = 429 if len(outer.bulk_ids) <= outer.rejections else 201
                items = [{"index": {"_index": "x", "_id": i, "status": status}} for i in ids]
                if status == 429:
                    for item in items:
                        item["index"]["error"] = {"type": "es_rejected_execution_exception", "reason": "queue full"}
                self._answer({"took": 1, "errors": status == 429, "items": items})

            do_PUT = do_POST  # the client sends _bulk as PUT

        with serve_http(Handler) as url:
            yield url


@pytest.mark.integration
def test_elastic_bulk_retries_rejected_items(es_url: str) -> None:
    from elasticsearch import Elasticsearch
    from elasticsearch.helpers import BulkIndexError

    from indexer.elastic_store import ElasticHitStore

    store = ElasticHitStore(es_url, f"test-429-{uuid.uuid4().hex[:8]}", initial_backoff=0.01, max_retries=3)
    store.drop()
    fake = _Bulk429(rejections=2)
    real = store.es
    with fake.serve() as url:
        try:
            store.es = Elasticsearch(url)
            assert store.upsert(DATA[:5]) == 5
            assert len(fake.bulk_ids) == 3  # two rejected rounds, then accepted
            assert fake.bulk_ids[0] == fake.bulk_ids[2] == [h.key for h in DATA[:5]]
            fake.rejections, fake.bulk_ids = 100, []
            with pytest.raises(BulkIndexError):
                store.upsert(DATA[:2])
            assert len(fake.bulk_ids) == 4  # the first try and max_retries=3 retries
        finally:
            store.es.close()
            store.es = real
