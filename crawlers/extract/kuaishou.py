"""Kuaishou (快手) web GraphQL responses (www.kuaishou.com/graphql) -> Posts.

Shapes, by the GraphQL field under `data`:
- visionSearchPhoto       keyword search     {result, feeds[{author{id,name}, photo{id, caption, timestamp, ...}}], pcursor}
- visionProfilePhotoList  creator feed       same feed items
- visionVideoDetail       detail             {status, author, photo}
- visionCommentList       comments           {commentCount, pcursor, rootComments[{commentId, authorId, authorName,
                                              content, timestamp, likedCount, subComments[...]}]}
- visionSubCommentList    more replies       {pcursor, subComments[...]}
A `result` other than 1 means the platform refused (often a captcha); that is an UnknownShape, not "no posts".
"""

from __future__ import annotations

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
_FEEDS = ("visionSearchPhoto", "visionProfilePhotoList", "visionProfileLikePhotoList")


def video_url(photo_id: str) -> str:
    return f"https://www.kuaishou.com/short-video/{photo_id}"


def parse(body: bytes | str, url: str = "", *, now: datetime | None = None) -> list[Post]:
    payload = load_json(body, "kuaishou response")
    if not isinstance(payload, dict):
        raise UnknownShape("kuaishou: expected a JSON object")
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


def photo_post(item: Any) -> Post | None:
    item = as_dict(item)
    photo = as_dict(item.get("photo"))
    author = as_dict(item.get("author"))
    photo_id = as_str(photo.get("id"))
    if not photo_id:
        return None
    caption = as_text(photo.get("caption")) or as_text(photo.get("originCaption"))
    cover = as_str(photo.get("coverUrl"))
    tags = [as_str(t.get("name")) for t in map(as_dict, as_list(item.get("tags")))]
    return Post(
        platform=PLATFORM,
        post_id=photo_id,
        kind=PostKind.caption,
        url=video_url(photo_id),
        text=caption,
        author_id=as_str(author.get("id")),
        author_name=as_str(author.get("name")),
        published_at=from_epoch(photo.get("timestamp")),
        hashtags=tuple(t for t in tags if t) or tuple(hashtags_open(caption)),
        metrics=Metrics(
            likes=parse_count(photo.get("realLikeCount")) or parse_count(photo.get("likeCount")),
            views=parse_count(photo.get("viewCount")),
            comments=parse_count(photo.get("commentCount")),
        ),
        media=(cover,) if cover else (),
    )


def _photo_from_url(url: str) -> str | None:
    # Comment requests are POSTs; the spider passes the video page URL so comments can name their video.
    marker = "/short-video/"
    if marker in url:
        return url.split(marker, 1)[1].split("?", 1)[0].strip("/") or None
    return None


def comment_posts(roots: Any, url: str) -> list[Post]:
    photo_id = _photo_from_url(url)
    posts: list[Post] = []
    for raw in as_list(roots):
        root = comment_post(raw, photo_id, None)
        if root is None:
            continue
        posts.append(root)
        for sub in as_list(dig(raw, "subComments")):
            if (p := comment_post(sub, photo_id, root.post_id)) is not None:
                posts.append(p)
    return posts


def comment_post(raw: Any, photo_id: str | None, parent_post_id: str | None) -> Post | None:
    raw = as_dict(raw)
    cid = as_str(raw.get("commentId"))
    if not cid:
        return None
    if parent_post_id:
        parent_key: str | None = make_key(PLATFORM, parent_post_id)
    elif as_str(raw.get("rootCommentId")):
        parent_key = make_key(PLATFORM, f"c{as_str(raw.get('rootCommentId'))}")
    else:
        parent_key = make_key(PLATFORM, photo_id) if photo_id else None
    text = as_text(raw.get("content"))
    return Post(
        platform=PLATFORM,
        post_id=f"c{cid}",
        kind=PostKind.comment,
        url=video_url(photo_id) if photo_id else "",
        text=text,
        author_id=as_str(raw.get("authorId")),
        author_name=as_str(raw.get("authorName")),
        published_at=from_epoch(raw.get("timestamp")),
        parent_key=parent_key,
        hashtags=tuple(hashtags_open(text)),
        metrics=Metrics(
            likes=parse_count(raw.get("realLikedCount")) or parse_count(raw.get("likedCount")),
            comments=parse_count(raw.get("subCommentCount")),
        ),
    )
