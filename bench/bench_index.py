"""Index N generated posts into tantivy and Elasticsearch, then time 200 queries of each kind per backend.

    .venv/bin/python bench/bench_index.py --n 200000                     # ES at $QINGYUAN_TEST_ES_URL or :9200
    .venv/bin/python bench/bench_index.py --n 50000 --backends tantivy

Kinds: two words; a word with filters (platform, score, date, newest first); counts by category/platform/day;
an exact phrase. Prints docs/s (segmentation included) and p50/p99 latency; timings on shared cores drift, so
compare the ratios rather than the absolute figures.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.records import Category, Hit, HitStatus, Label, ModelInfo, Platform, Post, Verdict
from indexer.base import HitStore, SearchQuery, SortOrder

AGENCY = {
    Category.stop_interest: ["停息挂账", "个性化分期", "延期还款", "减免利息", "只还本金"],
    Category.credit_repair: ["征信修复", "征信洗白", "逾期记录消除", "征信异议", "修复征信"],
    Category.anti_collection: ["反催收", "防爆通讯录", "停止催收", "催收投诉"],
    Category.debt_optimisation: ["债务优化", "债务重组", "协商代办", "债务规划", "上岸方案"],
    Category.surrender_agency: ["代理退保", "全额退保", "退保险费"],
    Category.complaint_agency: ["代理维权", "代理投诉", "银保监投诉", "12378投诉"],
    Category.debt_mule_recruiting: ["职业背债", "白户包装", "背债人", "高额回报"],
    Category.illegal_loan_broker: ["黑户可下", "空放", "当天下款", "无视征信"],
    Category.document_forgery: ["贫困证明", "病历代办", "银行流水", "收入证明"],
}
HOOKS = ["加V信", "看主页", "评论区扣1", "私信我", "薇信联系", "企鹅号", "纸飞机", "戳头像"]
VICTIM = ["信用卡逾期", "网贷逾期", "还不上了", "被催收", "爆通讯录", "欠了二十万", "征信花了", "压力很大"]
BENIGN = [
    "银行官方提醒：协商还款请通过官方渠道办理，谨防代理机构诈骗",
    "律师解读：征信修复没有捷径，所谓洗白都是骗局",
    "监管部门提示：警惕代理退保黑产，保护个人信息",
    "新闻：多地警方打击恶意代理维权团伙",
    "分享一下我自己和银行协商分期的经历",
]
FILLER = ["专业团队", "全国可做", "成功率高", "先办事后收费", "一对一服务", "三天出结果", "正规公司", "不成功不收费"]
TWO_WORDS = ["征信 修复", "协商 还款", "网贷 逾期", "停息 挂账", "债务 优化", "代理 退保", "催收 投诉", "征信 上岸"]
ONE_WORD = ["征信", "逾期", "催收", "退保", "协商", "上岸", "分期", "下款"]
PHRASES = ["征信修复", "停息挂账", "协商还款", "代理退保", "防爆通讯录", "债务优化", "评论区扣1", "网贷逾期"]


def generate(n: int, seed: int = 7) -> list[Hit]:
    rng = random.Random(seed)
    model = ModelInfo(name="bench", version="0")
    platforms = list(Platform)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    categories = list(AGENCY)
    hits = []
    for i in range(n):
        benign = rng.random() < 0.25
        category = None if benign else rng.choice(categories)
        if benign:
            text = rng.choice(BENIGN) + "，" + rng.choice(VICTIM)
        else:
            terms = rng.sample(AGENCY[category], k=min(2, len(AGENCY[category])))  # type: ignore[index]
            parts = [rng.choice(VICTIM), *terms, rng.choice(FILLER), rng.choice(HOOKS), f"{rng.randint(100, 999)}"]
            rng.shuffle(parts)
            text = "，".join(parts)
        published = start + timedelta(seconds=rng.randint(0, 180 * 86_400))
        post = Post(
            platform=rng.choice(platforms),
            post_id=str(i),
            text=text,
            author_id=f"u{rng.randint(0, n // 20)}",
            published_at=published,
            fetched_at=published + timedelta(hours=1),
        )
        score = round(rng.random() * 0.3, 3) if benign else round(0.5 + rng.random() * 0.5, 3)
        verdict = Verdict(label=Label.benign if benign else Label.lead_gen, score=score, category=category, model=model)
        status = HitStatus.confirmed if rng.random() < 0.1 else HitStatus.new
        hits.append(Hit(post=post, verdict=verdict, status=status, first_seen=published + timedelta(hours=2)))
    return hits


def queries(kind: str, count: int, seed: int = 11) -> list[SearchQuery]:
    rng = random.Random(seed)
    platforms = list(Platform)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    out = []
    for _ in range(count):
        if kind == "two_words":
            q = SearchQuery(text=rng.choice(TWO_WORDS), limit=20)
        elif kind == "filtered":
            q = SearchQuery(
                text=rng.choice(ONE_WORD),
                platforms=(rng.choice(platforms),),
                min_score=0.6,
                since=start + timedelta(days=rng.randint(0, 150)),
                sort=SortOrder.newest,
                limit=20,
            )
        elif kind == "counts":
            q = SearchQuery(text=rng.choice(["", *ONE_WORD]), facets=True, limit=0)
        elif kind == "phrase":
            q = SearchQuery(phrase=rng.choice(PHRASES), limit=20)
        else:
            raise ValueError(kind)
        out.append(q)
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(name: str, store: HitStore, hits: list[Hit], per_kind: int, batch: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    t0 = time.perf_counter()
    for start in range(0, len(hits), batch):
        store.upsert(hits[start : start + batch])
    elapsed = time.perf_counter() - t0
    figures["docs_per_s"] = len(hits) / elapsed
    assert store.count() == len(hits), (store.count(), len(hits))
    print(f"{name:14s} indexed {len(hits):>7d} in {elapsed:7.1f}s = {figures['docs_per_s']:8.0f} docs/s", flush=True)
    for kind in ("two_words", "filtered", "counts", "phrase"):
        qs = queries(kind, per_kind)
        store.search(qs[0])  # warm caches
        lat: list[float] = []
        totals = 0
        for q in qs:
            t = time.perf_counter()
            result = store.search(q)
            lat.append((time.perf_counter() - t) * 1000)
            totals += result.total
        figures[f"{kind}_p50"] = statistics.median(lat)
        figures[f"{kind}_p99"] = percentile(lat, 99)
        print(
            f"{name:14s} {kind:10s} p50 {figures[f'{kind}_p50']:7.2f} ms  p99 {figures[f'{kind}_p99']:7.2f} ms"
            f"  (mean matches {totals / len(qs):.0f})",
            flush=True,
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200_000, help="posts to generate and index")
    parser.add_argument("--queries", type=int, default=200, help="queries of each kind")
    parser.add_argument("--batch", type=int, default=20_000, help="hits per upsert call")
    parser.add_argument("--backends", default="tantivy,elasticsearch")
    parser.add_argument("--es-url", default=os.environ.get("QINGYUAN_TEST_ES_URL", "http://127.0.0.1:9200"))
    args = parser.parse_args()

    t = time.perf_counter()
    hits = generate(args.n)
    print(f"generated {len(hits)} posts in {time.perf_counter() - t:.1f}s", flush=True)
    from indexer.segment import tokenizer

    tokenizer()  # jieba's one-off dictionary load is not indexing time

    results: dict[str, dict[str, float]] = {}
    makers: dict[str, Callable[[], HitStore]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="qy-bench-"))
    if "tantivy" in args.backends:
        from indexer.tantivy_store import TantivyHitStore

        makers["tantivy"] = lambda: TantivyHitStore(tmp / "ix")
    if "elasticsearch" in args.backends:
        from indexer.elastic_store import ElasticHitStore

        def make_es() -> HitStore:
            store = ElasticHitStore(args.es_url, "bench-hits")
            store.drop()
            return ElasticHitStore(args.es_url, "bench-hits")

        makers["elasticsearch"] = make_es
    try:
        for name, make in makers.items():
            try:
                store = make()
            except Exception as exc:
                print(f"{name}: unavailable ({type(exc).__name__}: {exc})", flush=True)
                continue
            try:
                results[name] = run(name, store, hits, args.queries, args.batch)
            finally:
                if hasattr(store, "drop"):
                    store.drop()
                store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if len(results) == 2:
        ta, es = results["tantivy"], results["elasticsearch"]
        print("ratios elasticsearch/tantivy:")
        print(f"  indexing docs/s {es['docs_per_s'] / ta['docs_per_s']:.2f}")
        for kind in ("two_words", "filtered", "counts", "phrase"):
            print(
                f"  {kind:10s} p50 {es[f'{kind}_p50'] / ta[f'{kind}_p50']:.1f}x  p99 "
                f"{es[f'{kind}_p99'] / ta[f'{kind}_p99']:.1f}x"
            )


if __name__ == "__main__":
    main()
