"""A page request crosses machines as JSON and comes back as the same request (callback, page methods, headers)."""

from __future__ import annotations

import json

import pytest
import scrapy
from scrapy_playwright.page import PageMethod

from fleet.frontier import request_to_task, task_to_request


class _Spider(scrapy.Spider):
    name = "t"

    def parse_video(self, response, shot):  # pragma: no cover - only named
        yield from ()


def test_a_rendered_page_request_round_trips_through_json():
    spider = _Spider()
    request = scrapy.Request(
        "http://127.0.0.1:9/video/1",
        callback=spider.parse_video,
        cb_kwargs={"shot": "/data/evidence/demo/1.png"},
        headers={"Referer": "http://127.0.0.1:9/"},
        meta={
            "playwright": True,
            "playwright_page_methods": [
                PageMethod("wait_for_selector", "#detail"),
                PageMethod("screenshot", path="/data/evidence/demo/1.png", full_page=True),
            ],
            "qy_entry": "1-0",  # this worker's bookkeeping does not travel
            "download_slot": "127.0.0.1",
        },
        priority=3,
    )
    task = request_to_task(request, spider)
    assert json.loads(task)  # plain JSON: no pickle from a shared queue
    back = task_to_request(json.loads(task), spider)
    assert back.url == request.url and back.callback == spider.parse_video and back.priority == 3
    assert back.cb_kwargs == {"shot": "/data/evidence/demo/1.png"}
    assert back.headers.get("Referer") == b"http://127.0.0.1:9/"
    methods = back.meta["playwright_page_methods"]
    assert [m.method for m in methods] == ["wait_for_selector", "screenshot"]
    assert methods[0].args == ("#detail",) and methods[1].kwargs == {
        "path": "/data/evidence/demo/1.png",
        "full_page": True,
    }
    assert "qy_entry" not in back.meta and "download_slot" not in back.meta


def test_a_page_method_given_as_a_function_is_refused():
    spider = _Spider()
    request = scrapy.Request(
        "http://127.0.0.1:9/", callback=spider.parse_video, meta={"playwright_page_methods": [PageMethod(print)]}
    )
    with pytest.raises(TypeError, match="named"):
        request_to_task(request, spider)


def test_a_task_that_would_write_outside_the_shared_storage_is_recognised(tmp_path):
    from fleet.frontier import writes_inside

    spider = _Spider()

    def shot(path):
        return scrapy.Request(
            "http://127.0.0.1:9/",
            callback=spider.parse_video,
            meta={"playwright_page_methods": [PageMethod("screenshot", path=path)]},
        )

    assert writes_inside(shot(str(tmp_path / "evidence" / "demo" / "1.png")), tmp_path)
    assert not writes_inside(shot("/etc/cron.d/x.png"), tmp_path)
    assert not writes_inside(shot(str(tmp_path / ".." / "elsewhere.png")), tmp_path)
