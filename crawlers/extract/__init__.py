"""Registry of the pure platform parsers: `parse(platform, body, url)` and `parse_file(platform, path)`.

Each platform module exposes `parse(body, url="", *, now=None) -> list[Post]`, which detects the response
shape (search, detail, creator feed, comments, page HTML) and raises UnknownShape for anything else.
Modules are imported lazily so one broken parser cannot take the others down.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from core.records import Post
from crawlers.extract.common import UnknownShape, decode_body, decode_html, detect_soft_block

__all__ = [
    "NATIVE_PLATFORMS",
    "PLATFORMS",
    "UnknownShape",
    "available_platforms",
    "detect_soft_block",
    "get_parser",
    "parse",
    "parse_file",
]

NATIVE_PLATFORMS: tuple[str, ...] = ("douyin", "kuaishou", "xiaohongshu", "weibo", "bilibili", "zhihu", "tieba")

# Written by another helper; registered only when present so this package never depends on it.
_OPTIONAL = ("demo",)


def _present(name: str) -> bool:
    # find_spec locates the module file without importing it, so no import cycle with a demo parser that
    # imports UnknownShape from here.
    try:
        return importlib.util.find_spec(f"crawlers.extract.{name}") is not None
    except (ImportError, ValueError):
        return False


# Every parser `qingyuan parse --platform` accepts: the seven platforms plus demo when it is installed.
PLATFORMS: tuple[str, ...] = NATIVE_PLATFORMS + tuple(name for name in _OPTIONAL if _present(name))

Parser = Callable[..., list[Post]]


def available_platforms() -> tuple[str, ...]:
    """The seven platforms plus any optional parser (demo) that exists in this checkout."""
    return NATIVE_PLATFORMS + tuple(name for name in _OPTIONAL if _present(name))


def get_parser(platform: str) -> Parser:
    name = (platform or "").strip().lower()
    if name not in NATIVE_PLATFORMS and name not in _OPTIONAL:
        raise ValueError(f"unknown platform {platform!r}; known: {', '.join(available_platforms())}")
    try:
        module = importlib.import_module(f"crawlers.extract.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"crawlers.extract.{name}":
            raise ValueError(f"no parser installed for platform {name!r}") from exc
        raise
    func = getattr(module, "parse", None)
    if not callable(func):
        raise ValueError(f"crawlers.extract.{name} has no parse(body, url) function")
    return func


def parse(platform: str, body: bytes | str, url: str = "", *, now: datetime | None = None) -> list[Post]:
    """Posts in one saved response; UnknownShape when the body is not a shape this platform's parser knows.

    Responses are hostile input: a known shape with a field of the wrong type (a list where a code should be, a
    number where text should be) is refused as UnknownShape naming the problem, never a crash downstream."""
    func = get_parser(platform)
    try:
        if platform not in NATIVE_PLATFORMS:
            return list(func(body, url))
        return list(func(body, url, now=now))
    except (TypeError, AttributeError, KeyError, IndexError, OverflowError, RecursionError) as exc:
        raise UnknownShape(f"{platform}: a field of an unexpected type or shape ({type(exc).__name__}: {exc})") from exc


def read_saved(platform: str, path: str | Path) -> str:
    """A saved response as text: utf-8 with a gb18030 fallback (Tieba pages are often GBK)."""
    data = Path(path).read_bytes()
    if platform == "tieba":
        return decode_html(data)
    return decode_body(data)


def parse_file(platform: str, path: str | Path, url: str = "", *, now: datetime | None = None) -> list[Post]:
    """Parse one saved response or page from disk. JS wrappers (`window.__INITIAL_STATE__=...;`) are
    stripped by the parsers themselves, so a page-state dump saved straight from a page works too."""
    return parse(platform, read_saved(platform, path), url, now=now)
