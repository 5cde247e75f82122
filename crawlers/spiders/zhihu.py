"""Zhihu spider (www.zhihu.com API v4 and pages).

search: api/v4/search_v3 (paging.next) · creator: api/v4/members/<url_token>/answers (paging.next) ·
detail: the answer/article page (js-initialData) · comments: comment_v5 root_comment (paging.next) and
child_comment for longer threads. search_v3 wants an x-zse-96 signature and a logged-in d_c0/z_c0 cookie;
a signing middleware or the Playwright session provides them.
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
from crawlers.spiders.platform_base import PlatformSpider

API = "https://www.zhihu.com/api/v4"
_ANSWER = re.compile(r"answer/(\d+)")
_ARTICLE = re.compile(r"zhuanlan\.zhihu\.com/p/(\d+)")


def comment_root_of(target: str) -> tuple[str, str]:
    """(resource type, id) for comment_v5: an answer URL/id or an article URL."""
    if m := _ARTICLE.search(target):
        return "articles", m.group(1)
    if m := _ANSWER.search(target):
        return "answers", m.group(1)
    if target.isdigit():
        return "answers", target
    raise ValueError(f"zhihu: cannot read an answer or article id from {target!r}")


class ZhihuSpider(PlatformSpider):
    name = "zhihu"
    platform = "zhihu"
    missing_modes: ClassVar[dict[str, str]] = {
        "dynamics": "Zhihu 想法 (pins) are not crawled: answers and articles are where pitches were found"
    }

    def build_start(self) -> Iterable[Request]:
        if self.mode == "search":
            for q in self.start_queries():
                url = (
                    f"{API}/search_v3?gk_version=gz-gaokao&t=general&q={quote(q)}&correction=1"
                    "&offset=0&limit=20&filter_fields=&lc_idx=0&show_all_topics=0&search_source=Normal"
                )
                yield self.request(url, seed=q)
        elif self.mode == "creator":
            token = self.target.rstrip("/").split("/people/")[-1].split("/", 1)[0]
            include = "data[*].content,voteup_count,comment_count,created_time,question,excerpt"
            yield self.request(
                f"{API}/members/{token}/answers?include={quote(include)}&offset=0&limit=20&sort_by=created", seed=token
            )
        elif self.mode == "detail":
            if not self.target.startswith("http"):
                raise ValueError("zhihu: detail mode needs the answer or article URL")
            yield self.request(self.target, seed=self.target)
        else:
            kind, oid = comment_root_of(self.target)
            url = f"{API}/comment_v5/{kind}/{oid}/root_comment?order_by=score&limit=20&offset="
            yield self.request(url, seed=oid)

    def next_page(self, response: Response, payload: Any) -> Request | None:
        paging = as_dict(dig(payload, "paging"))
        nxt = as_str(paging.get("next"))
        if paging.get("is_end", True) or not nxt or self.mode == "detail":
            return None
        if nxt.startswith("http://"):
            nxt = "https://" + nxt[len("http://") :]
        return self.follow(response, nxt)

    def extra_requests(self, response: Response, posts: list[Post]) -> Iterable[Request]:
        if self.mode != "comments" or "/root_comment" not in response.url:
            return
        seed = response.meta.get("seed", "")
        try:
            payload = json.loads(response.text)
        except ValueError:
            return
        for raw in map(as_dict, as_list(dig(payload, "data"))):
            cid = as_str(raw.get("id"))
            if cid and (parse_count(raw.get("child_comment_count")) or 0) > len(as_list(raw.get("child_comments"))):
                url = f"{API}/comment_v5/comment/{cid}/child_comment?order_by=ts&limit=20&offset="
                yield self.request(url, seed=seed, expect=False)
