"""Re-check reported posts: is the content still up, or has the platform taken it down?

Platforms are asked through their own spider in detail mode (same sessions, proxies and soft-block handling as
any crawl, in its own process); a soft block is "blocked", never "removed". The demo site is checked over plain
HTTP, since its pages answer 404 once a post is taken down.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from core.settings import Settings
from crawlers.run import run_crawl


@dataclass(frozen=True)
class RecheckOutcome:
    outcome: str  # removed | still_up | blocked | error
    http_status: int | None = None
    detail: str = ""


GONE_STATUSES = {404, 410}


def check_demo(url: str, timeout: float = 15.0) -> RecheckOutcome:
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as exc:
        return RecheckOutcome("error", None, f"{type(exc).__name__}: {exc}")
    if response.status_code in GONE_STATUSES:
        return RecheckOutcome("removed", response.status_code)
    if response.status_code == 200:
        return RecheckOutcome("still_up", 200)
    return RecheckOutcome("error", response.status_code, "unexpected status")


def check_post(platform: str, url: str, settings: Settings, *, job: str, timeout: float = 300) -> RecheckOutcome:
    """Whether the post at `url` is still published on `platform`."""
    if platform == "demo":
        return check_demo(url)
    stats = run_crawl(platform, settings, job, timeout=timeout, mode="detail", target=url, max_pages="1")
    if stats.soft_blocks:
        return RecheckOutcome("blocked", None, f"{stats.soft_blocks} soft blocks")
    if stats.gone:
        return RecheckOutcome("removed", None, "the platform served no post")
    if stats.posts:
        return RecheckOutcome("still_up", None)
    return RecheckOutcome("error", None, f"exit {stats.exit_code}, {stats.errors} errors")
