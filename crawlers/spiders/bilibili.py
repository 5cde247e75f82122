"""Bilibili spider (api.bilibili.com).

search: x/web-interface/wbi/search/type?search_type=video (page) · creator: x/space/wbi/arc/search (pn) ·
dynamics: x/polymer/web-dynamic/v1/feed/space?host_mid= (offset) — a creator's 动态, where text and image posts live ·
detail: x/web-interface/view for a video, x/polymer/web-dynamic/v1/detail for a dynamic (t.bilibili.com/<id>) ·
comments: x/v2/reply/wbi/main (cursor, as the web client pages them now) + x/v2/reply/reply for threads longer
than the preview; on a dynamic the detail is fetched first for its comment oid and type (11 image, 17 text).
The wbi endpoints want a w_rid/wts signature (derived from the day's img/sub keys of x/web-interface/nav) and a
buvid3 cookie; crawlers.signing adds the signature, the account the cookie. view and reply work without.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import quote

from scrapy.http import Request, Response

from core.records import Post
from crawlers.extract.bilibili import bvid_to_aid, dynamic_of, dynamic_url
from crawlers.extract.common import as_dict, as_list, as_str, dig, parse_count
from crawlers.spiders.platform_base import MODE_HELP, PlatformSpider

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
    modes: ClassVar[dict[str, str]] = {
        **MODE_HELP,
        "dynamics": "a creator's dynamics (动态: text and image posts), target=mid or space URL",
        "detail": "one video or dynamic (target=BV/av URL or t.bilibili.com/<id>); a takedown re-check",
        "comments": "comments on a video or a dynamic, with their replies (target=)",
    }

    def build_start(self) -> Iterable[Request]:
        dyn = dynamic_of(self.target)
        if self.mode == "search":
            for q in self.start_queries():
                yield self.request(self._search_url(q, 1), seed=q)
        elif self.mode in ("creator", "dynamics"):
            mid = self.target.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
            url = self._creator_url(mid, 1) if self.mode == "creator" else self._dynamics_url(mid, "")
            yield self.request(url, seed=mid)
        elif dyn:
            # detail of a dynamic; for comments it also tells which comment area (oid, type) the dynamic has
            yield self.request(
                self._dynamic_detail_url(dyn),
                seed=dyn,
                meta={"source_url": dynamic_url(dyn)},
                expect=self.mode == "detail",
            )
        elif self.mode == "detail":
            aid = aid_of(self.target)
            yield self.request(f"{API}/x/web-interface/view?aid={aid}", seed=str(aid))
        else:
            aid = aid_of(self.target)
            yield self.request(self._reply_url(aid, 1, ""), seed=str(aid), meta={"reply": (str(aid), 1)})

    def partial(self, response: Response, post: Post) -> bool:
        # In comments mode the dynamic's detail is only read for its comment area; re-checks use detail mode.
        return self.mode == "comments" and "/web-dynamic/v1/detail" in response.url

    @staticmethod
    def _dynamics_url(mid: str, offset: str) -> str:
        return f"{API}/x/polymer/web-dynamic/v1/feed/space?host_mid={mid}&offset={quote(offset)}&features=itemOpusStyle"

    @staticmethod
    def _dynamic_detail_url(dynamic_id: str) -> str:
        return f"{API}/x/polymer/web-dynamic/v1/detail?id={dynamic_id}&features=itemOpusStyle"

    @staticmethod
    def _search_url(query: str, page: int) -> str:
        return (
            f"{API}/x/web-interface/wbi/search/type?search_type=video&order=pubdate&keyword={quote(query)}&page={page}"
        )

    @staticmethod
    def _creator_url(mid: str, page: int) -> str:
        return f"{API}/x/space/wbi/arc/search?mid={mid}&ps=30&tid=0&pn={page}&order=pubdate"

    @staticmethod
    def _reply_url(oid: int | str, kind: int, offset: str) -> str:
        pagination = quote(json.dumps({"offset": offset}, separators=(",", ":")))
        return f"{API}/x/v2/reply/wbi/main?oid={oid}&type={kind}&mode=3&pagination_str={pagination}&plat=1"

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
        elif self.mode == "dynamics":
            offset = as_str(data.get("offset"))
            if data.get("has_more") and offset:
                return self.follow(response, self._dynamics_url(seed, offset))
        elif self.mode == "comments" and "/reply/wbi/main" in response.url:
            cursor = as_dict(data.get("cursor"))
            offset = as_str(dig(cursor, "pagination_reply", "next_offset"))
            oid, kind = response.meta.get("reply", (seed, 1))
            if not cursor.get("is_end", True) and offset:
                meta = {"reply": (oid, kind), **_source(response)}
                return self.follow(response, self._reply_url(oid, kind, offset), meta=meta)
        return None

    def extra_requests(self, response: Response, posts: list[Post]) -> Iterable[Request]:
        if self.mode != "comments":
            return
        seed = response.meta.get("seed", "")
        try:
            payload = json.loads(response.text)
        except ValueError:
            return
        if "/web-dynamic/v1/detail" in response.url:
            basic = as_dict(dig(payload, "data", "item", "basic"))
            oid, kind = as_str(basic.get("comment_id_str")), parse_count(basic.get("comment_type"))
            if oid and kind:
                meta = {"reply": (oid, kind), **_source(response)}
                yield self.request(self._reply_url(oid, kind, ""), seed=seed, meta=meta)
            return
        if "/reply/wbi/main" not in response.url:
            return
        oid, kind = response.meta.get("reply", (seed, 1))
        for raw in map(as_dict, as_list(dig(payload, "data", "replies"))):
            rpid = as_str(raw.get("rpid"))
            if rpid and (parse_count(raw.get("rcount")) or 0) > len(as_list(raw.get("replies"))):
                url = f"{API}/x/v2/reply/reply?type={kind}&oid={oid}&root={rpid}&ps=20&pn=1"
                yield self.request(url, seed=seed, expect=False, meta=_source(response))


def _source(response: Response) -> dict[str, Any]:
    """The dynamic's URL travels with its comment requests so the parser can hang comments under it."""
    return {"source_url": response.meta["source_url"]} if "source_url" in response.meta else {}
