"""Weibo (微博) mobile/web API responses and the m.weibo.cn detail page -> Posts.

Shapes:
- container   m.weibo.cn/api/container/getIndex (user timeline, keyword search 100103type=1)
              {ok, data{cardlistInfo, cards[{card_type 9, mblog} | {card_type 11, card_group[...]}]}}
- detail      m.weibo.cn/statuses/show?id=  {ok, data: mblog};  m.weibo.cn/detail/<mid> page: `$render_data = [{status}]`
- creator     weibo.com/ajax/statuses/mymblog  {ok, data{list[mblog]}}
- comments    m.weibo.cn/comments/hotflow  {ok, data{data[comment{..., comments[...]}], max_id}};
              comments/hotFlowChild  {ok, data[comment], rootComment[...]}
- long text   m.weibo.cn/statuses/extend?id= / weibo.com/ajax/statuses/longtext?id=  {ok, data{longTextContent}}
Truncated posts have isLongText=true: `long_text_ids(body)` lists the mids a spider should expand; the parsed
text then drops the "全文" link. The long-text response itself parses to a Post with the same key, so the
expanded text supersedes the truncated one downstream.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

from core.records import Metrics, Post, PostKind, make_key
from crawlers.extract.common import (
    UnknownShape,
    as_dict,
    as_list,
    as_str,
    as_text,
    decode_body,
    hashtags_paired,
    load_json,
    parse_count,
    parse_time,
    strip_html,
)

PLATFORM = "weibo"
_FULL_TEXT_LINK = re.compile(r"(?:\.\.\.|…)?\s*<a[^>]*>\s*全文\s*</a>\s*$")
_RENDER_DATA = re.compile(r"\$render_data\s*=\s*")


def detail_url(mid: str) -> str:
    return f"https://m.weibo.cn/detail/{mid}"


def parse(body: bytes | str, url: str = "", *, now: datetime | None = None) -> list[Post]:
    text = decode_body(body)
    render = _RENDER_DATA.search(text)
    if render and text.lstrip()[:1] not in "{[":
        return _parse_render_data(text[render.end() :], now)
    payload = load_json(text, "weibo response")
    if not isinstance(payload, dict):
        raise UnknownShape("weibo: expected a JSON object")
    ok = payload.get("ok")
    if ok not in (None, 1, True):
        msg = str(payload.get("msg", ""))[:80]
        if ok == 0 and ("还没有内容" in msg or "暂无" in msg):
            return []  # the platform's own "nothing here"; detect_soft_block decides whether that is plausible
        if ok == 0 and any(word in msg for word in ("不存在", "删除", "无法查看")):
            return []  # the post is gone (deleted or hidden): a detail re-check reads this as "removed"
        raise UnknownShape(f"weibo: request refused (ok={ok}, msg={msg!r})")
    data = payload.get("data")
    if isinstance(data, dict):
        if "cards" in data:
            return _cards(data["cards"], now)
        if "longTextContent" in data:
            return _long_text(data, url, now, payload)
        if isinstance(data.get("data"), list):  # hotflow comments
            return comment_posts(data["data"], url, now)
        if isinstance(data.get("list"), list):  # PC ajax timeline
            return _mblogs(data["list"], now)
        if "mid" in data or ("id" in data and "user" in data):  # statuses/show
            return _mblogs([data], now)
    if isinstance(data, list):  # hotFlowChild: replies under one root comment
        root = as_list(payload.get("rootComment"))
        root_id = as_str(as_dict(root[0]).get("id")) if root else None
        return comment_posts(data, url, now, root_id=root_id)
    keys = ", ".join(sorted(as_dict(data) or payload)[:12])
    raise UnknownShape(f"weibo: unknown response shape (keys: {keys})")


def _parse_render_data(tail: str, now: datetime | None) -> list[Post]:
    try:
        value, _ = json.JSONDecoder().raw_decode(tail.lstrip())
    except json.JSONDecodeError as exc:
        raise UnknownShape(f"weibo: detail page $render_data is truncated or broken ({exc.msg})") from exc
    first = as_dict(value[0]) if isinstance(value, list) and value else as_dict(value)
    status = first.get("status")
    if not isinstance(status, dict):
        raise UnknownShape("weibo: detail page without a status object")
    return _mblogs([status], now)


def _cards(cards: Any, now: datetime | None) -> list[Post]:
    mblogs = []
    for card in map(as_dict, as_list(cards)):
        if isinstance(card.get("mblog"), dict):
            mblogs.append(card["mblog"])
        for inner in map(as_dict, as_list(card.get("card_group"))):
            if isinstance(inner.get("mblog"), dict):
                mblogs.append(inner["mblog"])
    return _mblogs(mblogs, now)


def _mblogs(mblogs: list[Any], now: datetime | None) -> list[Post]:
    posts: list[Post] = []
    seen: set[str] = set()
    for mblog in mblogs:
        for candidate in (mblog, as_dict(mblog).get("retweeted_status")):
            post = mblog_post(candidate, now)
            if post is not None and post.key not in seen:
                seen.add(post.key)
                posts.append(post)
    return posts


def mblog_text(mblog: dict[str, Any]) -> str:
    """Visible text of a post: longTextContent when embedded, else `text` (HTML) or PC's `text_raw`."""
    long_text = as_dict(mblog.get("longText")).get("longTextContent")
    if isinstance(long_text, str) and long_text:
        return strip_html(long_text)
    html_text = mblog.get("text")
    if isinstance(html_text, str) and html_text:
        return strip_html(_FULL_TEXT_LINK.sub("", html_text))
    raw = mblog.get("text_raw")
    return raw.strip() if isinstance(raw, str) else ""


def mblog_post(mblog: Any, now: datetime | None) -> Post | None:
    mblog = as_dict(mblog)
    mid = as_str(mblog.get("mid")) or as_str(mblog.get("idstr")) or as_str(mblog.get("id"))
    if not mid or not mid.isdigit():
        return None
    user = as_dict(mblog.get("user"))
    text = mblog_text(mblog)
    pics = [as_str(as_dict(p).get("url")) for p in as_list(mblog.get("pics"))]
    return Post(
        platform=PLATFORM,
        post_id=mid,
        kind=PostKind.post,
        url=detail_url(mid),
        text=text,
        author_id=as_str(user.get("idstr")) or as_str(user.get("id")),
        author_name=as_str(user.get("screen_name")),
        published_at=parse_time(mblog.get("created_at"), now),
        hashtags=tuple(hashtags_paired(text)),
        metrics=Metrics(
            likes=parse_count(mblog.get("attitudes_count")),
            comments=parse_count(mblog.get("comments_count")),
            shares=parse_count(mblog.get("reposts_count")),
        ),
        media=tuple(p for p in pics if p),
    )


def long_text_ids(body: bytes | str) -> list[str]:
    """Mids of truncated posts (isLongText without embedded long text) that a spider should expand."""
    try:
        payload = load_json(body, "weibo response")
    except UnknownShape:
        return []
    found: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("isLongText") and not as_dict(node.get("longText")).get("longTextContent"):
                mid = as_str(node.get("mid")) or as_str(node.get("id"))
                if mid and mid not in found:
                    found.append(mid)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(payload)
    return found


def _id_from_url(url: str) -> str | None:
    parsed = urlparse(url or "")
    query = parse_qs(parsed.query)
    for key in ("id", "mid"):
        if query.get(key) and query[key][0].isdigit():
            return query[key][0]
    tail = parsed.path.rstrip("/").rsplit("/", 1)[-1]
    return tail if tail.isdigit() else None


def _long_text(data: dict[str, Any], url: str, now: datetime | None, envelope: dict[str, Any]) -> list[Post]:
    # A saved response has no request URL: the id then comes from the JSON (data.id/mid/idstr, or the envelope).
    mid = (
        as_str(data.get("mid"))
        or as_str(data.get("id"))
        or as_str(data.get("idstr"))
        or _id_from_url(url)
        or next((v for k in ("id", "mid") if (v := as_str(envelope.get(k))) and v.isdigit()), None)
    )
    if not mid:
        raise UnknownShape("weibo: long-text response without an id (pass the request URL with ?id=<mid>)")
    text = strip_html(as_text(data.get("longTextContent")))
    return [
        Post(
            platform=PLATFORM,
            post_id=mid,
            kind=PostKind.post,
            url=detail_url(mid),
            text=text,
            hashtags=tuple(hashtags_paired(text)),
            metrics=Metrics(
                likes=parse_count(data.get("attitudes_count")),
                comments=parse_count(data.get("comments_count")),
                shares=parse_count(data.get("reposts_count")),
            ),
        )
    ]


def comment_posts(comments: Any, url: str, now: datetime | None, root_id: str | None = None) -> list[Post]:
    posts: list[Post] = []
    page_mid = _id_from_url(url)
    for raw in as_list(comments):
        post = comment_post(raw, page_mid, root_id, now)
        if post is None:
            continue
        posts.append(post)
        for reply in as_list(as_dict(raw).get("comments")):  # `false` when there are no inline replies
            reply_post = comment_post(reply, page_mid, as_str(as_dict(raw).get("id")), now)
            if reply_post is not None:
                posts.append(reply_post)
    return posts


def comment_post(raw: Any, page_mid: str | None, root_id: str | None, now: datetime | None) -> Post | None:
    raw = as_dict(raw)
    cid = as_str(raw.get("id")) or as_str(raw.get("idstr"))
    if not cid:
        return None
    mid = as_str(raw.get("mid")) if not root_id else None
    status_mid = as_str(as_dict(raw.get("status")).get("mid")) or page_mid
    parent_root = root_id or (as_str(raw.get("rootid")) if as_str(raw.get("rootid")) not in (None, cid) else None)
    if parent_root:
        parent_key: str | None = make_key(PLATFORM, f"c{parent_root}")
    else:
        post_mid = mid if mid and mid != cid else status_mid
        parent_key = make_key(PLATFORM, post_mid) if post_mid else None
    user = as_dict(raw.get("user"))
    text = strip_html(as_text(raw.get("text")))
    return Post(
        platform=PLATFORM,
        post_id=f"c{cid}",
        kind=PostKind.comment,
        url=detail_url(status_mid) if status_mid else "",
        text=text,
        author_id=as_str(user.get("idstr")) or as_str(user.get("id")),
        author_name=as_str(user.get("screen_name")),
        published_at=parse_time(raw.get("created_at"), now),
        parent_key=parent_key,
        hashtags=tuple(hashtags_paired(text)),
        metrics=Metrics(likes=parse_count(raw.get("like_count")), comments=parse_count(raw.get("total_number"))),
    )


def merge_long_texts(posts: list[Post]) -> list[Post]:
    """Fold each expanded long text into the truncated post it expands (same key): the full text with the
    author, time and URL the truncated post knew. Posts keep the order their key first appeared in."""
    merged: dict[str, Post] = {}
    for post in posts:
        known = merged.get(post.key)
        if known is None:
            merged[post.key] = post
            continue
        full, short = (post, known) if len(post.text) >= len(known.text) else (known, post)
        merged[post.key] = short.model_copy(
            update={
                "text": full.text,
                "hashtags": tuple(dict.fromkeys([*short.hashtags, *full.hashtags])),
                "author_id": short.author_id or full.author_id,
                "author_name": short.author_name or full.author_name,
                "published_at": short.published_at or full.published_at,
            }
        )
    return list(merged.values())
