"""Extraction from the demo site's rendered pages (the markup app.js writes), without a browser."""

from datetime import datetime, timezone

import pytest

from crawlers.extract import parse
from crawlers.extract.common import UnknownShape
from crawlers.extract.demo import feed_links, parse_author, parse_detail

VIDEO = """<html><body data-page="video"><div id="detail" data-state="ready">
<article class="post" data-post-id="7001" data-author-id="42" data-published="2026-11-20T20:09:00+08:00">
<header class="meta"><a class="author-link" href="/user/42" data-author-id="42">@上岸老李</a> ·
<time class="published">2026-11-20 20:09 (北京时间)</time></header>
<p class="caption" data-role="caption">征.信花了？&lt;script&gt;alert(1)&lt;/script&gt; 加薇❤ qy888 #负债</p>
<ul class="metrics"><li data-metric="likes" data-value="10675">赞 1.1万</li>
<li data-metric="comment_count" data-value="2">评论 2</li><li data-metric="views" data-value="715154">播放</li></ul>
</article></div>
<section id="comments" data-done="1"><ul class="comment-list">
<li class="comment" data-comment-id="9001" data-author-id="7" data-author-name="北漂十年"
 data-published="2026-11-20T22:18:00+08:00" data-likes="273"><p class="comment-text">上次信了一个，钱没了</p></li>
<li class="comment" data-comment-id="9002" data-author-id="8" data-author-name="a&amp;b"
 data-published="2026-11-21T01:00:00+08:00" data-likes="0"><p class="comment-text">需要的扣1</p></li>
</ul></section></body></html>"""

PROFILE = """<html><body data-page="user"><section id="profile" data-state="ready" data-user-id="42">
<h1 class="name" data-author-id="42">上岸老李</h1><p class="bio" data-role="bio">专注停息挂账8年｜🐧 3623259758</p>
</section></body></html>"""


def test_video_page_gives_caption_and_comments():
    posts = parse_detail(VIDEO, "http://127.0.0.1:5555/video/7001")
    caption, *comments = posts
    assert caption.key == "demo:7001" and caption.kind.value == "caption"
    assert caption.url == "http://127.0.0.1:5555/video/7001"
    assert caption.text.startswith("征.信花了？<script>")  # text as published, markup unescaped but inert
    assert caption.author_name == "上岸老李" and caption.author_id == "42"
    assert caption.published_at == datetime(2026, 11, 20, 12, 9, tzinfo=timezone.utc)
    assert caption.metrics.likes == 10675 and caption.metrics.views == 715154
    assert caption.hashtags == ("负债",)
    assert [c.post_id for c in comments] == ["9001", "9002"]
    assert all(c.parent_key == "demo:7001" and c.kind.value == "comment" for c in comments)
    assert comments[1].author_name == "a&b"
    assert comments[0].published_at == datetime(2026, 11, 20, 14, 18, tzinfo=timezone.utc)


def test_profile_bio_is_a_post():
    (bio,) = parse_author(PROFILE, "http://127.0.0.1:5555/user/42")
    assert bio.key == "demo:user-42" and bio.kind.value == "profile_bio"
    assert "3623259758" in bio.text


def test_unrendered_pages_are_an_unknown_shape():
    with pytest.raises(UnknownShape):
        parse_detail('<div id="detail" data-state="loading"></div>', "http://x/video/1")
    with pytest.raises(UnknownShape):
        parse_author('<section id="profile" data-state="loading"></section>', "http://x/user/1")
    with pytest.raises(UnknownShape):
        parse("demo", b"<html>hello</html>", "http://x/")


def test_registry_dispatches_demo_pages():
    assert [p.post_id for p in parse("demo", VIDEO.encode(), "http://h/video/7001")] == ["7001", "9001", "9002"]
    assert [p.post_id for p in parse("demo", PROFILE, "http://h/user/42")] == ["user-42"]


def test_feed_links_are_deduplicated():
    html = """<div id="feed"><a class="card" href="/video/1" data-post-id="1"><div class="by" data-author-id="9">x</div></a>
    <a class="card" href="/video/2" data-post-id="2"><div class="by" data-author-id="9">y</div></a>
    <a class="card" href="/video/1" data-post-id="1"></a></div>"""
    videos, authors = feed_links(html, "http://h:1/")
    assert videos == ["http://h:1/video/1", "http://h:1/video/2"]
    assert authors == ["http://h:1/user/9"]
