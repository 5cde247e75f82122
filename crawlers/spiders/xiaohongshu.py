"""Xiaohongshu spider (edith.xiaohongshu.com web API).

search: POST search/notes (page), then POST feed for every hit (a card has a 20-character title and no time; the
note's description, time, images and tags come from feed, requested with the card's xsec_token as the web client
does) · creator: user_posted (cursor) · detail: POST feed (needs the note's xsec_token, carried in the note URL) ·
comments: v2/comment/page (cursor) + comment/sub/page for longer threads.
The live API signs each request (x-s, x-t, x-s-common) with the page's own JS and wants a logged-in a1/web_session
cookie: crawlers.signing adds x-s/x-t from the logged-in page's own function; this spider only builds the requests.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

from scrapy.http import Request, Response

from core.records import Post
from crawlers.extract.common import as_dict, as_list, as_str, dig
from crawlers.extract.xiaohongshu import note_url
from crawlers.spiders.platform_base import PlatformSpider

API = "https://edith.xiaohongshu.com/api/sns/web"
IMAGE_FORMATS = "jpg,webp,avif"


def note_ref(target: str) -> tuple[str, str]:
    """(note id, xsec_token) from a note URL such as /explore/<id>?xsec_token=...; a bare id has no token."""
    parts = urlsplit(target)
    if not parts.scheme:
        return target, ""
    note_id = parts.path.rstrip("/").rsplit("/", 1)[-1]
    token = parse_qs(parts.query).get("xsec_token", [""])[0]
    return note_id, token


class XiaohongshuSpider(PlatformSpider):
    name = "xiaohongshu"
    platform = "xiaohongshu"
    missing_modes: ClassVar[dict[str, str]] = {"dynamics": "every note is a post; creator mode reads a user's notes"}

    def post_json(self, url: str, data: dict[str, Any], *, seed: str, page: int = 1, **kw: Any) -> Request:
        return self.request(
            url,
            seed=seed,
            page=page,
            method="POST",
            body=json.dumps(data, ensure_ascii=False, separators=(",", ":")),
            headers={"Content-Type": "application/json;charset=UTF-8", "Origin": "https://www.xiaohongshu.com"},
            dont_filter=True,
            **kw,
        )

    def _search(self, query: str, page: int, search_id: str) -> dict[str, Any]:
        return {
            "keyword": query,
            "page": page,
            "page_size": 20,
            "search_id": search_id,
            "sort": "time_descending",  # newest first, so the watermark stops early on scheduled runs
            "note_type": 0,
        }

    def build_start(self) -> Iterable[Request]:
        if self.mode == "search":
            for q in self.start_queries():
                search_id = secrets.token_hex(16)
                yield self.post_json(
                    f"{API}/v1/search/notes", self._search(q, 1, search_id), seed=q, meta={"search_id": search_id}
                )
        elif self.mode == "creator":
            user_id = self.target.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
            yield self.request(self._creator_url(user_id, ""), seed=user_id)
        elif self.mode == "detail":
            note_id, token = note_ref(self.target)
            yield self.feed_request(note_id, token, seed=note_id)
        else:
            note_id, token = note_ref(self.target)
            yield self.request(self._comments_url(note_id, "", token), seed=note_id, meta={"xsec_token": token})

    def feed_request(self, note_id: str, token: str, *, seed: str, **kw: Any) -> Request:
        """POST feed for one note; the note URL with its token goes along so the parser keeps the token."""
        data = {
            "source_note_id": note_id,
            "image_formats": IMAGE_FORMATS.split(","),
            "extra": {"need_body_topic": "1"},
            "xsec_source": "pc_search",
            "xsec_token": token,
        }
        meta = {**kw.pop("meta", {}), "source_url": note_url(note_id, token)}
        return self.post_json(f"{API}/v1/feed", data, seed=seed, meta=meta, **kw)

    def partial(self, response: Response, post: Post) -> bool:
        # Search cards are followed to feed; the whole note from there is the one kept.
        return self.mode == "search" and "/search/notes" in response.url

    @staticmethod
    def _creator_url(user_id: str, cursor: str) -> str:
        return f"{API}/v1/user_posted?num=30&cursor={cursor}&user_id={user_id}&image_formats={IMAGE_FORMATS}"

    @staticmethod
    def _comments_url(note_id: str, cursor: str, token: str) -> str:
        return (
            f"{API}/v2/comment/page?note_id={note_id}&cursor={cursor}&top_comment_id="
            f"&image_formats={IMAGE_FORMATS}&xsec_token={quote(token)}"
        )

    def next_page(self, response: Response, payload: Any) -> Request | None:
        data = as_dict(dig(payload, "data"))
        if not data.get("has_more"):
            return None
        seed = response.meta.get("seed", "")
        page = response.meta.get("page", 1)
        if self.mode == "search":
            search_id = response.meta.get("search_id", "")
            return self.post_json(
                f"{API}/v1/search/notes",
                self._search(seed, page + 1, search_id),
                seed=seed,
                page=page + 1,
                meta={"search_id": search_id},
            )
        cursor = as_str(data.get("cursor"))
        if not cursor:
            return None
        if self.mode == "creator":
            return self.follow(response, self._creator_url(seed, cursor))
        if self.mode == "comments" and "/comment/page?" in response.url:
            token = response.meta.get("xsec_token", "")
            return self.follow(response, self._comments_url(seed, cursor, token), meta={"xsec_token": token})
        return None

    def extra_requests(self, response: Response, posts: list[Post]) -> Iterable[Request]:
        if self.mode == "search" and "/search/notes" in response.url:
            for post in posts:
                note_id, token = note_ref(post.url)
                yield self.feed_request(note_id, token, seed=response.meta.get("seed", ""), expect=False)
            return
        if self.mode != "comments" or "/comment/page?" not in response.url:
            return
        seed = response.meta.get("seed", "")
        token = response.meta.get("xsec_token", "")
        try:
            payload = json.loads(response.text)
        except ValueError:
            return
        for raw in map(as_dict, as_list(dig(payload, "data", "comments"))):
            cid, cursor = as_str(raw.get("id")), as_str(raw.get("sub_comment_cursor"))
            if cid and cursor and raw.get("sub_comment_has_more"):
                url = (
                    f"{API}/v2/comment/sub/page?note_id={seed}&root_comment_id={cid}&num=10&cursor={cursor}"
                    f"&image_formats={IMAGE_FORMATS}&top_comment_id=&xsec_token={quote(token)}"
                )
                yield self.request(url, seed=seed, expect=False)
