"""Registry of the pure platform parsers: `parse(platform, body, url)` and `parse_file(platform, path)`.

Each platform module exposes `parse(body, url="", *, now=None) -> list[Post]`, which detects the response
shape (search, detail, creator feed, comments, page HTML) and raises UnknownShape for anything else.
Modules are imported lazily so one broken parser cannot take the others down.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from core.platforms import live_platforms, platform_names, platform_spec
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

# The seven partner platforms and every parser `qingyuan parse --platform` accepts, from the registry.
NATIVE_PLATFORMS: tuple[str, ...] = live_platforms()
PLATFORMS: tuple[str, ...] = platform_names()

Parser = Callable[..., list[Post]]


def available_platforms() -> tuple[str, ...]:
    """Every registered platform (the registry owns the list; parsers are imported only when used)."""
    return platform_names()


def get_parser(platform: str) -> Parser:
    """The `parse` function of the platform's parser module, found by the name in its registry entry."""
    spec = platform_spec(platform)
    try:
        module = importlib.import_module(spec.parser)
    except ModuleNotFoundError as exc:
        if exc.name == spec.parser:
            raise ValueError(f"no parser installed for platform {spec.name!r}") from exc
        raise
    func = getattr(module, "parse", None)
    if not callable(func):
        raise ValueError(f"{spec.parser} has no parse(body, url) function")
    return func


def parse(platform: str, body: bytes | str, url: str = "", *, now: datetime | None = None) -> list[Post]:
    """Posts in one saved response; UnknownShape when the body is not a shape this platform's parser knows.

    Responses are hostile input: a known shape with a field of the wrong type (a list where a code should be, a
    number where text should be) is refused as UnknownShape naming the problem, never a crash downstream."""
    func = get_parser(platform)
    try:
        if not platform_spec(platform).takes_now:
            return list(func(body, url))
        return list(func(body, url, now=now))
    except (TypeError, AttributeError, KeyError, IndexError, OverflowError, RecursionError) as exc:
        raise UnknownShape(f"{platform}: a field of an unexpected type or shape ({type(exc).__name__}: {exc})") from exc


def read_saved(platform: str, path: str | Path) -> str:
    """A saved response as text: utf-8 with a gb18030 fallback (Tieba pages are often GBK)."""
    data = Path(path).read_bytes()
    if platform_spec(platform).decode == "html":
        return decode_html(data)
    return decode_body(data)


def parse_file(platform: str, path: str | Path, url: str = "", *, now: datetime | None = None) -> list[Post]:
    """Parse one saved response or page from disk. JS wrappers (`window.__INITIAL_STATE__=...;`) are
    stripped by the parsers themselves, so a page-state dump saved straight from a page works too."""
    return parse(platform, read_saved(platform, path), url, now=now)
