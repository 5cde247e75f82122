"""Baidu Tieba spider: the JSON endpoints the web client reads today, the HTML pages as the fallback.

search: mo/q/search/multsearch (pn; HTML f/search/res) · creator: Tieba has no public per-user thread feed in a
stable shape, so creator mode takes target=forum:<吧名> and walks that forum's threads (c/f/frs/page_pc; HTML f?kw=)
— use it for the forums repeat offenders post in · detail: p/<tid> (the HTML page tells a deleted thread apart,
which a re-check needs) · comments: c/f/pb/page_pc (pn; HTML p/<tid>?pn=N), every floor with its first 楼中楼
sub-replies, and p/comment?tid=&pid= for floors with more sub-replies than the page carries.
`api=html` skips the JSON endpoints; an answer from them in a shape the parser does not know falls back to HTML.
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
from crawlers.spiders.platform_base import MODE_HELP, PlatformSpider

SITE = "https://tieba.baidu.com"
_TID = re.compile(r"/p/(\d+)")
_TOTAL_PAGE = re.compile(r'"total_page"\s*:\s*(\d+)|max-page="(\d+)"')
# A floor's data-field in a thread page: its post_id and its 楼中楼 count (comment_num), with &quot; unescaped or not.
_LZL_COUNT = re.compile(r"post_id(?:&quot;|\")\s*:\s*(\d+)[^}]*?comment_num(?:&quot;|\")\s*:\s*(\d+)")


def tid_of(target: str) -> str:
    if target.isdigit():
        return target
    m = _TID.search(target)
    if not m:
        raise ValueError(f"tieba: cannot read a thread id from {target!r}")
    return m.group(1)


class TiebaSpider(PlatformSpider):
    name = "tieba"
    platform = "tieba"
    missing_modes: ClassVar[dict[str, str]] = {
        "dynamics": "Tieba has no per-user feed in a stable shape; creator mode walks a forum"
    }
    modes: ClassVar[dict[str, str]] = {
        **MODE_HELP,
        "creator": "a forum's threads (target=forum:<吧名>): Tieba has no stable per-user thread feed",
    }

    def __init__(self, *args: Any, api: str = "json", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if api not in ("json", "html"):
            raise ValueError(f"tieba: api must be json or html, got {api!r}")
        self.api = api

    def build_start(self) -> Iterable[Request]:
        json_api = self.api == "json"
        if self.mode == "search":
            for q in self.start_queries():
                yield self.request(self._multsearch_url(q, 1) if json_api else self._search_url(q, 1), seed=q)
        elif self.mode == "creator":
            if not self.target.startswith("forum:"):
                raise ValueError("tieba: creator mode takes target=forum:<吧名> (see the module docstring)")
            forum = self.target.split(":", 1)[1]
            yield self.request(self._frs_url(forum, 1) if json_api else self._forum_url(forum, 1), seed=forum)
        else:
            tid = tid_of(self.target)
            source = {"source_url": f"{SITE}/p/{tid}"}
            if self.mode == "comments" and json_api:
                yield self.request(self._pb_url(tid, 1), seed=tid, meta=source)
            else:
                yield self.request(f"{SITE}/p/{tid}", seed=tid, meta=source)

    @staticmethod
    def _multsearch_url(query: str, page: int) -> str:
        return f"{SITE}/mo/q/search/multsearch?word={quote(query)}&pn={page}&rn=20&come_from=search&sort=1"

    @staticmethod
    def _frs_url(forum: str, page: int) -> str:
        return f"{SITE}/c/f/frs/page_pc?kw={quote(forum)}&pn={page}&rn=30&sort_type=1"

    @staticmethod
    def _pb_url(tid: str, page: int) -> str:
        return f"{SITE}/c/f/pb/page_pc?kz={tid}&pn={page}&rn=30&with_floor=1&floor_rn=4"

    def fallback(self, response: Response, problem: str) -> Request | None:
        seed = response.meta.get("seed", "")
        page = response.meta.get("page", 1)
        url = response.url
        if "/mo/q/search/multsearch" in url:
            html = self._search_url(seed, page)
        elif "/c/f/frs/page_pc" in url:
            html = self._forum_url(seed, page)
        elif "/c/f/pb/page_pc" in url:
            html = f"{SITE}/p/{seed}" + (f"?pn={page}" if page > 1 else "")
        else:
            return None
        return self.request(html, seed=seed, page=page, meta={"source_url": response.meta.get("source_url", "")})

    def extra_requests(self, response: Response, posts: list[Post]) -> Iterable[Request]:
        """楼中楼 pages for floors that have more sub-replies than the thread page carried."""
        if self.mode != "comments":
            return
        tid = response.meta.get("seed", "")
        for pid, total, shown in self._floors(response):
            if total > shown:
                url = f"{SITE}/p/comment?tid={tid}&pid={pid}&pn=1"
                yield self.request(url, seed=tid, expect=False, meta={"source_url": url})

    @staticmethod
    def _floors(response: Response) -> list[tuple[str, int, int]]:
        """(pid, sub-reply count, sub-replies already in the page) per floor of a thread page, JSON or HTML."""
        text = response.text
        if text.lstrip().startswith("{"):
            try:
                payload = json.loads(text)
            except ValueError:
                return []
            out = []
            for raw in map(as_dict, as_list(dig(payload, "post_list"))):
                pid = as_str(raw.get("id"))
                shown = len(as_list(dig(raw, "sub_post_list", "sub_post_list")))
                if pid:
                    out.append((pid, parse_count(raw.get("sub_post_number")) or 0, shown))
            return out
        return [(pid, int(n), 0) for pid, n in _LZL_COUNT.findall(text)]

    @staticmethod
    def _search_url(query: str, page: int) -> str:
        return f"{SITE}/f/search/res?isnew=1&kw=&qw={quote(query)}&rn=10&un=&only_thread=0&sm=1&sd=&ed=&pn={page}"

    @staticmethod
    def _forum_url(forum: str, page: int) -> str:
        return f"{SITE}/f?kw={quote(forum)}&ie=utf-8&pn={(page - 1) * 50}"

    def next_page(self, response: Response, payload: Any) -> Request | None:
        page = response.meta.get("page", 1)
        seed = response.meta.get("seed", "")
        text = response.text
        if isinstance(payload, dict):
            return self._next_json(response, payload, seed, page)
        if self.mode == "search" and 'class="s_post"' in text:
            return self.follow(response, self._search_url(seed, page + 1))
        if self.mode == "creator" and "j_thread_list" in text:
            return self.follow(response, self._forum_url(seed, page + 1))
        if self.mode == "comments" and "/p/comment" not in response.url:
            m = _TOTAL_PAGE.search(text)
            total = int(m.group(1) or m.group(2)) if m else 1
            if page < total:
                url = f"{SITE}/p/{seed}?pn={page + 1}"
                return self.follow(response, url, meta={"source_url": f"{SITE}/p/{seed}"})
        return None

    def _next_json(self, response: Response, payload: dict[str, Any], seed: str, page: int) -> Request | None:
        if "/mo/q/search/multsearch" in response.url and dig(payload, "data", "has_more"):
            return self.follow(response, self._multsearch_url(seed, page + 1))
        if "/c/f/frs/page_pc" in response.url and dig(payload, "page", "has_more"):
            return self.follow(response, self._frs_url(seed, page + 1))
        if "/c/f/pb/page_pc" in response.url and page < (parse_count(dig(payload, "page", "total_page")) or 1):
            return self.follow(response, self._pb_url(seed, page + 1), meta={"source_url": f"{SITE}/p/{seed}"})
        return None
