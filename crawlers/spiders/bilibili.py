"""Bilibili spider (api.bilibili.com).

search: x/web-interface/wbi/search/type?search_type=video (page) · creator: x/space/wbi/arc/search (pn) ·
detail: x/web-interface/view · comments: x/v2/reply (pn) + x/v2/reply/reply for threads longer than the preview.
The wbi endpoints want a w_rid/wts signature (derived from the day's img/sub keys of x/web-interface/nav) and a
buvid3 cookie; crawlers.signing adds the signature, the account the cookie. view and reply work without.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from scrapy.http import Request, Response

from core.records import Post
from crawlers.extract.bilibili import bvid_to_aid
from crawlers.extract.common import as_dict, as_list, as_str, dig, parse_count
from crawlers.spiders.platform_base import PlatformSpider

API = "https://api.bilibili.com"
_BV = re.compile(r"(BV1[0-9A-Za-z]{9})")
_AV = re.compile(r"(?:^|/|av)(\d+)(?:$|[/?])", re.I)


def aid_of(target: str) -> int:
    m = _BV.search(target)
    if m:
        return bvid_to_aid(m.group(1))
    m = _AV.search(target)
    if m:
        return int(m.group(1))
    raise ValueError(f"bilibili: cannot read a BV/av id from {target!r}")


class BilibiliSpider(PlatformSpider):
    name = "bilibili"
    platform = "bilibili"

    def build_start(self) -> Iterable[Request]:
        if self.mode == "search":
            for q in self.start_queries():
                yield self.request(self._search_url(q, 1), seed=q)
        elif self.mode == "creator":
            mid = self.target.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
            yield self.request(self._creator_url(mid, 1), seed=mid)
        elif self.mode == "detail":
            aid = aid_of(self.target)
            yield self.request(f"{API}/x/web-interface/view?aid={aid}", seed=str(aid))
        else:
            aid = aid_of(self.target)
            yield self.request(self._reply_url(aid, 1), seed=str(aid))

    @staticmethod
    def _search_url(query: str, page: int) -> str:
        return (
            f"{API}/x/web-interface/wbi/search/type?search_type=video&order=pubdate&keyword={quote(query)}&page={page}"
        )

    @staticmethod
    def _creator_url(mid: str, page: int) -> str:
        return f"{API}/x/space/wbi/arc/search?mid={mid}&ps=30&tid=0&pn={page}&order=pubdate"

    @staticmethod
    def _reply_url(aid: int | str, page: int) -> str:
        return f"{API}/x/v2/reply?type=1&oid={aid}&sort=0&ps=20&pn={page}"

    def next_page(self, response: Response, payload: Any) -> Request | None:
        data = as_dict(dig(payload, "data"))
        page = response.meta.get("page", 1)
        seed = response.meta.get("seed", "")
        if self.mode == "search":
            if page < (parse_count(data.get("numPages")) or 0):
                return self.follow(response, self._search_url(seed, page + 1))
        elif self.mode == "creator":
            total = parse_count(dig(data, "page", "count")) or 0
            if page * 30 < total:
                return self.follow(response, self._creator_url(seed, page + 1))
        elif self.mode == "comments" and "/x/v2/reply?" in response.url:
            count = parse_count(dig(data, "page", "count")) or 0
            size = parse_count(dig(data, "page", "size")) or 20
            if page * size < count:
                return self.follow(response, self._reply_url(seed, page + 1))
        return None

    def extra_requests(self, response: Response, posts: list[Post]) -> Iterable[Request]:
        if self.mode != "comments" or "/x/v2/reply?" not in response.url:
            return
        seed = response.meta.get("seed", "")
        try:
            payload = json.loads(response.text)
        except ValueError:
            return
        for raw in map(as_dict, as_list(dig(payload, "data", "replies"))):
            rpid = as_str(raw.get("rpid"))
            if rpid and (parse_count(raw.get("rcount")) or 0) > len(as_list(raw.get("replies"))):
                url = f"{API}/x/v2/reply/reply?type=1&oid={seed}&root={rpid}&ps=20&pn=1"
                yield self.request(url, seed=seed, expect=False)
