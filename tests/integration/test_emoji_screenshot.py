"""Screenshots show the emoji agencies write with (💯, 🐧 for QQ), in colour, not as empty boxes.

Renders a page in Debian chromium with the crawl's own launch and context options, screenshots the emoji and a
character no font has (U+10FFFD, private use: what a missing glyph looks like), and compares their pixels. Without
a colour emoji font (`make` installs Debian's fonts-noto-color-emoji) both come out as the same grey box.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from crawlers.browser import context_options, launch_options
from tests.integration.conftest import missing_real_part

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
PAGE = """<!doctype html><meta charset="utf-8">
<style>body{margin:0;background:#fff} span{display:inline-block;font-size:64px;line-height:80px;padding:4px}</style>
<span id="hundred">💯</span><span id="penguin">🐧</span><span id="missing">\U0010fffd</span>
<p id="text">加🐧 12345678 💯靠谱</p>"""


@pytest.fixture
def page() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        missing_real_part("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(**launch_options(CHROMIUM))
        try:
            context = browser.new_context(**context_options())
            page = context.new_page()
            page.set_content(PAGE)
            yield page
        finally:
            browser.close()


def _shot(page, selector: str) -> Image.Image:  # type: ignore[no-untyped-def]
    return Image.open(io.BytesIO(page.locator(selector).screenshot())).convert("RGB")


def coloured_pixels(image: Image.Image) -> int:
    """Pixels clearly not grey: a colour emoji has hundreds, a tofu box or a black outline glyph none."""
    return sum(image.convert("HSV").getchannel("S").histogram()[100:])


def test_emoji_render_in_colour_not_as_missing_glyphs(page) -> None:  # type: ignore[no-untyped-def]
    missing = _shot(page, "#missing")
    assert coloured_pixels(missing) == 0  # the reference really is a missing glyph
    for emoji in ("#hundred", "#penguin"):
        shot = _shot(page, emoji)
        assert coloured_pixels(shot) > 150, f"{emoji} has no colour: no emoji font?"
        same_size = shot.size == missing.size
        assert not same_size or ImageChops.difference(shot, missing).getbbox() is not None
    # in running text too (the way a post writes them)
    assert coloured_pixels(_shot(page, "#text")) > 60
