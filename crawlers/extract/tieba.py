"""Baidu Tieba (百度贴吧) pages -> Posts. Tieba serves HTML, sometimes GBK, so this parser works on pages.

Shapes, detected by their markup:
- keyword search  tieba.baidu.com/f/search/res?qw=  div.s_post (title link with data-tid, p_content, p_forum, p_date)
- forum list      tieba.baidu.com/f?kw=             li.j_thread_list (inside commented-out pagelets) with data-tid
- thread detail   tieba.baidu.com/p/<tid>           div.l_post with a data-field JSON, d_post_content, tail-info
- 楼中楼 fragment   tieba.baidu.com/p/comment?tid=&pid=  li.lzl_single_post (data-field spid), lzl_content_main
JSON endpoints the web client reads today (tried first; HTML stays the fallback):
- /mo/q/search/multsearch   {no, error, data{post_list[{tid, pid, title, content, time, forum_name, user}]}}
- /c/f/pb/page_pc           {error_code, forum, thread{id, title, reply_num}, post_list[{id, floor, time, author_id,
                             content[{type, text|origin_src}], sub_post_list{sub_post_list[...]}}], user_list}
- /c/f/frs/page_pc          {error_code, forum{name}, thread_list[{id, title, reply_num, create_time, author,
                             abstract[], media[]}], user_list}
- /p/totalComment           {errno, data{comment_list{pid: {comment_info[{comment_id, post_id, user_id, username,
                             content, now_time}]}}}}
A thread is keyed by its tid (floor 1 carries the title); other floors are comments keyed c<pid> under it, and
楼中楼 sub-replies are comments keyed c<spid> under their floor. A search hit that is a reply ("回复：…") is keyed
by its pid, not its thread's. Images in a floor become its media: an image-only floor is a post with media, and
UI strings such as 点击展开，查看完整图片 never enter a post's text.
The forum (吧) name is recorded as the post's hashtag: forums are Tieba's topic system.
Short dates ("7-6", "00:10") are read against the page's own time when it carries one (the date in its image
tokens, tbpicau=YYYY-MM-DD-HH), never the wall clock.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from typing import Any
from urllib.parse import unquote_to_bytes

from parsel import Selector, SelectorList

from core.records import Metrics, Post, PostKind, make_key
from crawlers.extract.common import (
    CST,
    UnknownShape,
    as_dict,
    as_list,
    as_str,
    as_text,
    decode_html,
    from_epoch,
    hashtags_paired,
    join_text,
    load_json,
    looks_like_json,
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
# Expand/collapse labels Tieba writes into floors and abstracts; they are page chrome, not what anyone posted.
_UI_TEXT = re.compile(r"点击展开[，,]?\s*查看完整图片|点击展开，查看完整内容|查看完整图片|收起回复|展开全文")
_PICAU = re.compile(r"tbpicau=(\d{4})-(\d{2})-(\d{2})-(\d{2})")
_REPLY_TITLE = re.compile(r"^\s*回复[：:]")
_PID = re.compile(r"[?&]pid=(\d+)")
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


def _clean(text: str) -> str:
    return _UI_TEXT.sub("", text).strip()


def recorded_time(html_text: str) -> datetime | None:
    """When the page was served, as its image tokens state it: the commonest tbpicau date-hour (China time);
    a few images carry stray older or later tokens, the bulk is stamped at serving time."""
    counts = Counter(_PICAU.findall(html_text[:2_000_000]))
    for (y, mo, d, h), _n in counts.most_common():
        try:
            return datetime(int(y), int(mo), int(d), int(h), tzinfo=CST)
        except ValueError:
            continue
    return None


def parse(body: bytes | str, url: str = "", *, now: datetime | None = None) -> list[Post]:
    if looks_like_json(body):
        return _json(load_json(body, "tieba response"), url)
    # lxml refuses NUL and other control characters; they carry no text, so drop them.
    html_text = _CONTROL.sub("", decode_html(body))
    if not html_text.strip():
        raise UnknownShape("tieba: empty page (a soft block, not a result)")
    now = now or recorded_time(html_text)
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
    if "lzl_single_post" in html_text:
        return _lzl_fragment(Selector(text=html_text), url, now)
    raise UnknownShape("tieba: unknown page (no search results, thread list or thread posts found)")


def _search(sel: Selector, now: datetime | None) -> list[Post]:
    posts: list[Post] = []
    for item in sel.css("div.s_post"):
        link = item.css("span.p_title a")
        tid = as_str(_attr(link, "data-tid")) if link else None
        if not tid or not tid.isdigit():
            continue
        title = _text(link) or None
        abstract = _clean(_text(item.css("div.p_content")))
        forum = _text(item.css("a.p_forum"))
        author = item.xpath(".//a[contains(@href, '/home/main')]")
        pid_match = _PID.search(_attr(link, "href") or "")
        reply = bool(title and _REPLY_TITLE.match(title) and pid_match)
        posts.append(
            Post(
                platform=PLATFORM,
                post_id=f"c{pid_match.group(1)}" if reply and pid_match else tid,
                kind=PostKind.comment if reply else PostKind.post,
                url=f"{thread_url(tid)}?pid={pid_match.group(1)}#{pid_match.group(1)}"
                if reply and pid_match
                else thread_url(tid),
                parent_key=make_key(PLATFORM, tid) if reply else None,
                text=abstract if reply else join_text(title, abstract),
                title=None if reply else title,
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
        abstract = _clean(_text(li.css("div.threadlist_abs")))
        media = tuple(
            dict.fromkeys(
                u for img in li.css("img.threadlist_pic") if (u := _attr(img, "bpic") or _attr(img, "data-original"))
            )
        )
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
                media=media,
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
        body_sel = node.css(f"#post_content_{pid}") or node.css(".d_post_content")
        text = _clean(_text(body_sel))
        media = tuple(dict.fromkeys(u for img in body_sel.css("img.BDE_Image") if (u := _attr(img, "src"))))
        name = (
            as_str(author.get("user_nickname")) or as_str(author.get("user_name")) or _text(node.css(".p_author_name"))
        )
        common: dict[str, Any] = {
            "platform": PLATFORM,
            "author_id": as_str(author.get("user_id")),
            "author_name": name or None,
            "published_at": parse_time(when, now),
            "media": media,
        }
        # floor 1 counts the thread's replies, not its own 楼中楼
        replies = _thread_replies(html_text) if floor == 1 else parse_count(content.get("comment_num"))
        posts.append(_floor_post(tid, pid, floor, title, text, forum, replies, common))
    if not posts:
        raise UnknownShape("tieba: thread page without readable posts (no data-field post ids)")
    return posts


_REPLY_NUM = re.compile(r'"thread"\s*:\s*\{[^{}]*?"reply_num"\s*:\s*"?(\d+)')


def _thread_replies(html_text: str) -> int | None:
    m = _REPLY_NUM.search(html_text)
    return int(m.group(1)) if m else None


def _lzl_fragment(sel: Selector, url: str, now: datetime | None) -> list[Post]:
    """The /p/comment?tid=&pid= fragment: one floor's 楼中楼 sub-replies, parented to that floor."""
    tid = _query(url, "tid")
    pid = _query(url, "pid")
    posts: list[Post] = []
    for li in sel.css("li.lzl_single_post"):
        field = _field(_attr(li, "data-field"))
        spid = as_str(field.get("spid"))
        if not spid or not spid.isdigit():
            continue
        text = _clean(_text(li.css(".lzl_content_main")))
        posts.append(
            _sub_reply(
                spid,
                text,
                tid,
                pid,
                field.get("user_id"),
                as_str(field.get("showname")) or as_str(field.get("user_name")),
                parse_time(_text(li.css(".lzl_time")), now),
            )
        )
    return posts


def _query(url: str, name: str) -> str | None:
    m = re.search(rf"[?&]{name}=(\d+)", url or "")
    return m.group(1) if m else None


def _sub_reply(
    spid: str,
    text: str,
    tid: str | None,
    pid: str | None,
    author_id: Any,
    author_name: str | None,
    when: datetime | None,
) -> Post:
    return Post(
        platform=PLATFORM,
        post_id=f"c{spid}",
        kind=PostKind.comment,
        url=f"{thread_url(tid)}?pid={spid}#{spid}" if tid else "",
        text=text,
        author_id=as_str(author_id),
        author_name=author_name or None,
        published_at=when,
        parent_key=make_key(PLATFORM, f"c{pid}") if pid else (make_key(PLATFORM, tid) if tid else None),
        hashtags=tuple(hashtags_paired(text)),
    )


# --------------------------------------------------------------------------- JSON endpoints


def _json(payload: Any, url: str) -> list[Post]:
    if not isinstance(payload, dict):
        raise UnknownShape("tieba: expected a JSON object")
    code = payload.get("error_code", payload.get("no", payload.get("errno", 0)))
    if str(code) not in ("0", "None"):
        msg = as_str(payload.get("error_msg")) or as_str(payload.get("error")) or ""
        raise UnknownShape(f"tieba: refused with code {code} {msg[:80]} (a block or login wall, not a result)")
    if "post_list" in payload and "thread" in payload:
        return _pb_page(payload)
    if "thread_list" in payload:
        return _frs_page(payload)
    data = as_dict(payload.get("data"))
    if "post_list" in data:
        return _multsearch(data)
    if "comment_list" in data:
        return _total_comment(data, url)
    keys = ", ".join(sorted(payload)[:12])
    raise UnknownShape(f"tieba: unknown JSON response (keys: {keys})")


def _users(payload: dict[str, Any]) -> dict[str, tuple[str | None, str | None]]:
    users: dict[str, tuple[str | None, str | None]] = {}
    for raw in map(as_dict, as_list(payload.get("user_list"))):
        if uid := as_str(raw.get("id")):
            users[uid] = (uid, as_str(raw.get("name_show")) or as_str(raw.get("name")))
    return users


def _author(raw: dict[str, Any], users: dict[str, tuple[str | None, str | None]]) -> tuple[str | None, str | None]:
    author = as_dict(raw.get("author"))
    uid = as_str(author.get("id")) or as_str(raw.get("author_id"))
    name = as_str(author.get("name_show")) or as_str(author.get("name"))
    if uid and not name and uid in users:
        name = users[uid][1]
    return uid, name


def _content(parts: Any) -> tuple[str, tuple[str, ...]]:
    """Text and image URLs of a content array: 0 text, 1 link, 2 emoticon, 3 image, 4 @mention, 9 phone, 18 topic."""
    texts: list[str] = []
    images: list[str] = []
    for part in map(as_dict, as_list(parts)):
        kind = str(part.get("type", ""))
        if kind == "3":
            if src := (as_str(part.get("origin_src")) or as_str(part.get("big_cdn_src")) or as_str(part.get("src"))):
                images.append(src)
        elif kind == "2":
            texts.append(f"[{as_text(part.get('c'))}]" if as_text(part.get("c")) else "")
        else:
            texts.append(as_text(part.get("text")))
    return _clean("".join(texts)), tuple(dict.fromkeys(images))


def _pb_page(payload: dict[str, Any]) -> list[Post]:
    users = _users(payload)
    thread = as_dict(payload.get("thread"))
    tid = as_str(thread.get("id")) or as_str(thread.get("tid"))
    if not tid:
        raise UnknownShape("tieba: page_pc without a thread id")
    title = as_text(thread.get("title")) or None
    forum = _forum(as_str(as_dict(payload.get("forum")).get("name")))
    posts: list[Post] = []
    for raw in map(as_dict, as_list(payload.get("post_list"))):
        pid = as_str(raw.get("id"))
        if not pid:
            continue
        text, media = _content(raw.get("content"))
        uid, name = _author(raw, users)
        floor = parse_count(raw.get("floor"))
        common: dict[str, Any] = {
            "platform": PLATFORM,
            "author_id": uid,
            "author_name": name,
            "published_at": from_epoch(raw.get("time")),
            "media": media,
        }
        replies = parse_count(thread.get("reply_num") if floor == 1 else raw.get("sub_post_number"))
        posts.append(_floor_post(tid, pid, floor, title, text, forum, replies, common))
        subs = as_dict(raw.get("sub_post_list")).get("sub_post_list")
        for sub in map(as_dict, as_list(subs)):
            if spid := as_str(sub.get("id")):
                sub_text, _ = _content(sub.get("content"))
                s_uid, s_name = _author(sub, users)
                # 楼中楼 under floor 1 hang under the thread itself, which floor 1 stands for.
                parent = tid if floor == 1 else None
                posts.append(
                    _sub_reply(spid, sub_text, tid, None if parent else pid, s_uid, s_name, from_epoch(sub.get("time")))
                )
    return posts


def _frs_page(payload: dict[str, Any]) -> list[Post]:
    users = _users(payload)
    forum = _forum(as_str(as_dict(payload.get("forum")).get("name")))
    posts: list[Post] = []
    for raw in map(as_dict, as_list(payload.get("thread_list"))):
        tid = as_str(raw.get("tid")) or as_str(raw.get("id"))
        if not tid:
            continue
        title = as_text(raw.get("title")) or None
        abstract, _ = _content(raw.get("abstract"))
        media = tuple(
            dict.fromkeys(
                u
                for m in map(as_dict, as_list(raw.get("media")))
                if (u := as_str(m.get("big_pic")) or as_str(m.get("src_pic")))
            )
        )
        uid, name = _author(raw, users)
        posts.append(
            Post(
                platform=PLATFORM,
                post_id=tid,
                kind=PostKind.post,
                url=thread_url(tid),
                text=join_text(title, abstract),
                title=title,
                author_id=uid,
                author_name=name,
                published_at=from_epoch(raw.get("create_time")),
                hashtags=_tags(forum, join_text(title, abstract)),
                metrics=Metrics(comments=parse_count(raw.get("reply_num")), views=parse_count(raw.get("view_num"))),
                media=media,
            )
        )
    return posts


def _multsearch(data: dict[str, Any]) -> list[Post]:
    posts: list[Post] = []
    for raw in map(as_dict, as_list(data.get("post_list"))):
        tid = as_str(raw.get("tid"))
        if not tid:
            continue
        pid = as_str(raw.get("pid"))
        title = strip_html(as_text(raw.get("title"))) or None
        body = _clean(strip_html(as_text(raw.get("content"))))
        user = as_dict(raw.get("user"))
        reply = bool(pid and title and _REPLY_TITLE.match(title))
        forum = _forum(as_str(raw.get("forum_name")) or as_str(raw.get("fname")))
        posts.append(
            Post(
                platform=PLATFORM,
                post_id=f"c{pid}" if reply else tid,
                kind=PostKind.comment if reply else PostKind.post,
                url=f"{thread_url(tid)}?pid={pid}#{pid}" if reply else thread_url(tid),
                parent_key=make_key(PLATFORM, tid) if reply else None,
                text=body if reply else join_text(title, body),
                title=None if reply else title,
                author_id=as_str(user.get("id")) or as_str(user.get("user_id")),
                author_name=as_str(user.get("show_nickname")) or as_str(user.get("user_name")),
                published_at=from_epoch(raw.get("time")),
                hashtags=_tags(forum, body if reply else join_text(title, body)),
                metrics=Metrics(comments=parse_count(raw.get("post_num"))),
            )
        )
    return posts


def _total_comment(data: dict[str, Any], url: str) -> list[Post]:
    """/p/totalComment: every floor's first 楼中楼 page at once, keyed by the floor's pid."""
    tid = _query(url, "tid")
    users = as_dict(data.get("user_list"))
    posts: list[Post] = []
    for floor_pid, block in as_dict(data.get("comment_list")).items():
        for raw in map(as_dict, as_list(as_dict(block).get("comment_info"))):
            spid = as_str(raw.get("comment_id"))
            if not spid:
                continue
            uid = as_str(raw.get("user_id"))
            name = as_str(as_dict(users.get(uid or "")).get("nickname")) or as_str(raw.get("username"))
            text = _clean(strip_html(as_text(raw.get("content"))))
            posts.append(
                _sub_reply(
                    spid,
                    text,
                    tid or as_str(raw.get("thread_id")),
                    str(floor_pid),
                    uid,
                    name,
                    from_epoch(raw.get("now_time")),
                )
            )
    return posts


def _floor_post(
    tid: str,
    pid: str,
    floor: int | None,
    title: str | None,
    text: str,
    forum: tuple[str, ...],
    replies: int | None,
    common: dict[str, Any],
) -> Post:
    """One floor of a thread, from the HTML page or the JSON answer alike: floor 1 stands for the thread (its title
    and text, the thread's reply count); any other floor is a comment under it."""
    if floor == 1:
        body = join_text(title, text)
        return Post(
            post_id=tid,
            kind=PostKind.post,
            url=thread_url(tid),
            text=body,
            title=title,
            hashtags=_tags(forum, body),
            metrics=Metrics(comments=replies),
            **common,
        )
    return Post(
        post_id=f"c{pid}",
        kind=PostKind.comment,
        url=f"{thread_url(tid)}?pid={pid}#{pid}",
        text=text,
        parent_key=make_key(PLATFORM, tid),
        hashtags=_tags(forum, text),
        metrics=Metrics(comments=replies),
        **common,
    )
