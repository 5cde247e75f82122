"""Douyin (抖音) web API responses -> Posts.

Shapes (detected by their keys):
- creator feed   /aweme/v1/web/aweme/post/         {status_code, aweme_list[aweme], max_cursor, has_more}
- search         /aweme/v1/web/general/search/single/ (and search/item/)  {status_code, data[{type, aweme_info}]}
- detail         /aweme/v1/web/aweme/detail/       {status_code, aweme_detail: aweme}
- comments       /aweme/v1/web/comment/list/ and /comment/list/reply/  {status_code, comments[comment], cursor}
A comment may carry its replies inline as `reply_comment` (list); a reply names its root in `reply_id`.
"""

from __future__ import annotations

from datetime import datetime, timezone
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
    join_text,
    load_json,
    parse_count,
    unique,
)

PLATFORM = "douyin"


def video_url(aweme_id: str) -> str:
    return f"https://www.douyin.com/video/{aweme_id}"


def id_time(aweme_id: str) -> datetime | None:
    """ByteDance ids carry their creation second in the top 32 bits; used only when create_time is absent."""
    try:
        seconds = int(aweme_id) >> 32
    except ValueError:
        return None
    # Sanity window: 2016 (Douyin's launch) .. 2100; anything else is not a time-based id.
    if not 1_451_606_400 <= seconds <= 4_102_444_800:
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def parse(body: bytes | str, url: str = "", *, now: datetime | None = None) -> list[Post]:
    data = load_json(body, "douyin response")
    if not isinstance(data, dict):
        raise UnknownShape("douyin: expected a JSON object")
    if "aweme_list" in data:
        return [p for a in as_list(data["aweme_list"]) if (p := aweme_post(a)) is not None]
    if "aweme_detail" in data:
        post = aweme_post(data["aweme_detail"])
        return [post] if post else []
    if "comments" in data:
        return comment_posts(data["comments"])
    if isinstance(data.get("data"), list):
        posts: list[Post] = []
        for item in data["data"]:
            aweme = dig(item, "aweme_info")
            if aweme is None:  # mixes, users and live cards in general search carry no aweme
                for sub in as_list(dig(item, "aweme_mix_info", "mix_items")):
                    if (p := aweme_post(sub)) is not None:
                        posts.append(p)
                continue
            if (p := aweme_post(aweme)) is not None:
                posts.append(p)
        return posts
    keys = ", ".join(sorted(data)[:12])
    raise UnknownShape(f"douyin: unknown response shape (keys: {keys})")


def aweme_post(aweme: Any) -> Post | None:
    aweme = as_dict(aweme)
    aweme_id = as_str(aweme.get("aweme_id"))
    if not aweme_id:
        return None
    author = as_dict(aweme.get("author"))
    stats = as_dict(aweme.get("statistics"))
    desc = as_text(aweme.get("desc"))
    title = as_str(aweme.get("item_title")) or as_str(aweme.get("preview_title"))
    text = join_text(title, desc)
    tags = [as_str(t.get("hashtag_name")) for t in map(as_dict, as_list(aweme.get("text_extra")))]
    tags += [as_str(c.get("cha_name")) for c in map(as_dict, as_list(aweme.get("cha_list")))]
    hashtags = unique(tags) or hashtags_open(desc)
    created = from_epoch(aweme.get("create_time")) or id_time(aweme_id)
    cover = dig(aweme, "video", "cover", "url_list", 0) or dig(aweme, "video", "origin_cover", "url_list", 0)
    plays = parse_count(stats.get("play_count"))
    return Post(
        platform=PLATFORM,
        post_id=aweme_id,
        kind=PostKind.caption,
        url=video_url(aweme_id),
        text=text,
        title=title,
        author_id=as_str(author.get("uid")) or as_str(author.get("sec_uid")),
        author_name=as_str(author.get("nickname")),
        published_at=created,
        hashtags=tuple(hashtags),
        metrics=Metrics(
            likes=parse_count(stats.get("digg_count")),
            comments=parse_count(stats.get("comment_count")),
            shares=parse_count(stats.get("share_count")),
            collects=parse_count(stats.get("collect_count")),
            views=plays or None,  # the web API reports play_count 0 when it hides views
        ),
        media=tuple(x for x in (as_str(cover),) if x),
    )


def comment_posts(comments: Any) -> list[Post]:
    posts: list[Post] = []
    for raw in as_list(comments):
        post = comment_post(raw)
        if post is None:
            continue
        posts.append(post)
        for reply in as_list(as_dict(raw).get("reply_comment")):
            reply_post = comment_post(reply, root_cid=post.post_id[1:])
            if reply_post is not None:
                posts.append(reply_post)
    return posts


def comment_post(raw: Any, root_cid: str | None = None) -> Post | None:
    raw = as_dict(raw)
    cid = as_str(raw.get("cid"))
    aweme_id = as_str(raw.get("aweme_id"))
    if not cid:
        return None
    user = as_dict(raw.get("user"))
    reply_to = as_str(raw.get("reply_id"))
    parent_cid = root_cid or (reply_to if reply_to and reply_to != "0" else None)
    if parent_cid:
        parent_key: str | None = make_key(PLATFORM, f"c{parent_cid}")
    else:
        parent_key = make_key(PLATFORM, aweme_id) if aweme_id else None
    text = as_text(raw.get("text"))
    return Post(
        platform=PLATFORM,
        # Comment ids are prefixed so they can never collide with a video's aweme_id in the index.
        post_id=f"c{cid}",
        kind=PostKind.comment,
        url=video_url(aweme_id) if aweme_id else "",
        text=text,
        author_id=as_str(user.get("uid")) or as_str(user.get("sec_uid")),
        author_name=as_str(user.get("nickname")),
        published_at=from_epoch(raw.get("create_time")),
        parent_key=parent_key,
        hashtags=tuple(hashtags_open(text)),
        metrics=Metrics(likes=parse_count(raw.get("digg_count")), comments=parse_count(raw.get("reply_comment_total"))),
    )
