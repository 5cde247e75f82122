"""Kuaishou (快手) web responses -> Posts: the signed REST endpoints first, GraphQL as the fallback.

REST shapes (the web client's endpoints since 2026), answered at the top level, not under `data`:
- /rest/v/search/feed, /rest/v/profile/feed   {result, pcursor, feeds[{author, photo}], ...}
- /rest/v/photo/comment/list                  {result, pcursor, rootCommentsV2[{comment_id|commentId, ...,
                                               subCommentsV2[...]}]}
- /rest/v/photo/comment/sublist               {result, pcursorV2, rootCommentId, subCommentsV2[...]}
Feed items and comments come in camelCase (the web client) or snake_case (photo_id, user_name, like_count).

GraphQL shapes, by the field under `data`:
- visionSearchPhoto       keyword search     {result, feeds[{author{id,name}, photo{id, caption, timestamp, ...}}], pcursor}
- visionProfilePhotoList  creator feed       same feed items
- visionVideoDetail       detail             {status, author, photo}
- visionCommentList       comments           {commentCount, pcursor, rootComments[{commentId, authorId, authorName,
                                              content, timestamp, likedCount, subComments[...]}]}
- visionSubCommentList    more replies       {pcursor, subComments[...]}
A `result` other than 1 means the platform refused (often a captcha); that is an UnknownShape, not "no posts".
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from core.records import Metrics, Post, PostKind, make_key
from crawlers.extract.common import (
    UnknownShape,
    as_dict,
    as_list,
    as_str,
    as_text,
    dig,
    from_epoch,
    hashtags_open,
    load_json,
    parse_count,
)

PLATFORM = "kuaishou"
_PHOTO_PARAM = re.compile(r"[?&]photo_?[iI]d=([A-Za-z0-9_-]+)")
_FEEDS = ("visionSearchPhoto", "visionProfilePhotoList", "visionProfileLikePhotoList")


def video_url(photo_id: str) -> str:
    return f"https://www.kuaishou.com/short-video/{photo_id}"


def parse(body: bytes | str, url: str = "", *, now: datetime | None = None) -> list[Post]:
    payload = load_json(body, "kuaishou response")
    if not isinstance(payload, dict):
        raise UnknownShape("kuaishou: expected a JSON object")
    if any(k in payload for k in _REST_KEYS) or ("result" in payload and "data" not in payload):
        return _rest(payload, url)
    data = as_dict(payload.get("data"))
    if not data and payload.get("errors"):
        raise UnknownShape(f"kuaishou: GraphQL errors: {str(payload['errors'])[:200]}")
    for field in _FEEDS:
        if field in data:
            feed = as_dict(data[field])
            result = feed.get("result")
            if result not in (None, 1):
                raise UnknownShape(f"kuaishou: {field} refused with result={result} (verification or login needed)")
            return [p for item in as_list(feed.get("feeds")) if (p := photo_post(item)) is not None]
    if "visionVideoDetail" in data:
        detail = as_dict(data["visionVideoDetail"])
        post = photo_post(detail)
        return [post] if post else []
    if "visionCommentList" in data:
        return comment_posts(as_dict(data["visionCommentList"]).get("rootComments"), url)
    if "visionSubCommentList" in data:
        subs = as_dict(data["visionSubCommentList"]).get("subComments")
        return [p for c in as_list(subs) if (p := comment_post(c, _photo_from_url(url), None)) is not None]
    keys = ", ".join(sorted(data or payload)[:12])
    raise UnknownShape(f"kuaishou: unknown GraphQL response (keys: {keys})")


_REST_KEYS = ("feeds", "rootCommentsV2", "subCommentsV2")


def _rest(payload: dict[str, Any], url: str) -> list[Post]:
    result = payload.get("result")
    if result not in (None, 1):
        # 2/400002 and friends: the signature was refused or a captcha is pending; never "no posts".
        raise UnknownShape(f"kuaishou: REST refused with result={result} (verification or signature needed)")
    if "rootCommentsV2" in payload:
        return comment_posts(payload.get("rootCommentsV2"), url)
    if "subCommentsV2" in payload:
        root_id = _first(payload, "rootCommentId", "root_comment_id")
        parent = f"c{root_id}" if root_id else None
        photo_id = _photo_from_url(url)
        return [p for c in as_list(payload["subCommentsV2"]) if (p := comment_post(c, photo_id, parent)) is not None]
    return [p for item in as_list(payload.get("feeds")) if (p := photo_post(item)) is not None]


def _first(raw: dict[str, Any], *names: str) -> str | None:
    """The first present field among camelCase/snake_case spellings of one value."""
    for name in names:
        if (value := as_str(raw.get(name))) is not None:
            return value
    return None


def _count(raw: dict[str, Any], *names: str) -> int | None:
    for name in names:
        if (value := parse_count(raw.get(name))) is not None:
            return value
    return None


def _cover(photo: dict[str, Any]) -> str | None:
    cover = _first(photo, "coverUrl", "cover_url")
    if cover:
        return cover
    thumbs = as_list(photo.get("cover_thumbnail_urls")) or as_list(photo.get("coverUrls"))
    return as_str(as_dict(thumbs[0]).get("url")) if thumbs else None


def photo_post(item: Any) -> Post | None:
    item = as_dict(item)
    # REST items flatten the photo into the feed item (photo_id, user_id) where GraphQL nests it.
    photo = as_dict(item.get("photo")) or item
    author = as_dict(item.get("author"))
    photo_id = _first(photo, "id", "photoId", "photo_id")
    if not photo_id:
        return None
    caption = as_text(photo.get("caption")) or as_text(photo.get("originCaption"))
    cover = _cover(photo)
    tags = [as_str(t.get("name")) for t in map(as_dict, as_list(item.get("tags")))]
    return Post(
        platform=PLATFORM,
        post_id=photo_id,
        kind=PostKind.caption,
        url=video_url(photo_id),
        text=caption,
        author_id=_first(author, "id") or _first(photo, "user_id", "userId"),
        author_name=_first(author, "name") or _first(photo, "user_name", "userName"),
        published_at=from_epoch(photo.get("timestamp")),
        hashtags=tuple(t for t in tags if t) or tuple(hashtags_open(caption)),
        metrics=Metrics(
            likes=_count(photo, "realLikeCount", "likeCount", "like_count"),
            views=_count(photo, "viewCount", "view_count"),
            comments=_count(photo, "commentCount", "comment_count"),
        ),
        media=(cover,) if cover else (),
    )


def _photo_from_url(url: str) -> str | None:
    # Comment requests are POSTs; the spider passes the video page URL so comments can name their video.
    marker = "/short-video/"
    if marker in url:
        return url.split(marker, 1)[1].split("?", 1)[0].strip("/") or None
    # REST comment requests are GETs that name the photo in their query.
    m = _PHOTO_PARAM.search(url)
    return m.group(1) if m else None


def comment_posts(roots: Any, url: str) -> list[Post]:
    photo_id = _photo_from_url(url)
    posts: list[Post] = []
    for raw in as_list(roots):
        root = comment_post(raw, photo_id, None)
        if root is None:
            continue
        posts.append(root)
        for sub in as_list(dig(raw, "subComments")) + as_list(dig(raw, "subCommentsV2")):
            if (p := comment_post(sub, photo_id, root.post_id)) is not None:
                posts.append(p)
    return posts


def comment_post(raw: Any, photo_id: str | None, parent_post_id: str | None) -> Post | None:
    raw = as_dict(raw)
    cid = _first(raw, "commentId", "comment_id")
    if not cid:
        return None
    if parent_post_id:
        parent_key: str | None = make_key(PLATFORM, parent_post_id)
    elif root_id := _first(raw, "rootCommentId", "root_comment_id"):
        parent_key = make_key(PLATFORM, f"c{root_id}")
    else:
        parent_key = make_key(PLATFORM, photo_id) if photo_id else None
    text = as_text(raw.get("content"))
    return Post(
        platform=PLATFORM,
        post_id=f"c{cid}",
        kind=PostKind.comment,
        url=video_url(photo_id) if photo_id else "",
        text=text,
        author_id=_first(raw, "authorId", "author_id"),
        author_name=_first(raw, "authorName", "author_name"),
        published_at=from_epoch(raw.get("timestamp")),
        parent_key=parent_key,
        hashtags=tuple(hashtags_open(text)),
        metrics=Metrics(
            likes=_count(raw, "realLikedCount", "likedCount", "liked_count"),
            comments=_count(raw, "subCommentCount", "sub_comment_count"),
        ),
    )
