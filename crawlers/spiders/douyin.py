"""Douyin spider (www.douyin.com web JSON API).

search: general/search/single (offset cursor) · creator: aweme/post (sec_user_id, max_cursor) ·
detail: aweme/detail · comments: comment/list (cursor) + comment/list/reply for threads with more replies.
The live API also wants browser-made signatures (a_bogus/X-Bogus, msToken) and a logged-in cookie: those come
from crawlers.signing (each request is sent from inside a logged-in douyin page, whose SDK adds them); this spider
only builds the requests.
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

API = "https://www.douyin.com/aweme/v1/web"
COMMON = "device_platform=webapp&aid=6383&channel=channel_pc_web&pc_client_type=1&version_code=190500"
_VIDEO_ID = re.compile(r"(?:video|note)/(\d+)|[?&](?:modal_id|aweme_id)=(\d+)")


def aweme_id_of(target: str) -> str:
    if target.isdigit():
        return target
    m = _VIDEO_ID.search(target)
    if not m:
        raise ValueError(f"douyin: cannot read an aweme id from {target!r}")
    return m.group(1) or m.group(2)


def sec_uid_of(target: str) -> str:
    """A creator is addressed by sec_uid; a profile URL https://www.douyin.com/user/<sec_uid> works too."""
    return target.rstrip("/").rsplit("/user/", 1)[-1].split("?", 1)[0]


class DouyinSpider(PlatformSpider):
    name = "douyin"
    platform = "douyin"
    missing_modes: ClassVar[dict[str, str]] = {
        "dynamics": "Douyin has no separate text-post feed; image posts (图文) come through search and creator"
    }

    def build_start(self) -> Iterable[Request]:
        if self.mode == "search":
            for q in self.start_queries():
                yield self.request(self._search_url(q, 0), seed=q)
        elif self.mode == "creator":
            sec_uid = sec_uid_of(self.target)
            yield self.request(self._creator_url(sec_uid, "0"), seed=sec_uid)
        elif self.mode == "detail":
            aweme_id = aweme_id_of(self.target)
            yield self.request(f"{API}/aweme/detail/?{COMMON}&aweme_id={aweme_id}", seed=aweme_id)
        else:
            aweme_id = aweme_id_of(self.target)
            yield self.request(self._comments_url(aweme_id, "0"), seed=aweme_id)

    @staticmethod
    def _search_url(query: str, offset: int) -> str:
        return (
            f"{API}/general/search/single/?{COMMON}&search_channel=aweme_general&enable_history=1"
            f"&keyword={quote(query)}&search_source=normal_search&query_correct_type=1&is_filter_search=0"
            f"&offset={offset}&count=10"
        )

    @staticmethod
    def _creator_url(sec_uid: str, max_cursor: str) -> str:
        return f"{API}/aweme/post/?{COMMON}&sec_user_id={sec_uid}&max_cursor={max_cursor}&count=18&locate_query=false"

    @staticmethod
    def _comments_url(aweme_id: str, cursor: str) -> str:
        return f"{API}/comment/list/?{COMMON}&aweme_id={aweme_id}&cursor={cursor}&count=20&item_type=0"

    def next_page(self, response: Response, payload: Any) -> Request | None:
        # has_more is 1/0 on today's API and true/false in older responses.
        if not isinstance(payload, dict) or payload.get("has_more") not in (True, 1, "1", "true"):
            return None
        seed = response.meta.get("seed", "")
        if self.mode == "search":
            return self.follow(response, self._search_url(seed, parse_count(payload.get("cursor")) or 0))
        if self.mode == "creator" and as_str(payload.get("max_cursor")):
            return self.follow(response, self._creator_url(seed, str(payload["max_cursor"])))
        if self.mode == "comments" and "/comment/list/?" in response.url and as_str(payload.get("cursor")):
            return self.follow(response, self._comments_url(seed, str(payload["cursor"])))
        return None

    def extra_requests(self, response: Response, posts: list[Post]) -> Iterable[Request]:
        if self.mode != "comments" or "/comment/list/?" not in response.url:
            return
        seed = response.meta.get("seed", "")
        for raw in map(as_dict, as_list(dig(self._payload(response), "comments"))):
            cid = as_str(raw.get("cid"))
            if cid and (parse_count(raw.get("reply_comment_total")) or 0) > len(as_list(raw.get("reply_comment"))):
                url = f"{API}/comment/list/reply/?{COMMON}&item_id={seed}&comment_id={cid}&cursor=0&count=20"
                yield self.request(url, seed=seed, expect=False)

    @staticmethod
    def _payload(response: Response) -> Any:
        try:
            return json.loads(response.text)
        except ValueError:
            return None
