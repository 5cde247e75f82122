"""Baidu Tieba spider (HTML pages; GBK pages are decoded by the parser).

search: f/search/res (pn) · creator: Tieba has no public per-user thread feed in a stable shape, so creator mode
takes target=forum:<吧名> and walks that forum's thread list (f?kw=, pn in steps of 50) — use it for the forums
repeat offenders post in · detail: p/<tid> (first page) · comments: p/<tid>?pn=N (every floor after the first).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from scrapy.http import Request, Response

from crawlers.spiders.platform_base import PlatformSpider

SITE = "https://tieba.baidu.com"
_TID = re.compile(r"/p/(\d+)")
_TOTAL_PAGE = re.compile(r'"total_page"\s*:\s*(\d+)|max-page="(\d+)"')


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

    def build_start(self) -> Iterable[Request]:
        if self.mode == "search":
            for q in self.start_queries():
                yield self.request(self._search_url(q, 1), seed=q)
        elif self.mode == "creator":
            if not self.target.startswith("forum:"):
                raise ValueError("tieba: creator mode takes target=forum:<吧名> (see the module docstring)")
            forum = self.target.split(":", 1)[1]
            yield self.request(self._forum_url(forum, 1), seed=forum)
        else:
            tid = tid_of(self.target)
            yield self.request(f"{SITE}/p/{tid}", seed=tid, meta={"source_url": f"{SITE}/p/{tid}"})

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
        if self.mode == "search" and 'class="s_post"' in text:
            return self.follow(response, self._search_url(seed, page + 1))
        if self.mode == "creator" and "j_thread_list" in text:
            return self.follow(response, self._forum_url(seed, page + 1))
        if self.mode == "comments":
            m = _TOTAL_PAGE.search(text)
            total = int(m.group(1) or m.group(2)) if m else 1
            if page < total:
                url = f"{SITE}/p/{seed}?pn={page + 1}"
                return self.follow(response, url, meta={"source_url": f"{SITE}/p/{seed}"})
        return None
