"""The platform registry: one `PlatformSpec` per platform, the single place a platform's facts are written.

Everything else is derived from it: the `Platform` enum of the records, the parsers `qingyuan parse` accepts, the
spiders `qingyuan crawl` runs, the cookie domains of the session pool, the block codes of soft-block detection,
the signing scheme, and the Chinese names in reports and the console. Spiders and parsers are named by module, so
this ground module imports no stage; the crawlers resolve them (Scrapy's spider loader finds a spider by `name`).

A platform kept outside this repository registers from its own module: list it in QINGYUAN_PLATFORM_MODULES
(comma-separated module names, each exposing `PLATFORM = PlatformSpec(...)`), read once at import.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

PLUGIN_ENV = "QINGYUAN_PLATFORM_MODULES"


@dataclass(frozen=True)
class PlatformSpec:
    name: str  # the id used in Post.platform, post keys, CLI options and spider names
    name_zh: str  # as written in takedown notices and the console
    spider: str  # module holding the Scrapy spider whose `name` is `name`
    parser: str  # module exposing parse(body, url="", *, now=None) -> list[Post]
    cookie_domains: tuple[str, ...] = ()  # where the session pool's login cookies live
    # Platform error codes (as strings) that mean "blocked", never "nothing found", with the reason logged.
    block_codes: Mapping[str, str] = field(default_factory=dict)
    # How requests are signed: wbi (Bilibili), page_headers (x-s from the logged-in page), page_xhr (sent from
    # inside the page), page_capture (the page makes the call), cookies (nothing to sign), none (no platform client).
    signing: str = "cookies"
    post_kinds: tuple[str, ...] = ("post", "comment")
    browser: bool = False  # every page is rendered by Playwright (the demo site)
    takes_now: bool = True  # the parser reads relative dates against `now=`
    decode: str = "json"  # json | html: how a saved response is read (html tries gb18030 for GBK pages)

    @property
    def signed(self) -> bool:
        """Requests go through the signing middleware (any live platform, even when only cookies are needed)."""
        return self.signing != "none"


_BUILT_IN: tuple[PlatformSpec, ...] = (
    PlatformSpec(
        name="douyin",
        name_zh="抖音",
        spider="crawlers.spiders.douyin",
        parser="crawlers.extract.douyin",
        cookie_domains=("douyin.com",),
        block_codes={"2483": "risk control: douyin 2483"},
        signing="page_xhr",
        post_kinds=("caption", "comment"),
    ),
    PlatformSpec(
        name="kuaishou",
        name_zh="快手",
        spider="crawlers.spiders.kuaishou",
        parser="crawlers.extract.kuaishou",
        cookie_domains=("kuaishou.com",),
        post_kinds=("caption", "comment"),
    ),
    PlatformSpec(
        name="xiaohongshu",
        name_zh="小红书",
        spider="crawlers.spiders.xiaohongshu",
        parser="crawlers.extract.xiaohongshu",
        cookie_domains=("xiaohongshu.com",),
        block_codes={"300012": "rate limited: xhs 300012", "461": "captcha: xhs 461", "-100": "login wall: xhs -100"},
        signing="page_headers",
    ),
    PlatformSpec(
        name="weibo",
        name_zh="微博",
        spider="crawlers.spiders.weibo",
        parser="crawlers.extract.weibo",
        cookie_domains=("weibo.cn", "weibo.com"),
        block_codes={"-100": "login wall: weibo -100"},
    ),
    PlatformSpec(
        name="bilibili",
        name_zh="哔哩哔哩",
        spider="crawlers.spiders.bilibili",
        parser="crawlers.extract.bilibili",
        cookie_domains=("bilibili.com",),
        block_codes={
            "-412": "rate limited: bilibili -412",
            "-352": "risk control: bilibili -352",
            "-101": "login wall",
        },
        signing="wbi",
        post_kinds=("caption", "comment"),
    ),
    PlatformSpec(
        name="zhihu",
        name_zh="知乎",
        spider="crawlers.spiders.zhihu",
        parser="crawlers.extract.zhihu",
        cookie_domains=("zhihu.com",),
        block_codes={"40362": "risk control: zhihu 40362", "10003": "captcha: zhihu 10003"},
        signing="page_capture",
    ),
    PlatformSpec(
        name="tieba",
        name_zh="百度贴吧",
        spider="crawlers.spiders.tieba",
        parser="crawlers.extract.tieba",
        cookie_domains=("baidu.com",),
        decode="html",
    ),
    PlatformSpec(
        name="demo",
        name_zh="演示站点",
        spider="crawlers.spiders.demo",
        parser="crawlers.extract.demo",
        signing="none",
        post_kinds=("caption", "comment", "profile_bio"),
        browser=True,
        takes_now=False,
    ),
)


def _plugins() -> tuple[PlatformSpec, ...]:
    names = [n.strip() for n in os.environ.get(PLUGIN_ENV, "").split(",") if n.strip()]
    specs = []
    for name in names:
        spec = getattr(importlib.import_module(name), "PLATFORM", None)
        if not isinstance(spec, PlatformSpec):
            raise TypeError(f"{name} (from {PLUGIN_ENV}) has no PLATFORM = PlatformSpec(...)")
        specs.append(spec)
    return tuple(specs)


def _registry(specs: tuple[PlatformSpec, ...]) -> Mapping[str, PlatformSpec]:
    table: dict[str, PlatformSpec] = {}
    for spec in specs:
        if spec.name in table:
            raise ValueError(f"platform {spec.name!r} registered twice")
        table[spec.name] = spec
    return MappingProxyType(table)


PLATFORMS: Mapping[str, PlatformSpec] = _registry(_BUILT_IN + _plugins())


def platform_spec(name: str) -> PlatformSpec:
    """The spec of a registered platform; ValueError naming the known ones otherwise."""
    spec = PLATFORMS.get((name or "").strip().lower())
    if spec is None:
        raise ValueError(f"unknown platform {name!r}; known: {', '.join(PLATFORMS)}")
    return spec


def platform_names() -> tuple[str, ...]:
    return tuple(PLATFORMS)


def live_platforms() -> tuple[str, ...]:
    """The platforms partners run (everything but the bundled demo site), in registry order."""
    return tuple(name for name, spec in PLATFORMS.items() if spec.signed)


def name_zh(platform: str) -> str:
    spec = PLATFORMS.get(platform)
    return spec.name_zh if spec else platform
