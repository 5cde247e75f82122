"""Zhihu (知乎) API responses and page state -> Posts.

Shapes:
- search      /api/v4/search_v3  {paging, data[{type "search_result", highlight, object{type answer|article|question,
              id, content (HTML with <em>), question{id, name}, author{id, url_token, name}, created_time, ...}}]}
- lists       /api/v4/questions/<qid>/answers, /api/v4/members/<token>/answers|articles  {paging, data[answer|article]};
              /api/v4/questions/<qid>/feeds  {data[{target_type, target: answer}]}
- comments    /api/v4/comment_v5/(answers|articles)/<id>/root_comment and /comment_v5/comment/<id>/child_comment
              {paging, data[{id, type "comment", content, created_time, like_count, author{id, name}, child_comments}]}
- page state  <script id="js-initialData"> of a question/answer/article page: initialState.entities.{answers,articles}
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
    decode_body,
    from_epoch,
    join_text,
    load_json,
    parse_count,
    strip_html,
)

PLATFORM = "zhihu"
_INITIAL_DATA = re.compile(r'<script[^>]+id="js-initialData"[^>]*>(.*?)</script>', re.S)
_COMMENT_URL = re.compile(r"/comment_v5/(answers|articles|questions|pins|zvideos)/(\d+)/|/comment_v5/comment/(\d+)/")
_CONTENT_TYPES = ("answer", "article", "question")


def answer_url(qid: str | None, aid: str) -> str:
    return f"https://www.zhihu.com/question/{qid}/answer/{aid}" if qid else f"https://www.zhihu.com/answer/{aid}"


def parse(body: bytes | str, url: str = "", *, now: datetime | None = None) -> list[Post]:
    text = decode_body(body)
    if text.lstrip()[:1] == "<":
        return _parse_page(text)
    payload = load_json(text, "zhihu response")
    if not isinstance(payload, dict):
        raise UnknownShape("zhihu: expected a JSON object")
    if "error" in payload and "data" not in payload:
        err = as_dict(payload["error"])
        raise UnknownShape(f"zhihu: request refused: code {err.get('code')}: {str(err.get('message', ''))[:80]}")
    if not isinstance(payload.get("data"), list):
        raise UnknownShape(f"zhihu: unknown response shape (keys: {', '.join(sorted(payload)[:12])})")
    posts: list[Post] = []
    for item in map(as_dict, payload["data"]):
        kind = item.get("type")
        if kind == "search_result" or "object" in item:
            post = content_post(item.get("object"))
            posts.extend([post] if post else [])
        elif "target" in item:  # question feeds
            post = content_post(item.get("target"))
            posts.extend([post] if post else [])
        elif kind == "comment" or "child_comment_count" in item or "reply_to_author" in item:
            posts.extend(comment_posts(item, url))
        elif kind in _CONTENT_TYPES:
            post = content_post(item)
            posts.extend([post] if post else [])
        # relevant_query, knowledge_ad and other widgets carry no user text we index
    return posts


def _parse_page(html_text: str) -> list[Post]:
    m = _INITIAL_DATA.search(html_text)
    if not m:
        raise UnknownShape("zhihu: HTML page without js-initialData (a login wall or a verify page?)")
    state = load_json(m.group(1), "zhihu js-initialData")
    entities = as_dict(as_dict(as_dict(state).get("initialState")).get("entities"))
    posts: list[Post] = []
    for bucket in ("answers", "articles"):
        for entity in as_dict(entities.get(bucket)).values():
            post = content_post(entity)
            if post is not None:
                posts.append(post)
    return posts


def _author(obj: dict[str, Any]) -> tuple[str | None, str | None]:
    author = as_dict(obj.get("author"))
    member = as_dict(author.get("member")) or author  # v4 comments nest the author in `member`
    author_id = as_str(member.get("id")) or as_str(member.get("url_token")) or as_str(member.get("urlToken"))
    if author_id == "0":  # anonymous users
        author_id = None
    return author_id, as_str(member.get("name"))


def content_post(obj: Any) -> Post | None:
    obj = as_dict(obj)
    kind = obj.get("type")
    oid = as_str(obj.get("id"))
    if kind not in _CONTENT_TYPES or not oid:
        return None
    question = as_dict(obj.get("question"))
    qid = as_str(question.get("id"))
    author_id, author_name = _author(obj)
    body = strip_html(as_text(obj.get("content")) or as_text(obj.get("excerpt")) or as_text(obj.get("detail")))
    if kind == "answer":
        title = strip_html(as_text(question.get("title")) or as_text(question.get("name"))) or None
        url = answer_url(qid, oid)
    elif kind == "article":
        title = strip_html(as_text(obj.get("title"))) or None
        url = f"https://zhuanlan.zhihu.com/p/{oid}"
    else:
        title = strip_html(as_text(obj.get("title")) or as_text(obj.get("name"))) or None
        url = f"https://www.zhihu.com/question/{oid}"
    created = obj.get("created_time") or obj.get("createdTime") or obj.get("created")
    topics = [as_str(as_dict(t).get("name")) for t in as_list(obj.get("topics"))]
    return Post(
        platform=PLATFORM,
        # Answers, articles and questions have separate id spaces: prefix the latter two.
        post_id=oid if kind == "answer" else f"{kind[0]}{oid}",
        kind=PostKind.post,
        url=url,
        text=join_text(title, body),
        title=title,
        author_id=author_id,
        author_name=author_name,
        published_at=from_epoch(created),
        hashtags=tuple(t for t in topics if t),
        metrics=Metrics(
            likes=parse_count(obj.get("voteup_count", obj.get("voteupCount"))),
            comments=parse_count(obj.get("comment_count", obj.get("commentCount"))),
            collects=parse_count(obj.get("favlists_count")),
        ),
    )


def _parent_from_url(url: str) -> tuple[str | None, str | None]:
    """(parent key, page url) for comments, read from the comment API URL the spider requested."""
    m = _COMMENT_URL.search(url or "")
    if not m:
        return None, None
    if m.group(3):
        return make_key(PLATFORM, f"c{m.group(3)}"), None
    kind, oid = m.group(1), m.group(2)
    if kind == "answers":
        return make_key(PLATFORM, oid), answer_url(None, oid)
    if kind == "articles":
        return make_key(PLATFORM, f"a{oid}"), f"https://zhuanlan.zhihu.com/p/{oid}"
    if kind == "questions":
        return make_key(PLATFORM, f"q{oid}"), f"https://www.zhihu.com/question/{oid}"
    return None, None


def comment_posts(item: dict[str, Any], url: str) -> list[Post]:
    parent_key, page_url = _parent_from_url(url)
    root = comment_post(item, parent_key, page_url)
    if root is None:
        return []
    posts = [root]
    for child in as_list(item.get("child_comments")):
        post = comment_post(child, make_key(PLATFORM, root.post_id), page_url)
        if post is not None:
            posts.append(post)
    return posts


def comment_post(raw: Any, parent_key: str | None, page_url: str | None) -> Post | None:
    raw = as_dict(raw)
    cid = as_str(raw.get("id"))
    if not cid:
        return None
    root_id = as_str(raw.get("reply_root_comment_id"))
    if root_id and root_id not in ("0", cid):
        parent_key = make_key(PLATFORM, f"c{root_id}")
    author_id, author_name = _author(raw)
    return Post(
        platform=PLATFORM,
        post_id=f"c{cid}",
        kind=PostKind.comment,
        url=page_url or "",
        text=strip_html(as_text(raw.get("content"))),
        author_id=author_id,
        author_name=author_name,
        published_at=from_epoch(raw.get("created_time")),
        parent_key=parent_key,
        metrics=Metrics(
            likes=parse_count(raw.get("like_count", raw.get("vote_count"))),
            comments=parse_count(raw.get("child_comment_count")),
        ),
    )
