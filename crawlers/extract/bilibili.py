"""Bilibili (哔哩哔哩) API responses and video page state -> Posts.

Shapes:
- page state  window.__INITIAL_STATE__ of a video page: {videoData{bvid, aid, title, desc, pubdate, owner, stat}, tags}
- detail      x/web-interface/view  {code, data: videoData};  x/web-interface/wbi/view/detail  {code, data{View, Tags}}
- search      x/web-interface/(wbi/)search/type  {code, data{result[{type "video", bvid, title with <em>, ...}]}};
              search/all/v2  {code, data{result[{result_type "video", data[...]}]}}
- creator     x/space/wbi/arc/search  {code, data{list{vlist[{bvid, title, description, created, mid, author}]}}}
- comments    x/v2/reply, x/v2/reply/main, x/v2/reply/reply  {code, data{replies[{rpid, oid, root, parent, ctime,
              member{mid, uname}, content{message}, like, rcount, replies[...]}]}}
- dynamics    x/polymer/web-dynamic/v1/feed/space  {code, data{has_more, offset, items[{id_str, type, basic{comment_id_str,
              comment_type}, modules{module_author{mid, name, pub_ts}, module_dynamic{desc{text}, major{opus|draw|
              archive|article}}, module_stat}, orig{...}}]}};  .../v1/detail  {code, data{item{...}}}
- comments    x/v2/reply/wbi/main (what the web client calls now)  same `replies`, paged by data.cursor
Comments name their video by aid (oid); aid_to_bvid() turns it into the bvid the video Posts are keyed by.
A dynamic (动态: text and image posts, where many pitches live) is keyed t<id> and its URL is t.bilibili.com/<id>;
comments on a dynamic (type 11 or 17) hang under it when the spider passes the dynamic's URL.
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
            return _comments(data, url)
        if isinstance(data.get("items"), list) and ("offset" in data or "has_more" in data):
            return [p for item in data["items"] for p in dynamic_posts(item)]
        if isinstance(data.get("item"), dict):
            return dynamic_posts(data["item"])
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


def dynamic_url(dynamic_id: str) -> str:
    return f"https://t.bilibili.com/{dynamic_id}"


_DYNAMIC_URL = re.compile(r"(?:t\.bilibili\.com/|bilibili\.com/opus/)(\d+)")


def dynamic_of(url: str) -> str | None:
    """The dynamic id in a t.bilibili.com/<id> or bilibili.com/opus/<id> URL."""
    m = _DYNAMIC_URL.search(url or "")
    return m.group(1) if m else None


def dynamic_posts(item: Any) -> list[Post]:
    """A dynamic, and the original it forwards (a forward's own words are often the pitch, the original the bait)."""
    item = as_dict(item)
    post = dynamic_post(item)
    orig = dynamic_post(as_dict(item.get("orig"))) if isinstance(item.get("orig"), dict) else None
    return [p for p in (post, orig) if p is not None]


def dynamic_post(item: dict[str, Any]) -> Post | None:
    dyn_id = as_str(item.get("id_str")) or as_str(item.get("id"))
    modules = as_dict(item.get("modules"))
    if not dyn_id or not modules:
        return None
    author = as_dict(modules.get("module_author"))
    dynamic = as_dict(modules.get("module_dynamic"))
    major = as_dict(dynamic.get("major"))
    texts: list[str | None] = [as_text(dig(dynamic, "desc", "text"))]
    media: list[str | None] = []
    title: str | None = None
    opus = as_dict(major.get("opus"))
    if opus:
        title = as_str(opus.get("title"))
        texts.append(as_text(dig(opus, "summary", "text")))
        media += [as_str(as_dict(p).get("url")) for p in as_list(opus.get("pics"))]
    for key in ("archive", "article", "common"):
        part = as_dict(major.get(key))
        if part:
            title = title or as_str(part.get("title"))
            texts.append(as_text(part.get("desc")))
            media += [as_str(part.get("cover"))] + [as_str(c) for c in as_list(part.get("covers"))]
    media += [as_str(as_dict(d).get("src")) for d in as_list(dig(major, "draw", "items"))]
    body = join_text(*[t for t in texts if t and t != title])
    stat = as_dict(modules.get("module_stat"))
    topic = as_str(dig(dynamic, "topic", "name"))
    return Post(
        platform=PLATFORM,
        post_id=f"t{dyn_id}",
        kind=PostKind.post,
        url=dynamic_url(dyn_id),
        text=join_text(title, body),
        title=title,
        author_id=as_str(author.get("mid")),
        author_name=as_str(author.get("name")),
        published_at=from_epoch(author.get("pub_ts")),
        hashtags=tuple(unique([topic, *hashtags_paired(body)])),
        metrics=Metrics(
            likes=parse_count(dig(stat, "like", "count")),
            comments=parse_count(dig(stat, "comment", "count")),
            shares=parse_count(dig(stat, "forward", "count")),
        ),
        media=tuple(dict.fromkeys(_absolute(m) for m in media if m and m.startswith(("http://", "https://", "//")))),
    )


def _absolute(url: str) -> str:
    return f"https:{url}" if url.startswith("//") else url


def _comments(data: dict[str, Any], url: str = "") -> list[Post]:
    posts: list[Post] = []
    seen: set[str] = set()
    dyn_id = dynamic_of(url)
    roots = as_list(data.get("top_replies")) + as_list(data.get("replies")) + [dig(data, "upper", "top")]
    for raw in roots:
        for item in [raw, *as_list(as_dict(raw).get("replies"))]:
            post = comment_post(item, dyn_id)
            if post is not None and post.key not in seen:
                seen.add(post.key)
                posts.append(post)
    return posts


def comment_post(raw: Any, dynamic_id: str | None = None) -> Post | None:
    raw = as_dict(raw)
    rpid = as_str(raw.get("rpid"))
    if not rpid:
        return None
    oid = raw.get("oid")
    comment_type = raw.get("type", 1)
    bvid = aid_to_bvid(oid) if isinstance(oid, int) and oid > 0 and comment_type == 1 else None
    root = as_str(raw.get("root"))
    on_dynamic = dynamic_id is not None and comment_type != 1
    if root and root != "0":
        parent_key: str | None = make_key(PLATFORM, f"c{root}")
    elif on_dynamic:
        parent_key = make_key(PLATFORM, f"t{dynamic_id}")
    else:
        parent_key = make_key(PLATFORM, bvid) if bvid else None
    if bvid:
        where = f"{video_url(bvid)}#reply{as_str(raw.get('rpid'))}"
    elif on_dynamic:
        where = f"{dynamic_url(str(dynamic_id))}#reply{as_str(raw.get('rpid'))}"
    else:
        where = ""
    member = as_dict(raw.get("member"))
    text = as_text(dig(raw, "content", "message"))
    return Post(
        platform=PLATFORM,
        post_id=f"c{rpid}",
        kind=PostKind.comment,
        url=where,
        text=text,
        author_id=as_str(member.get("mid")) or as_str(raw.get("mid")),
        author_name=as_str(member.get("uname")),
        published_at=from_epoch(raw.get("ctime")),
        parent_key=parent_key,
        hashtags=tuple(hashtags_paired(text)),
        metrics=Metrics(likes=parse_count(raw.get("like")), comments=parse_count(raw.get("rcount"))),
    )
