"""Weibo spider (m.weibo.cn JSON API; works with an imported cookie jar, no request signing).

search: container getIndex 100103type=1&q=  · creator: getIndex containerid=107603<uid>, since_id cursor ·
detail: statuses/show?id=  · comments: comments/hotflow (max_id cursor) + hotFlowChild for long reply threads.
Truncated posts (isLongText) are expanded through statuses/extend; the expansion has the same Post key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import quote

from scrapy.http import Request, Response

from core.records import Post
from crawlers.extract.common import as_dict, as_list, as_str, dig, parse_count
from crawlers.extract.weibo import long_text_ids
from crawlers.spiders.platform_base import PlatformSpider

API = "https://m.weibo.cn"
_MID = re.compile(r"(?:detail|status)/(\d+)|[?&](?:id|mid)=(\d+)")


def mid_of(target: str) -> str:
    if target.isdigit():
        return target
    m = _MID.search(target)
    if not m:
        raise ValueError(f"weibo: cannot read a numeric mid from {target!r}")
    return m.group(1) or m.group(2)


class WeiboSpider(PlatformSpider):
    name = "weibo"
    platform = "weibo"
    missing_modes: ClassVar[dict[str, str]] = {"dynamics": "a Weibo user timeline is creator mode"}

    def build_start(self) -> Iterable[Request]:
        if self.mode == "search":
            for q in self.start_queries():
                yield self.request(self._search_url(q, 1), seed=q)
        elif self.mode == "creator":
            yield self.request(self._creator_url(self.target, None), seed=self.target)
        elif self.mode == "detail":
            mid = mid_of(self.target)
            yield self.request(f"{API}/statuses/show?id={mid}", seed=mid)
        else:
            mid = mid_of(self.target)
            yield self.request(self._hotflow_url(mid, None, None), seed=mid)

    @staticmethod
    def _search_url(query: str, page: int) -> str:
        container = quote(f"100103type=1&q={query}", safe="")
        return f"{API}/api/container/getIndex?containerid={container}&page_type=searchall&page={page}"

    @staticmethod
    def _creator_url(uid: str, since_id: str | None) -> str:
        url = f"{API}/api/container/getIndex?type=uid&value={uid}&containerid=107603{uid}"
        return f"{url}&since_id={since_id}" if since_id else url

    @staticmethod
    def _hotflow_url(mid: str, max_id: str | None, max_id_type: str | None) -> str:
        url = f"{API}/comments/hotflow?id={mid}&mid={mid}&max_id_type={max_id_type or 0}"
        return f"{url}&max_id={max_id}" if max_id else url

    def next_page(self, response: Response, payload: Any) -> Request | None:
        if not isinstance(payload, dict):
            return None
        page = response.meta.get("page", 1)
        seed = response.meta.get("seed", "")
        if self.mode == "search" and as_list(dig(payload, "data", "cards")):
            return self.follow(response, self._search_url(seed, page + 1))
        if self.mode == "creator":
            since_id = as_str(dig(payload, "data", "cardlistInfo", "since_id"))
            if since_id and as_list(dig(payload, "data", "cards")):
                return self.follow(response, self._creator_url(seed, since_id))
        if self.mode == "comments" and "/comments/hotflow?" in response.url:
            max_id = as_str(dig(payload, "data", "max_id"))
            if max_id and max_id != "0":
                return self.follow(
                    response, self._hotflow_url(seed, max_id, as_str(dig(payload, "data", "max_id_type")))
                )
        return None

    def complete(self, response: Response, post: Post) -> Post:
        known = response.meta.get("truncated_post")
        if not known or known.get("post_id") != post.post_id:
            return post
        return Post.model_validate({**known, "text": post.text, "fetched_at": post.fetched_at})

    def extra_requests(self, response: Response, posts: list[Post]) -> Iterable[Request]:
        truncated = {p.post_id: p for p in posts}
        for mid in long_text_ids(response.body):
            url = f"{API}/statuses/extend?id={mid}"
            meta: dict[str, Any] = {"source_url": url}
            if mid in truncated:  # the expanded text comes alone: keep the author, time and metrics seen here
                meta["truncated_post"] = truncated[mid].model_dump(mode="json")
            yield self.request(url, seed=response.meta.get("seed", ""), page=1, expect=False, meta=meta)
        if self.mode != "comments" or "/comments/hotflow?" not in response.url:
            return
        try:
            payload = json.loads(response.text)
        except ValueError:
            return
        seed = response.meta.get("seed", "")
        for raw in map(as_dict, as_list(dig(payload, "data", "data"))):
            cid = as_str(raw.get("id"))
            # Only the first replies come inline; the rest of a thread needs its own request.
            if cid and (parse_count(raw.get("total_number")) or 0) > len(as_list(raw.get("comments"))):
                url = f"{API}/comments/hotFlowChild?cid={cid}&max_id=0&max_id_type=0"
                yield self.request(url, seed=seed, expect=False, meta={"source_url": f"{API}/detail/{seed}?id={seed}"})
