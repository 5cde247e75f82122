"""The crop around an item: the page's boxes read defensively, the region kept inside the screenshot, the item
outlined, and the crop found again as evidence with its box and hash."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from core.evidence import collect_evidence, item_crop_path, read_location, screenshot_path, sha256_file
from core.records import Box, EvidenceKind
from core.settings import Settings
from crawlers.itemcrop import (
    MARGIN,
    OUTLINE,
    clip,
    crop_region,
    item_boxes,
    keep_item_crops,
    save_item_crops,
    to_pixels,
)
from tests import factories

ITEM_COLOUR = (30, 90, 200)


def test_css_boxes_become_screenshot_pixels() -> None:
    assert to_pixels({"x": 10.4, "y": 20.6, "width": 100.2, "height": 30}) == Box(x=10, y=20, width=101, height=31)
    assert to_pixels({"x": 10, "y": 20, "width": 100, "height": 30}, 2) == Box(x=20, y=40, width=200, height=60)
    assert to_pixels({"x": -5, "y": 0, "width": 20, "height": 10}) == Box(x=0, y=0, width=15, height=10)


@pytest.mark.parametrize(
    "css",
    [
        None,
        [],
        "x",
        {"x": 1, "y": 1, "width": 0, "height": 10},
        {"x": 1, "y": 1, "width": 10},
        {"x": "1", "y": 1, "width": 10, "height": 10},
        {"x": True, "y": 1, "width": 10, "height": 10},
        {"x": math.nan, "y": 1, "width": 10, "height": 10},
        {"x": math.inf, "y": 1, "width": 10, "height": 10},
        {"x": 1, "y": 1e300, "width": 10, "height": 10},
        {"x": 1, "y": 1, "width": -10, "height": 10},
    ],
)
def test_a_page_cannot_hand_over_a_bad_box(css: object) -> None:
    assert to_pixels(css) is None


def test_page_answers_keep_only_good_boxes() -> None:
    good = {"x": 0, "y": 0, "width": 5, "height": 5}
    assert item_boxes(None) == {} and item_boxes({"boxes": []}) == {} and item_boxes("x") == {}
    assert item_boxes({"boxes": {"a": good, "b": {"x": "no"}, "": good, "c" * 300: good}, "scale": 1}) == {
        "a": Box(x=0, y=0, width=5, height=5)
    }
    assert item_boxes({"boxes": {"a": good}, "scale": 0}) == {}  # a scale of 0 (or NaN, or 1e9) is no scale
    assert item_boxes({"boxes": {"a": good}, "scale": 1e9}) == {}


def test_region_keeps_a_margin_inside_the_image() -> None:
    size = (1000, 3000)
    assert crop_region(Box(x=300, y=1000, width=400, height=100), size) == Box(
        x=300 - MARGIN, y=1000 - MARGIN, width=400 + 2 * MARGIN, height=100 + 2 * MARGIN
    )
    assert crop_region(Box(x=0, y=10, width=1000, height=50), size) == Box(x=0, y=0, width=1000, height=60 + MARGIN)
    assert crop_region(Box(x=900, y=2950, width=300, height=300), size) == Box(
        x=900 - MARGIN, y=2950 - MARGIN, width=100 + MARGIN, height=50 + MARGIN
    )
    # past the end of a full-page screenshot (chromium stops at its limit): nothing to crop
    assert crop_region(Box(x=10, y=3000, width=10, height=10), size) is None
    assert clip(Box(x=1000, y=0, width=10, height=10), size) is None
    # a very long item keeps its top
    tall = crop_region(Box(x=0, y=500, width=100, height=2900), size, max_height=800)
    assert tall == Box(x=0, y=500 - MARGIN, width=100 + MARGIN, height=800)


def _page(path: Path, item: Box, size: tuple[int, int] = (800, 2000)) -> None:
    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).rectangle(
        (item.x, item.y, item.x + item.width - 1, item.y + item.height - 1), fill=ITEM_COLOUR
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def test_crop_outlines_the_item_and_is_found_as_evidence(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", elasticsearch_url=None, casebook_url=None)
    settings.ensure_dirs()
    shot = screenshot_path(settings, "demo", "900")
    item = Box(x=200, y=1200, width=300, height=80)
    _page(shot, item)
    answer = {"boxes": {"c1": {"x": 100, "y": 600, "width": 150, "height": 40}}, "scale": 2}

    class Method:  # what scrapy-playwright leaves on the response: the page method and its result
        method, result = "evaluate", answer

        def __init__(self) -> None:
            from crawlers.browser import ITEM_BOXES_JS

            self.args = (ITEM_BOXES_JS, [])

    assert keep_item_crops(settings, "demo", shot, [Method()]) == 1
    crop_file = item_crop_path(settings, "demo", "c1")
    with Image.open(crop_file) as crop:
        assert crop.size == (300 + 2 * MARGIN, 80 + 2 * MARGIN)
        inside = crop.getpixel((MARGIN + 150, MARGIN + 40))
        outline = crop.getpixel((MARGIN - 2, MARGIN + 40))
        outside = crop.getpixel((5, 5))
    assert inside == ITEM_COLOUR and outline == OUTLINE and outside == (255, 255, 255)
    location = read_location(crop_file)
    assert location is not None and location.box == item and location.screenshot == shot.name

    comment = factories.make_post("c1", "加🐧 12345678", platform="demo", kind="comment", parent_key="demo:900")
    evidence = collect_evidence(settings, comment)
    assert [e.kind for e in evidence] == [EvidenceKind.item_crop, EvidenceKind.screenshot]
    assert evidence[0].sha256 == sha256_file(crop_file) and evidence[0].box == item
    assert evidence[0].screenshot == shot.name and evidence[1].path == str(shot)


def test_a_hostile_location_is_not_followed(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", elasticsearch_url=None, casebook_url=None)
    settings.ensure_dirs()
    shot = screenshot_path(settings, "demo", "900")
    _page(shot, Box(x=10, y=10, width=50, height=50))
    save_item_crops(settings, "demo", shot, {"c2": Box(x=10, y=10, width=50, height=50)})
    crop = item_crop_path(settings, "demo", "c2")
    location = json.loads(crop.with_suffix(".json").read_text())
    for bad in ({**location, "screenshot": "../../state/secret.png"}, {**location, "box": "x"}, "[" * 5000):
        crop.with_suffix(".json").write_text(bad if isinstance(bad, str) else json.dumps(bad))
        assert read_location(crop) is None
        post = factories.make_post("c2", "x", platform="demo")
        assert all(e.kind != EvidenceKind.item_crop for e in collect_evidence(settings, post))
