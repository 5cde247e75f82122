"""A crop of a page's full screenshot around one item (a post, a comment, a bio), the item outlined.

A comment's evidence used to be its whole page, with nothing saying which of 40 comments was meant. The crawl
asks the rendered page where each item's element is (`crawlers.browser.ITEM_BOXES_JS`, CSS pixels in document
coordinates), and after the full-page screenshot is written keeps, per item, the part of it around the item with
a red outline, plus an `ItemLocation` (core/evidence.py) saying where that part and the item are.

The boxes come from the platform's own page, which runs its own scripts: every number is checked here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from core.evidence import ItemLocation, item_crop_path, write_location
from core.records import Box
from core.settings import Settings
from crawlers.browser import item_boxes_result

MARGIN = 96  # pixels of the page kept around the item, so the crop shows where it sits
MAX_CROP_HEIGHT = 1600  # a very long item keeps its top: the crop is for recognising it, the page has the rest
OUTLINE = (220, 20, 60)
OUTLINE_WIDTH = 4
MAX_COORDINATE = 1_000_000  # no screenshot is this big; a page claiming so is lying


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and abs(number) <= MAX_COORDINATE else None


def to_pixels(css: Any, scale: Any = 1.0) -> Box | None:
    """A box as the page reported it ({x, y, width, height} in CSS pixels) in the screenshot's pixels, or None
    when it is not a usable box (missing or non-numeric fields, non-finite, empty)."""
    if not isinstance(css, Mapping):
        return None
    factor = _finite(scale)
    values = [_finite(css.get(name)) for name in ("x", "y", "width", "height")]
    if factor is None or not 0 < factor <= 8 or any(v is None for v in values):
        return None
    x, y, width, height = (float(v) * factor for v in values if v is not None)
    left, top = max(0, math.floor(x)), max(0, math.floor(y))
    right, bottom = math.ceil(x + width), math.ceil(y + height)
    if right <= left or bottom <= top:
        return None
    return Box(x=left, y=top, width=right - left, height=bottom - top)


def item_boxes(result: Any) -> dict[str, Box]:
    """ITEM_BOXES_JS's answer -> {item id: box in screenshot pixels}; anything malformed is left out."""
    if not isinstance(result, Mapping) or not isinstance(result.get("boxes"), Mapping):
        return {}
    scale = result.get("scale", 1.0)
    boxes = {}
    for item_id, css in result["boxes"].items():
        box = to_pixels(css, scale)
        if isinstance(item_id, str) and 0 < len(item_id) <= 200 and box is not None:
            boxes[item_id] = box
    return boxes


def clip(box: Box, size: tuple[int, int]) -> Box | None:
    """The part of `box` inside an image of `size` (width, height), or None when it lies wholly outside."""
    width, height = size
    right, bottom = min(width, box.x + box.width), min(height, box.y + box.height)
    if box.x >= right or box.y >= bottom:
        return None
    return Box(x=box.x, y=box.y, width=right - box.x, height=bottom - box.y)


def crop_region(box: Box, size: tuple[int, int], margin: int = MARGIN, max_height: int = MAX_CROP_HEIGHT) -> Box | None:
    """The part of the screenshot a crop shows: the item and `margin` around it, inside the image, at most
    `max_height` tall (keeping the item's top); None when the item is not in the image at all (a full-page
    screenshot stops at the browser's limit)."""
    item = clip(box, size)
    if item is None:
        return None
    width, height = size
    left, top = max(0, item.x - margin), max(0, item.y - margin)
    right = min(width, item.x + item.width + margin)
    bottom = min(height, item.y + item.height + margin, top + max_height)
    return Box(x=left, y=top, width=right - left, height=bottom - top)


def outlined_crop(image: Image.Image, box: Box, region: Box) -> Image.Image:
    """`region` of `image` with the item's box outlined (the outline drawn just outside the item, so it covers
    none of the item's own pixels where there is room)."""
    crop = image.crop((region.x, region.y, region.x + region.width, region.y + region.height)).convert("RGB")
    draw = ImageDraw.Draw(crop)
    left, top = box.x - region.x - OUTLINE_WIDTH, box.y - region.y - OUTLINE_WIDTH
    right = box.x + box.width - region.x + OUTLINE_WIDTH - 1
    bottom = box.y + box.height - region.y + OUTLINE_WIDTH - 1
    draw.rectangle((left, top, right, bottom), outline=OUTLINE, width=OUTLINE_WIDTH)
    return crop


def save_item_crops(settings: Settings, platform: str, screenshot: Path, boxes: Mapping[str, Box]) -> dict[str, Path]:
    """Write each item's crop of `screenshot` and its location; returns {item id: crop path} for those written.

    The screenshot is opened once for all the items on its page."""
    if not boxes or not screenshot.is_file():
        return {}
    written = {}
    with Image.open(screenshot) as image:
        image.load()
        for item_id, box in boxes.items():
            region = crop_region(box, image.size)
            if region is None:
                continue
            path = item_crop_path(settings, platform, item_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            outlined_crop(image, box, region).save(tmp, format="PNG")
            tmp.replace(path)
            write_location(path, ItemLocation(screenshot=screenshot.name, box=box, region=region))
            written[item_id] = path
    return written


def keep_item_crops(settings: Settings, platform: str, screenshot: Path, page_methods: Sequence[Any]) -> int:
    """After a page rendered with `browser.item_boxes_method` before its screenshot: crop every item it found.
    Returns how many crops were written."""
    boxes = item_boxes(item_boxes_result(page_methods))
    return len(save_item_crops(settings, platform, screenshot, boxes))
