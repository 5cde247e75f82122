"""Xiaohongshu (小红书) web API responses and page state -> Posts.

Shapes:
- search      /api/sns/web/v1/search/notes   {code, data{has_more, items[{id, model_type, note_card{display_title, user,
                                               interact_info}, xsec_token}]}}  (no desc/time in search cards)
- feed/detail /api/sns/web/v1/feed           {code, data{items[{id, note_card{note_id, title, desc, time, user,
                                               interact_info, tag_list, image_list}}]}}
- creator     /api/sns/web/v1/user_posted    {code, data{cursor, has_more, notes[{note_id, display_title, user, ...}]}}
- comments    /api/sns/web/v2/comment/page and /comment/sub/page
                                             {code, data{cursor, has_more, comments[{id, note_id, content, create_time,
                                               like_count, user_info, sub_comments[...], target_comment}]}}
- page state  window.__INITIAL_STATE__ of an explore page: note.noteDetailMap[id].note (camelCase keys)

A search card has only a 20-character title and no time; the spider follows each hit to `feed` with the card's
xsec_token, as the web client does. The token is kept in the post's URL (…/explore/<id>?xsec_token=…): the platform
refuses a note without it, so a takedown re-check needs it too. A `feed` response does not repeat the token:
the parser takes it from the URL the spider passes (the note URL the request was made for).
Hashtags come from the tag list, from #话题[话题]# marks in the description and from #tags in the title.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

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
    hashtags_paired,
    join_text,
    load_json,
    parse_count,
    unique,
)

PLATFORM = "xiaohongshu"
_REFUSED = {
    300012: "rate limited (300012)",
    300013: "rate limited (300013)",
    -100: "login required (-100)",
    461: "captcha",
}


_TOPIC = re.compile(r"\[话题\]$")


def note_url(note_id: str, xsec_token: str = "", source: str = "pc_search") -> str:
    """The note's web URL, with the xsec_token the platform wants for it when one is known."""
    base = f"https://www.xiaohongshu.com/explore/{note_id}"
    return f"{base}?xsec_token={quote(xsec_token, safe='')}&xsec_source={source}" if xsec_token else base


def url_token(url: str, note_id: str | None = None) -> str:
    """The xsec_token in a note URL (only when the URL is for `note_id`, if given)."""
    parts = urlsplit(url or "")
    if note_id and not parts.path.rstrip("/").endswith(f"/{note_id}"):
        return ""
    return parse_qs(parts.query).get("xsec_token", [""])[0]


def _get(d: dict[str, Any], snake: str) -> Any:
    """Read a field by its API (snake_case) or page-state (camelCase) name."""
    if snake in d:
        return d[snake]
    head, *rest = snake.split("_")
    return d.get(head + "".join(part.title() for part in rest))


def parse(body: bytes | str, url: str = "", *, now: datetime | None = None) -> list[Post]:
    payload = load_json(body, "xiaohongshu response")
    if not isinstance(payload, dict):
        raise UnknownShape("xiaohongshu: expected a JSON object")
    note_map = dig(payload, "note", "noteDetailMap")
    if isinstance(note_map, dict):
        return [p for entry in note_map.values() if (p := note_post(dig(entry, "note"), url)) is not None]
    code = payload.get("code")
    if payload.get("success") is False or (isinstance(code, int) and code != 0):
        reason = _REFUSED.get(code, f"code {code}") if isinstance(code, int) else "success=false"
        raise UnknownShape(f"xiaohongshu: request refused: {reason}: {str(payload.get('msg', ''))[:80]}")
    data = as_dict(payload.get("data"))
    if "items" in data:
        posts = []
        for item in as_list(data["items"]):
            item = as_dict(item)
            if item.get("model_type", "note") != "note":  # hot-query and user cards
                continue
            card = dict(as_dict(item.get("note_card")))
            card.setdefault("note_id", item.get("id"))
            if item.get("xsec_token"):
                card.setdefault("xsec_token", item.get("xsec_token"))
            if (p := note_post(card, url)) is not None:
                posts.append(p)
        return posts
    if "notes" in data:
        return [p for n in as_list(data["notes"]) if (p := note_post(n)) is not None]
    if "comments" in data:
        return comment_posts(data["comments"])
    keys = ", ".join(sorted(data or payload)[:12])
    raise UnknownShape(f"xiaohongshu: unknown response shape (keys: {keys})")


def note_post(card: Any, url: str = "") -> Post | None:
    card = as_dict(card)
    note_id = as_str(_get(card, "note_id")) or as_str(card.get("id"))
    if not note_id:
        return None
    token = as_str(_get(card, "xsec_token")) or url_token(url, note_id)
    user = as_dict(card.get("user"))
    info = as_dict(_get(card, "interact_info"))
    title = as_str(card.get("title")) or as_str(_get(card, "display_title"))
    desc = as_text(card.get("desc"))
    tags = [as_str(t.get("name")) for t in map(as_dict, as_list(_get(card, "tag_list")))]
    marked = [_TOPIC.sub("", t) for t in hashtags_paired(desc)] + (hashtags_open(title) if title else [])
    images = [
        as_str(dig(img, "url_default")) or as_str(dig(img, "urlDefault")) for img in as_list(_get(card, "image_list"))
    ]
    cover = as_str(dig(card, "cover", "url_default")) or as_str(dig(card, "cover", "urlDefault"))
    return Post(
        platform=PLATFORM,
        post_id=note_id,
        kind=PostKind.post,
        url=note_url(note_id, token or ""),
        text=join_text(title, desc),
        title=title,
        author_id=as_str(_get(user, "user_id")),
        author_name=as_str(user.get("nickname")) or as_str(_get(user, "nick_name")),
        published_at=from_epoch(card.get("time")),
        hashtags=tuple(unique([*tags, *marked])),
        metrics=Metrics(
            likes=parse_count(_get(info, "liked_count")),
            comments=parse_count(_get(info, "comment_count")),
            shares=parse_count(_get(info, "share_count")),
            collects=parse_count(_get(info, "collected_count")),
        ),
        media=tuple(x for x in [*images, cover] if x),
    )


def comment_posts(comments: Any) -> list[Post]:
    posts: list[Post] = []
    for raw in as_list(comments):
        root = comment_post(raw, None)
        if root is None:
            continue
        posts.append(root)
        for sub in as_list(as_dict(raw).get("sub_comments")):
            if (p := comment_post(sub, root.post_id)) is not None:
                posts.append(p)
    return posts


def comment_post(raw: Any, root_post_id: str | None) -> Post | None:
    raw = as_dict(raw)
    cid = as_str(raw.get("id"))
    note_id = as_str(raw.get("note_id"))
    if not cid:
        return None
    user = as_dict(raw.get("user_info"))
    target = as_str(dig(raw, "target_comment", "id"))
    if root_post_id:
        parent_key: str | None = make_key(PLATFORM, root_post_id)
    elif target:
        parent_key = make_key(PLATFORM, f"c{target}")
    else:
        parent_key = make_key(PLATFORM, note_id) if note_id else None
    text = as_text(raw.get("content"))
    return Post(
        platform=PLATFORM,
        post_id=f"c{cid}",
        kind=PostKind.comment,
        url=note_url(note_id) if note_id else "",
        text=text,
        author_id=as_str(user.get("user_id")),
        author_name=as_str(user.get("nickname")),
        published_at=from_epoch(raw.get("create_time")),
        parent_key=parent_key,
        hashtags=tuple(hashtags_paired(text)),
        metrics=Metrics(likes=parse_count(raw.get("like_count")), comments=parse_count(raw.get("sub_comment_count"))),
    )
