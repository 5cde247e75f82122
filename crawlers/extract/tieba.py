"""Baidu Tieba (百度贴吧) pages -> Posts. Tieba serves HTML, sometimes GBK, so this parser works on pages.

Shapes, detected by their markup:
- keyword search  tieba.baidu.com/f/search/res?qw=  div.s_post (title link with data-tid, p_content, p_forum, p_date)
- forum list      tieba.baidu.com/f?kw=             li.j_thread_list (inside commented-out pagelets) with data-tid
- thread detail   tieba.baidu.com/p/<tid>           div.l_post with a data-field JSON, d_post_content, tail-info
A thread is keyed by its tid (floor 1 carries the title); other floors are comments keyed c<pid> under it.
The forum (吧) name is recorded as the post's hashtag: forums are Tieba's topic system.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import unquote_to_bytes

from parsel import Selector, SelectorList

from core.records import Metrics, Post, PostKind, make_key
from crawlers.extract.common import (
    UnknownShape,
    as_dict,
    as_str,
    decode_html,
    hashtags_paired,
    join_text,
    parse_count,
    parse_time,
    strip_html,
)

PLATFORM = "tieba"
_COMMENT_MARK = re.compile(r"<!--|-->")
_FORUM_NAME = re.compile(r'"forum_name"\s*:\s*"((?:[^"\\]|\\.)+)"')
_KW = re.compile(r"[?&]kw=([^&#]+)")
_TID_URL = re.compile(r"/p/(\d+)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_GONE = ("该贴已被删除", "贴子已被删除", "该贴子已被删除", "很抱歉，该贴已被删除")
_BLOCK = ("wappass.baidu.com", "百度安全验证", "安全验证", "passport.baidu.com/v2/?login")


def thread_url(tid: str) -> str:
    return f"https://tieba.baidu.com/p/{tid}"


def _text(sel: Any) -> str:
    return strip_html(sel.get() or "") if sel else ""


def _attr(sel: Any, name: str) -> str | None:
    """One attribute of the first node; lxml raises on garbled attribute names, which hostile pages contain."""
    node = sel[0] if isinstance(sel, SelectorList) else sel
    if node is None:
        return None
    try:
        value = node.root.get(name)
    except (ValueError, KeyError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _field(raw: str | None) -> dict[str, Any]:
    """Tieba's data-field attributes hold JSON (parsel has already unescaped &quot;)."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _forum(name: str | None) -> tuple[str, ...]:
    name = (name or "").strip()
    if not name:
        return ()
    return (name if name.endswith("吧") else f"{name}吧",)


def _tags(forum: tuple[str, ...], text: str) -> tuple[str, ...]:
    """The forum first, then any #话题# written in the text."""
    return tuple(dict.fromkeys([*forum, *hashtags_paired(text)]))


def parse(body: bytes | str, url: str = "", *, now: datetime | None = None) -> list[Post]:
    # lxml refuses NUL and other control characters; they carry no text, so drop them.
    html_text = _CONTROL.sub("", decode_html(body))
    if not html_text.strip():
        raise UnknownShape("tieba: empty page (a soft block, not a result)")
    if (
        any(marker in html_text[:20000] for marker in _BLOCK)
        and "l_post" not in html_text
        and "s_post" not in html_text
    ):
        raise UnknownShape("tieba: captcha/verify or login page instead of content")
    if any(marker in html_text for marker in _GONE) and "l_post" not in html_text:
        return []  # the thread was deleted: a detail re-check reads this as "removed"
    if 'class="s_post"' in html_text or "class='s_post'" in html_text:
        return _search(Selector(text=html_text), now)
    if "j_thread_list" in html_text:
        # The thread list ships inside HTML comments (<code class="pagelet_html"><!-- ... -->) for a JS renderer.
        return _forum_list(_COMMENT_MARK.sub("", html_text), url, now)
    if "j_l_post" in html_text or "l_post" in html_text:
        return _thread(Selector(text=html_text), html_text, url, now)
    raise UnknownShape("tieba: unknown page (no search results, thread list or thread posts found)")


def _search(sel: Selector, now: datetime | None) -> list[Post]:
    posts: list[Post] = []
    for item in sel.css("div.s_post"):
        link = item.css("span.p_title a")
        tid = as_str(_attr(link, "data-tid")) if link else None
        if not tid or not tid.isdigit():
            continue
        title = _text(link) or None
        abstract = _text(item.css("div.p_content"))
        forum = _text(item.css("a.p_forum"))
        author = item.xpath(".//a[contains(@href, '/home/main')]")
        posts.append(
            Post(
                platform=PLATFORM,
                post_id=tid,
                kind=PostKind.post,
                url=thread_url(tid),
                text=join_text(title, abstract),
                title=title,
                author_name=_text(author[0]) if author else None,
                published_at=parse_time(_text(item.css(".p_date")), now),
                hashtags=_tags(_forum(forum), join_text(title, abstract)),
            )
        )
    return posts


def _page_forum(html_text: str, url: str) -> str | None:
    m = _FORUM_NAME.search(html_text)
    if m:
        try:
            return json.loads(f'"{m.group(1)}"')
        except ValueError:
            pass
    m = _KW.search(url or "")
    if m:
        raw = unquote_to_bytes(m.group(1))
        for enc in ("utf-8", "gb18030"):
            try:
                return raw.decode(enc)
            except UnicodeDecodeError:
                continue
    return None


def _forum_list(html_text: str, url: str, now: datetime | None) -> list[Post]:
    sel = Selector(text=html_text)
    forum = _forum(_page_forum(html_text, url))
    posts: list[Post] = []
    for li in sel.css("li.j_thread_list"):
        tid = as_str(_attr(li, "data-tid"))
        if not tid or not tid.isdigit():
            continue
        info = _field(_attr(li, "data-field"))
        link = li.css("a.j_th_tit")
        title = (_attr(link, "title") if link else None) or _text(link) or None
        abstract = _text(li.css("div.threadlist_abs"))
        author_field = _field(
            _attr(li.css("span.tb_icon_author"), "data-field") if li.css("span.tb_icon_author") else None
        )
        author_name = as_str(info.get("author_nickname")) or as_str(info.get("author_name"))
        created = li.css("span.is_show_create_time::text").get()
        posts.append(
            Post(
                platform=PLATFORM,
                post_id=tid,
                kind=PostKind.post,
                url=thread_url(tid),
                text=join_text(title, abstract),
                title=title,
                author_id=as_str(author_field.get("user_id")),
                author_name=author_name,
                published_at=parse_time(created, now),
                hashtags=_tags(forum, join_text(title, abstract)),
                metrics=Metrics(comments=parse_count(info.get("reply_num"))),
            )
        )
    return posts


def _thread(sel: Selector, html_text: str, url: str, now: datetime | None) -> list[Post]:
    title_sel = sel.css(".core_title_txt")
    title = (_attr(title_sel, "title") if title_sel else None) or _text(title_sel) or None
    forum = _forum(_page_forum(html_text, url) or (sel.css(".card_title_fname::text").get() or "").strip())
    tid = None
    m = _TID_URL.search(url or "")
    if m:
        tid = m.group(1)
    posts: list[Post] = []
    for node in sel.css("div.l_post"):
        field = _field(_attr(node, "data-field"))
        content = as_dict(field.get("content"))
        author = as_dict(field.get("author"))
        pid = as_str(content.get("post_id"))
        tid = tid or as_str(content.get("thread_id"))
        if not pid or not tid or not pid.isdigit() or not tid.isdigit():
            continue
        floor = parse_count(content.get("post_no"))
        tails = [t.strip() for t in node.css(".tail-info::text, .post-tail-wrap span::text").getall() if t.strip()]
        when = next((t for t in reversed(tails) if re.match(r"^\d{4}-\d{1,2}-\d{1,2}", t)), None)
        when = when or as_str(content.get("date"))
        text = _text(node.css(f"#post_content_{pid}")) or _text(node.css(".d_post_content"))
        name = (
            as_str(author.get("user_nickname")) or as_str(author.get("user_name")) or _text(node.css(".p_author_name"))
        )
        common: dict[str, Any] = {
            "platform": PLATFORM,
            "author_id": as_str(author.get("user_id")),
            "author_name": name or None,
            "published_at": parse_time(when, now),
            "hashtags": _tags(forum, join_text(title, text) if floor == 1 else text),
        }
        if floor == 1:
            posts.append(
                Post(
                    post_id=tid,
                    kind=PostKind.post,
                    url=thread_url(tid),
                    text=join_text(title, text),
                    title=title,
                    metrics=Metrics(comments=parse_count(content.get("comment_num"))),
                    **common,
                )
            )
        else:
            posts.append(
                Post(
                    post_id=f"c{pid}",
                    kind=PostKind.comment,
                    url=f"{thread_url(tid)}?pid={pid}#{pid}",
                    text=text,
                    parent_key=make_key(PLATFORM, tid),
                    metrics=Metrics(comments=parse_count(content.get("comment_num"))),
                    **common,
                )
            )
    if not posts:
        raise UnknownShape("tieba: thread page without readable posts (no data-field post ids)")
    return posts
