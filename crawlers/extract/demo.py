"""Pure parse functions for the demo site's RENDERED pages (after JavaScript ran): HTML in, Posts out."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urljoin

from parsel import Selector, SelectorList

from core.records import Metrics, Platform, Post, PostKind, make_key
from crawlers.extract.common import UnknownShape

_TAG = re.compile(r"#([^\s#]+)")


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _text(sel: Selector | SelectorList[Selector], css: str) -> str:
    return "".join(sel.css(css).xpath(".//text()").getall()).strip()


def parse_detail(html: str, url: str) -> list[Post]:
    """A rendered /video/<id> page -> [caption Post, comment Posts...]; UnknownShape when nothing rendered."""
    sel = Selector(text=html)
    art = sel.css("article.post[data-post-id]")
    if not art:
        raise UnknownShape("demo video page without a rendered post (did the JavaScript run?)")
    post_id = art.attrib["data-post-id"]
    author = art.css("a.author-link")
    metrics = {li.attrib.get("data-metric"): _int(li.attrib.get("data-value")) for li in art.css("[data-metric]")}
    text = _text(art, "[data-role=caption]")
    caption = Post(
        platform=Platform("demo"),
        post_id=post_id,
        kind=PostKind.caption,
        url=url,
        text=text,
        author_id=author.attrib.get("data-author-id") if author else art.attrib.get("data-author-id"),
        author_name=_text(art, "a.author-link").removeprefix("@") or None,
        published_at=_time(art.attrib.get("data-published")),
        hashtags=tuple(_TAG.findall(text)),
        media=tuple(urljoin(url, src) for src in art.css("[data-role=media] img::attr(src)").getall() if src),
        metrics=Metrics(
            likes=metrics.get("likes"),
            comments=metrics.get("comment_count"),
            shares=metrics.get("shares"),
            views=metrics.get("views"),
            collects=metrics.get("collects"),
        ),
    )
    posts = [caption]
    parent = make_key(Platform("demo").value, post_id)
    for li in sel.css("li.comment[data-comment-id]"):
        ctext = _text(li, ".comment-text")
        posts.append(
            Post(
                platform=Platform("demo"),
                post_id=li.attrib["data-comment-id"],
                kind=PostKind.comment,
                url=f"{url}#comment-{li.attrib['data-comment-id']}",
                text=ctext,
                author_id=li.attrib.get("data-author-id"),
                author_name=li.attrib.get("data-author-name"),
                published_at=_time(li.attrib.get("data-published")),
                parent_key=parent,
                hashtags=tuple(_TAG.findall(ctext)),
                metrics=Metrics(likes=_int(li.attrib.get("data-likes"))),
            )
        )
    return posts


def parse_author(html: str, url: str) -> list[Post]:
    """A rendered /user/<id> page -> [profile_bio Post] (none when the bio is empty)."""
    sel = Selector(text=html)
    box = sel.css("#profile[data-user-id]")
    if not box:
        raise UnknownShape("demo author page without a rendered profile (did the JavaScript run?)")
    user_id = box.attrib["data-user-id"]
    bio = _text(box, "[data-role=bio]")
    if not bio:
        return []
    return [
        Post(
            platform=Platform("demo"),
            post_id=f"user-{user_id}",
            kind=PostKind.profile_bio,
            url=url,
            text=bio,
            author_id=user_id,
            author_name=_text(box, "h1.name") or None,
        )
    ]


def parse(body: bytes | str, url: str = "") -> list[Post]:
    """Registry entry (crawlers.extract.parse): detect a rendered video or author page by its markup."""
    html = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    sel = Selector(text=html)
    if sel.css("article.post[data-post-id]"):
        return parse_detail(html, url)
    if sel.css("#profile[data-user-id]"):
        return parse_author(html, url)
    raise UnknownShape("not a rendered demo video or author page")


def feed_links(html: str, url: str) -> tuple[list[str], list[str]]:
    """(video URLs, author URLs) on a rendered feed page, in page order, without repeats."""
    sel = Selector(text=html)
    videos: dict[str, None] = {}
    authors: dict[str, None] = {}
    for card in sel.css("a.card[data-post-id]"):
        videos.setdefault(urljoin(url, card.attrib.get("href", "")), None)
        for aid in card.css("[data-author-id]::attr(data-author-id)").getall():
            authors.setdefault(urljoin(url, f"/user/{aid}"), None)
    return list(videos), list(authors)


def feed_cards(html: str, url: str) -> list[tuple[str, str | None]]:
    """(video URL, author URL or None) per card on a rendered feed page, in page order, without repeats."""
    out: dict[str, str | None] = {}
    for card in Selector(text=html).css("a.card[data-post-id]"):
        aid = card.css("[data-author-id]::attr(data-author-id)").get()
        out.setdefault(urljoin(url, card.attrib.get("href", "")), urljoin(url, f"/user/{aid}") if aid else None)
    return list(out.items())


def author_links(html: str, url: str) -> list[str]:
    """Absolute author-page URLs linked from a rendered detail page (the post's author)."""
    return [urljoin(url, h) for h in Selector(text=html).css("a.author-link::attr(href)").getall()]


def video_links(html: str, url: str) -> list[str]:
    """Absolute /video/<id> URLs on a rendered feed or author page, in page order, without repeats."""
    seen: dict[str, None] = {}
    for h in Selector(text=html).css("a[href^='/video/']::attr(href)").getall():
        seen.setdefault(urljoin(url, h), None)
    return list(seen)
