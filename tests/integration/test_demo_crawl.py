"""The demo crawl for real: the demo site on loopback, Scrapy + Playwright driving Debian chromium."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from core.evidence import item_crop_path, read_location, screenshot_path
from core.settings import Settings
from core.spool import Spool
from crawlers.rawstore import load_raw
from crawlers.run import run_crawl
from demo.content import load_content
from demo.server import serve_demo

pytestmark = [pytest.mark.integration, pytest.mark.browser]
VIDEOS = 8


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    settings = Settings(home=tmp_path_factory.mktemp("home"))
    events: list[dict] = []
    with serve_demo() as url:
        first = run_crawl("demo", settings, "demo", base_url=url, max_posts=VIDEOS, on_progress=events.append)
        second = run_crawl("demo", settings, "demo", base_url=url, max_posts=VIDEOS)
    return settings, first, second, events


def test_every_post_and_comment_is_spooled_as_published(crawled):
    settings, first, _, events = crawled
    assert first.exit_code == 0 and first.errors == 0
    data = load_content()
    spooled = {p.key: p for p in Spool(settings.spool_dir)}
    for post in data["posts"][:VIDEOS]:  # the feed shows the newest first, as the data file is ordered
        caption = spooled[f"demo:{post['id']}"]
        assert caption.text == post["caption"]
        assert caption.author_id == post["author_id"]
        assert caption.published_at == datetime.fromisoformat(post["published_at"])
        assert caption.metrics.likes == post["likes"]
        for comment in post["comments"]:  # comments load only while the page scrolls
            got = spooled[f"demo:{comment['id']}"]
            assert got.text == comment["text"] and got.parent_key == caption.key
            assert got.author_name == comment["author_name"]
    # The image posts among them: their pitch is only in the picture, which OCR read during the crawl.
    from core.ocr import char_accuracy

    imaged = [p for p in data["posts"][:VIDEOS] if p.get("image")]
    assert imaged
    for post in imaged:
        got = spooled[f"demo:{post['id']}"]
        assert got.media and got.media[0].endswith(post["image"])
        assert char_accuracy(post["image_text"], got.ocr_text) >= 0.9
        assert got.image_text[0].path and Path(got.image_text[0].path).is_file()  # kept as evidence
    bios = [p for p in spooled.values() if p.kind.value == "profile_bio"]
    authors = {a["id"]: a for a in data["authors"]}
    assert bios and all(b.text == authors[b.author_id]["bio"] for b in bios)
    assert events and events[-1]["posts"] == first.posts


def test_evidence_and_raw_responses_are_kept(crawled):
    settings, _, _, _ = crawled
    for post in Spool(settings.spool_dir):
        if post.kind.value == "comment":
            continue
        shot = screenshot_path(settings, "demo", post.post_id)
        assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert post.raw_ref and post.text.split("\n")[0][:10] in load_raw(settings.raw_dir, post.raw_ref).decode()


def test_each_item_has_a_crop_cut_from_its_own_page(crawled):
    settings, _, _, _ = crawled
    posts = list(Spool(settings.spool_dir))
    assert {p.kind.value for p in posts} >= {"caption", "comment", "profile_bio"}
    for post in posts:
        crop = item_crop_path(settings, "demo", post.post_id)
        location = read_location(crop)
        assert location is not None, post.key
        page_id = post.parent_key.split(":", 1)[1] if post.parent_key else post.post_id
        assert location.screenshot == screenshot_path(settings, "demo", page_id).name
        with Image.open(crop) as image, Image.open(crop.with_name(location.screenshot)) as page:
            assert image.size == (location.region.width, location.region.height)
            assert image.height < page.height or page.height < 1000  # the item, not the whole page
            assert location.box.y + location.box.height <= page.height


def test_second_run_adds_nothing_new(crawled):
    settings, first, second, _ = crawled
    assert second.exit_code == 0
    assert second.posts == first.posts  # fetched again...
    assert len(list(Spool(settings.spool_dir))) == first.posts  # ...but the spool holds each key once


def test_unknown_spider_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown spider"):
        run_crawl("myspace", Settings(home=tmp_path), "x")


def test_stats_file_round_trip_is_json(crawled):
    _, first, _, _ = crawled
    json.dumps(first.model_dump(mode="json"))
    assert Path(first.raw.get("finish_reason", "finished")).name == "finished"


@pytest.mark.slow
def test_full_demo_crawl_reaches_every_post_comment_and_bio(tmp_path):
    """The whole site, as `qingyuan demo` crawls it: every key in the ground truth is spooled, and no other."""
    from demo.content import truth

    settings = Settings(home=tmp_path)
    with serve_demo() as url:
        stats = run_crawl("demo", settings, "demo-full", base_url=url)
    assert stats.exit_code == 0 and stats.errors == 0 and stats.soft_blocks == 0
    expected = truth()
    spooled = {p.key: p for p in Spool(settings.spool_dir)}
    assert set(spooled) == set(expected)
    data = load_content()
    assert stats.captions == len(data["posts"])
    assert stats.comments == sum(len(p["comments"]) for p in data["posts"])
    for post in data["posts"]:
        for comment in post["comments"]:
            got = spooled[f"demo:{comment['id']}"]
            assert got.text == comment["text"] and got.published_at == datetime.fromisoformat(comment["published_at"])
    assert all(screenshot_path(settings, "demo", p["id"]).is_file() for p in data["posts"])


def test_screenshot_helper_recaptures_pages(tmp_path):
    from crawlers.browser import screenshot

    data = load_content()
    with serve_demo() as url:
        urls = [f"{url}/video/{data['posts'][0]['id']}", f"{url}/video/999"]  # the second is a 404 page
        shots = screenshot(urls, tmp_path, wait_selector=None)
    assert set(shots) == set(urls)
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in shots.values())
    assert len({p.name for p in shots.values()}) == 2
