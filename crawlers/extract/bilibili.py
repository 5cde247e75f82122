"""Bilibili (哔哩哔哩) API responses and video page state -> Posts.

Shapes:
- page state  window.__INITIAL_STATE__ of a video page: {videoData{bvid, aid, title, desc, pubdate, owner, stat}, tags}
- detail      x/web-interface/view  {code, data: videoData};  x/web-interface/wbi/view/detail  {code, data{View, Tags}}
- search      x/web-interface/(wbi/)search/type  {code, data{result[{type "video", bvid, title with <em>, ...}]}};
              search/all/v2  {code, data{result[{result_type "video", data[...]}]}}
- creator     x/space/wbi/arc/search  {code, data{list{vlist[{bvid, title, description, created, mid, author}]}}}
- comments    x/v2/reply, x/v2/reply/main, x/v2/reply/reply  {code, data{replies[{rpid, oid, root, parent, ctime,
              member{mid, uname}, content{message}, like, rcount, replies[...]}]}}
Comments name their video by aid (oid); aid_to_bvid() turns it into the bvid the video Posts are keyed by.
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
    hashtags_paired,
    join_text,
    load_json,
    parse_count,
    strip_html,
    unique,
)

PLATFORM = "bilibili"
_GONE = {-404, 62002, 62004, 62012}  # 啥都木有 / 稿件不可见 / 稿件审核中 / 仅UP主自己可见
_REFUSED = {-412: "rate limited (-412)", -352: "risk control (-352)", -101: "login required (-101)", -403: "forbidden"}

# The public av<->BV mapping (2023+ scheme): XOR with a constant, base-58 digits, two swapped pairs.
_TABLE = "FcwAPNKTMug3GV5Lj7EJnHpWsx4tb8haYeviqBz6rkCy12mUSDQX9RdoZf"
_XOR = 23442827791579
_MAX_AID = 1 << 51


def aid_to_bvid(aid: int) -> str:
    chars = ["B", "V", "1", "0", "0", "0", "0", "0", "0", "0", "0", "0"]
    tmp = (_MAX_AID | aid) ^ _XOR
    idx = len(chars) - 1
    while tmp > 0 and idx >= 0:
        chars[idx] = _TABLE[tmp % 58]
        tmp //= 58
        idx -= 1
    chars[3], chars[9] = chars[9], chars[3]
    chars[4], chars[7] = chars[7], chars[4]
    return "".join(chars)


def bvid_to_aid(bvid: str) -> int:
    chars = list(bvid)
    chars[3], chars[9] = chars[9], chars[3]
    chars[4], chars[7] = chars[7], chars[4]
    tmp = 0
    for ch in chars[3:]:
        tmp = tmp * 58 + _TABLE.index(ch)
    return (tmp & (_MAX_AID - 1)) ^ _XOR


def video_url(bvid: str) -> str:
    return f"https://www.bilibili.com/video/{bvid}"


def parse(body: bytes | str, url: str = "", *, now: datetime | None = None) -> list[Post]:
    payload = load_json(body, "bilibili response")
    if not isinstance(payload, dict):
        raise UnknownShape("bilibili: expected a JSON object")
    if isinstance(payload.get("videoData"), dict):
        return _one(video_post(payload["videoData"], payload.get("tags")))
    code = payload.get("code")
    if code in _GONE:
        return []  # the video was deleted or hidden: a detail re-check reads this as "removed"
    if isinstance(code, int) and code != 0:
        reason = _REFUSED.get(code, f"code {code}")
        raise UnknownShape(f"bilibili: request refused: {reason}: {str(payload.get('message', ''))[:80]}")
    data = payload.get("data")
    if isinstance(data, dict):
        if isinstance(data.get("View"), dict):
            return _one(video_post(data["View"], data.get("Tags")))
        if "bvid" in data and "owner" in data:
            return _one(video_post(data))
        if "result" in data:
            return _search(data["result"])
        vlist = dig(data, "list", "vlist")
        if isinstance(vlist, list):
            return [p for v in vlist if (p := search_post(v)) is not None]
        if "replies" in data or "top_replies" in data:
            return _comments(data)
    keys = ", ".join(sorted(as_dict(data) or payload)[:12])
    raise UnknownShape(f"bilibili: unknown response shape (keys: {keys})")


def _one(post: Post | None) -> list[Post]:
    return [post] if post else []


def video_post(video: Any, tags: Any = None) -> Post | None:
    video = as_dict(video)
    bvid = as_str(video.get("bvid"))
    if not bvid and isinstance(video.get("aid"), int):
        bvid = aid_to_bvid(video["aid"])
    if not bvid:
        return None
    owner = as_dict(video.get("owner"))
    stat = as_dict(video.get("stat"))
    title = as_str(video.get("title"))
    tag_names = [as_str(as_dict(t).get("tag_name")) for t in as_list(tags)]
    hashtags = unique(tag_names) or hashtags_paired(as_text(video.get("dynamic")))
    pic = as_str(video.get("pic"))
    return Post(
        platform=PLATFORM,
        post_id=bvid,
        kind=PostKind.caption,
        url=video_url(bvid),
        text=join_text(title, as_text(video.get("desc"))),
        title=title,
        author_id=as_str(owner.get("mid")),
        author_name=as_str(owner.get("name")),
        published_at=from_epoch(video.get("pubdate")),
        hashtags=tuple(hashtags),
        metrics=Metrics(
            likes=parse_count(stat.get("like")),
            comments=parse_count(stat.get("reply")),
            shares=parse_count(stat.get("share")),
            views=parse_count(stat.get("view")),
            collects=parse_count(stat.get("favorite")),
        ),
        media=(pic,) if pic else (),
    )


def _search(result: Any) -> list[Post]:
    items: list[Any] = []
    for entry in map(as_dict, as_list(result)):
        if "result_type" in entry:  # search/all: grouped by result type
            if entry.get("result_type") == "video":
                items.extend(as_list(entry.get("data")))
        elif entry.get("type", "video") == "video":
            items.append(entry)
    return [p for item in items if (p := search_post(item)) is not None]


def search_post(item: Any) -> Post | None:
    """A video as search results and the creator list show it (title may hold <em class="keyword"> markup)."""
    item = as_dict(item)
    bvid = as_str(item.get("bvid"))
    if not bvid and isinstance(item.get("aid"), int):
        bvid = aid_to_bvid(item["aid"])
    if not bvid:
        return None
    title = strip_html(as_text(item.get("title"))) or None
    desc = strip_html(as_text(item.get("description")) or as_text(item.get("desc")))
    tags = [t.strip() for t in as_text(item.get("tag")).split(",") if t.strip()]
    pic = as_str(item.get("pic"))
    if pic and pic.startswith("//"):
        pic = "https:" + pic
    return Post(
        platform=PLATFORM,
        post_id=bvid,
        kind=PostKind.caption,
        url=video_url(bvid),
        text=join_text(title, desc),
        title=title,
        author_id=as_str(item.get("mid")),
        author_name=as_str(item.get("author")),
        published_at=from_epoch(item.get("pubdate") or item.get("created")),
        hashtags=tuple(unique(tags)),
        metrics=Metrics(
            likes=parse_count(item.get("like")),
            comments=parse_count(item.get("review") if "review" in item else item.get("comment")),
            views=parse_count(item.get("play")),
            collects=parse_count(item.get("favorites")),
        ),
        media=(pic,) if pic else (),
    )


def _comments(data: dict[str, Any]) -> list[Post]:
    posts: list[Post] = []
    seen: set[str] = set()
    roots = as_list(data.get("top_replies")) + as_list(data.get("replies")) + [dig(data, "upper", "top")]
    for raw in roots:
        for item in [raw, *as_list(as_dict(raw).get("replies"))]:
            post = comment_post(item)
            if post is not None and post.key not in seen:
                seen.add(post.key)
                posts.append(post)
    return posts


def comment_post(raw: Any) -> Post | None:
    raw = as_dict(raw)
    rpid = as_str(raw.get("rpid"))
    if not rpid:
        return None
    oid = raw.get("oid")
    comment_type = raw.get("type", 1)
    bvid = aid_to_bvid(oid) if isinstance(oid, int) and oid > 0 and comment_type == 1 else None
    root = as_str(raw.get("root"))
    if root and root != "0":
        parent_key: str | None = make_key(PLATFORM, f"c{root}")
    else:
        parent_key = make_key(PLATFORM, bvid) if bvid else None
    member = as_dict(raw.get("member"))
    text = as_text(dig(raw, "content", "message"))
    return Post(
        platform=PLATFORM,
        post_id=f"c{rpid}",
        kind=PostKind.comment,
        url=f"{video_url(bvid)}#reply{rpid}" if bvid else "",
        text=text,
        author_id=as_str(member.get("mid")) or as_str(raw.get("mid")),
        author_name=as_str(member.get("uname")),
        published_at=from_epoch(raw.get("ctime")),
        parent_key=parent_key,
        hashtags=tuple(hashtags_paired(text)),
        metrics=Metrics(likes=parse_count(raw.get("like")), comments=parse_count(raw.get("rcount"))),
    )
