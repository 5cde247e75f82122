"""What else an analyst should see beside a hit: the same account, the same contact handles, near-duplicate text.

Agencies post the same advert from many accounts with small edits, so near-duplicates are found by MinHash over
character 3-grams among the top results of a keyword query (cheap, and good enough to spot a campaign).
"""

from __future__ import annotations

import re

from datasketch import MinHash

from core.records import Hit, HitStatus
from indexer.base import HitStore, SearchQuery, SortOrder

_JUNK = re.compile(r"\s+|[\u200b-\u200f\u2060\ufeff]")
NEAR_DUP_THRESHOLD = 0.5
CLUSTER_THRESHOLD = 0.8  # "near-identical": one decision may cover them all


def _shingles(text: str, n: int = 3) -> set[str]:
    clean = _JUNK.sub("", text or "")
    if len(clean) <= n:
        return {clean} if clean else set()
    return {clean[i : i + n] for i in range(len(clean) - n + 1)}


def minhash(text: str, num_perm: int = 64) -> MinHash:
    m = MinHash(num_perm=num_perm, seed=7)
    for sh in _shingles(text):
        m.update(sh.encode("utf-8"))
    return m


def by_author(store: HitStore, hit: Hit, limit: int = 10) -> list[Hit]:
    if not hit.post.author_id:
        return []
    result = store.search(
        SearchQuery(
            author_id=hit.post.author_id, platforms=(hit.post.platform,), sort=SortOrder.newest, limit=limit + 1
        )
    )
    return [h for h in result.hits if h.key != hit.key][:limit]


def by_contacts(store: HitStore, hit: Hit, limit: int = 10) -> list[tuple[str, str, list[Hit]]]:
    """(type, value, other hits mentioning that value) for each distinct handle (call-to-action phrases skipped)."""
    out: list[tuple[str, str, list[Hit]]] = []
    seen: set[str] = set()
    for c in hit.verdict.contacts:
        value = (c.value or "").strip()
        if c.type == "call_to_action" or len(value) < 3 or value in seen:
            continue
        seen.add(value)
        result = store.search(SearchQuery(phrase=value, limit=limit + 1, sort=SortOrder.newest))
        others = [h for h in result.hits if h.key != hit.key]
        if not others:
            result = store.search(SearchQuery(words=(value,), limit=limit + 1, sort=SortOrder.newest))
            others = [
                h
                for h in result.hits
                if h.key != hit.key and (value in h.post.text or any(x.value == value for x in h.verdict.contacts))
            ]
        out.append((c.type, value, others[:limit]))
        if len(out) >= 5:
            break
    return out


def _keywords(hit: Hit, k: int = 4) -> list[str]:
    words = [s.canonical for s in hit.verdict.slang]
    import jieba.analyse

    words += jieba.analyse.extract_tags(hit.post.text or "", topK=k)
    seen: list[str] = []
    for w in words:
        if w and w not in seen:
            seen.append(w)
    return seen[:k]


def near_duplicates(store: HitStore, hit: Hit, limit: int = 10, pool: int = 50) -> list[tuple[float, Hit]]:
    target = minhash(hit.post.text)
    candidates: dict[str, Hit] = {}
    # Keywords are crawled text: passed as plain words, never read as query syntax.
    queries = [SearchQuery(words=tuple(_keywords(hit)), limit=pool)]
    queries += [SearchQuery(words=(w,), limit=pool // 2) for w in _keywords(hit, 2)]
    for q in queries:
        if not any(w.strip() for w in q.words):
            continue
        for h in store.search(q).hits:
            if h.key != hit.key:
                candidates.setdefault(h.key, h)
    scored = [(target.jaccard(minhash(h.post.text)), h) for h in candidates.values()]
    scored = [(round(s, 2), h) for s, h in scored if s >= NEAR_DUP_THRESHOLD]
    scored.sort(key=lambda x: (-x[0], x[1].key))
    return scored[:limit]


def review_cluster(store: HitStore, hit: Hit, taken: set[str], limit: int = 50) -> list[Hit]:
    """The near-identical copies of `hit` still waiting for review and not leased by another analyst: one
    decision in the queue covers them all (each recorded on its own)."""
    return [
        h
        for sim, h in near_duplicates(store, hit, limit=limit, pool=max(50, limit))
        if sim >= CLUSTER_THRESHOLD and h.status is HitStatus.new and h.key not in taken
    ]
