"""Kuaishou spider: the web client's REST endpoints (2026), GraphQL (www.kuaishou.com/graphql) as the fallback.

search: rest/v/search/feed (pcursor; GraphQL visionSearchPhoto) · creator: rest/v/profile/feed (user_id, pcursor;
GraphQL visionProfilePhotoList) · detail: GraphQL visionVideoDetail (no REST detail is known) · comments:
rest/v/photo/comment/list (pcursor; answers rootCommentsV2 with their subCommentsV2; GraphQL visionCommentList).
A REST answer the parser cannot use (refused, or a new shape) is asked again through GraphQL at the same cursor;
`api=graphql` skips REST. The REST endpoints are signed by the page's own JS on the live site; this spider does not
compute that signature, so without a signing browser session REST is refused and GraphQL serves.
The live endpoint wants the web session cookies (did, kpf, kpn, userId) from a logged-in browser context.
The query documents below select only the fields the parser reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, ClassVar

from scrapy.http import Request, Response

from crawlers.extract.common import as_str, dig
from crawlers.spiders.platform_base import PlatformSpider

GRAPHQL = "https://www.kuaishou.com/graphql"
REST = "https://www.kuaishou.com/rest/v"
_REST_PATHS = {"search": "search/feed", "creator": "profile/feed", "comments": "photo/comment/list"}
_FEED_FIELDS = """
feeds { type author { id name headerUrl } tags { type name }
  photo { id duration caption originCaption likeCount realLikeCount viewCount coverUrl timestamp } }
"""
QUERIES = {
    "visionSearchPhoto": (
        "query visionSearchPhoto($keyword: String, $pcursor: String, $searchSessionId: String, $page: String) {"
        " visionSearchPhoto(keyword: $keyword, pcursor: $pcursor, searchSessionId: $searchSessionId, page: $page)"
        " { result llsid webPageArea searchSessionId pcursor " + _FEED_FIELDS + " } }"
    ),
    "visionProfilePhotoList": (
        "query visionProfilePhotoList($pcursor: String, $userId: String, $page: String) {"
        " visionProfilePhotoList(pcursor: $pcursor, userId: $userId, page: $page)"
        " { result llsid webPageArea hostName pcursor " + _FEED_FIELDS + " } }"
    ),
    "visionVideoDetail": (
        "query visionVideoDetail($photoId: String, $type: String, $page: String) {"
        " visionVideoDetail(photoId: $photoId, type: $type, page: $page) { status type author { id name }"
        " photo { id duration caption likeCount realLikeCount viewCount coverUrl timestamp } tags { type name } } }"
    ),
    "commentListQuery": (
        "query commentListQuery($photoId: String, $pcursor: String) {"
        " visionCommentList(photoId: $photoId, pcursor: $pcursor) { commentCount pcursor"
        " rootComments { commentId authorId authorName content headurl timestamp likedCount realLikedCount"
        " liked status subCommentCount subCommentsPcursor subComments { commentId authorId authorName content"
        " headurl timestamp likedCount realLikedCount liked status replyToUserName replyTo } } } }"
    ),
}
_PHOTO = re.compile(r"/(?:short-video|photo|fw/photo)/([0-9A-Za-z_-]+)")
_END = ("", "no_more", None)


def photo_id_of(target: str) -> str:
    m = _PHOTO.search(target)
    if m:
        return m.group(1)
    if "/" in target:
        raise ValueError(f"kuaishou: cannot read a photo id from {target!r}")
    return target


class KuaishouSpider(PlatformSpider):
    name = "kuaishou"
    platform = "kuaishou"
    missing_modes: ClassVar[dict[str, str]] = {
        "dynamics": "Kuaishou has no separate text-post feed; everything is a photo in search and creator"
    }

    def __init__(self, *args: Any, api: str = "rest", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if api not in ("rest", "graphql"):
            raise ValueError(f"kuaishou: api must be rest or graphql, got {api!r}")
        self.api = api

    def rest(self, seed: str, pcursor: str, *, page: int = 1, session: str | None = None, **kw: Any) -> Request:
        body: dict[str, Any]
        if self.mode == "search":
            body = {"keyword": seed, "pcursor": pcursor, "page": "search", "searchSessionId": session or ""}
        elif self.mode == "creator":
            body = {"user_id": seed, "pcursor": pcursor, "page": "profile"}
        else:
            body = {"photoId": seed, "pcursor": pcursor}
        meta = {**kw.pop("meta", {}), "pcursor": pcursor}
        return self.request(
            f"{REST}/{_REST_PATHS[self.mode]}",
            seed=seed,
            page=page,
            method="POST",
            body=json.dumps(body, ensure_ascii=False),
            headers={"Content-Type": "application/json", "Referer": "https://www.kuaishou.com/"},
            dont_filter=True,
            meta=meta,
            **kw,
        )

    def fallback(self, response: Response, problem: str) -> Request | None:
        if "/rest/v/" not in response.url:
            return None
        seed = response.meta.get("seed", "")
        operation, variables = self._variables(seed, response.meta.get("pcursor", ""))
        meta = {"source_url": response.meta["source_url"]} if "source_url" in response.meta else {}
        return self.graphql(operation, variables, seed=seed, page=response.meta.get("page", 1), meta=meta)

    def graphql(self, operation: str, variables: dict[str, Any], *, seed: str, page: int = 1, **kw: Any) -> Request:
        payload = {"operationName": operation, "variables": variables, "query": QUERIES[operation]}
        return self.request(
            GRAPHQL,
            seed=seed,
            page=page,
            method="POST",
            body=json.dumps(payload, ensure_ascii=False),
            headers={"Content-Type": "application/json", "Referer": "https://www.kuaishou.com/"},
            dont_filter=True,  # every GraphQL call shares one URL
            **kw,
        )

    def _variables(self, seed: str, pcursor: str, session: str | None = None) -> tuple[str, dict[str, Any]]:
        if self.mode == "search":
            return "visionSearchPhoto", {
                "keyword": seed,
                "pcursor": pcursor,
                "page": "search",
                "searchSessionId": session,
            }
        if self.mode == "creator":
            return "visionProfilePhotoList", {"userId": seed, "pcursor": pcursor, "page": "profile"}
        return "commentListQuery", {"photoId": seed, "pcursor": pcursor}

    def build_start(self) -> Iterable[Request]:
        if self.mode == "search":
            seeds = self.start_queries()
        elif self.mode == "creator":
            seeds = [self.target.rstrip("/").rsplit("/profile/", 1)[-1]]
        else:
            seeds = [photo_id_of(self.target)]
        for seed in seeds:
            source = {"source_url": f"https://www.kuaishou.com/short-video/{seed}"}
            if self.mode == "detail":
                variables = {"photoId": seed, "page": "detail"}
                yield self.graphql("visionVideoDetail", variables, seed=seed, meta=source)
                continue
            meta = source if self.mode == "comments" else {}
            if self.api == "rest":
                yield self.rest(seed, "", meta=meta)
                continue
            operation, variables = self._variables(seed, "")
            yield self.graphql(operation, variables, seed=seed, meta=meta)

    def next_page(self, response: Response, payload: Any) -> Request | None:
        if self.mode == "detail" or not isinstance(payload, dict):
            return None
        meta = {"source_url": response.meta["source_url"]} if "source_url" in response.meta else {}
        if "/rest/v/" in response.url:
            pcursor = as_str(payload.get("pcursor"))
            if pcursor in _END:
                return None
            page = response.meta.get("page", 1) + 1
            session = as_str(payload.get("searchSessionId"))
            return self.rest(response.meta.get("seed", ""), pcursor or "", page=page, session=session, meta=meta)
        field = {"search": "visionSearchPhoto", "creator": "visionProfilePhotoList"}.get(self.mode, "visionCommentList")
        pcursor = as_str(dig(payload, "data", field, "pcursor"))
        if pcursor in _END:
            return None
        seed = response.meta.get("seed", "")
        operation, variables = self._variables(
            seed, pcursor or "", as_str(dig(payload, "data", field, "searchSessionId"))
        )
        return self.graphql(operation, variables, seed=seed, page=response.meta.get("page", 1) + 1, meta=meta)
