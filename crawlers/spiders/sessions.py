"""Account and proxy pools for the platform spiders: load login state, hand out the current session, rotate.

Accounts are files: a Playwright storage state ({"cookies": [{name, value, domain, ...}], "origins": [...]}), a
cookie list ([{name, value, domain}]) or a plain {name: value} map. Only cookies for the platform's domain are
kept. Secrets never reach a log line: sessions are named by file stem and proxies by host only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.platforms import PLATFORMS


@dataclass(frozen=True)
class Account:
    label: str  # file stem: safe to log
    cookies: dict[str, str] = field(repr=False)  # never printed
    # The file itself when it is a Playwright storage state (cookies + local storage): a browser context for
    # in-page request signing loads it whole; None for plain cookie files.
    storage_state: Path | None = field(default=None, repr=False, compare=False)


def _domain_ok(domain: str, platform: str) -> bool:
    domain = domain.lstrip(".").lower()
    spec = PLATFORMS.get(platform)
    wanted = spec.cookie_domains if spec else ()
    return not domain or any(domain == d or domain.endswith("." + d) for d in wanted)


def load_account(path: Path, platform: str) -> Account:
    """Cookies for `platform` from one account file; ValueError (without cookie values) when unreadable."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"account file {path.name}: unreadable ({type(exc).__name__})") from exc
    entries = data.get("cookies") if isinstance(data, dict) and "cookies" in data else data
    cookies: dict[str, str] = {}
    if isinstance(entries, dict):
        cookies = {str(k): str(v) for k, v in entries.items() if isinstance(v, str | int)}
    elif isinstance(entries, list):
        for item in entries:
            if isinstance(item, dict) and "name" in item and "value" in item:
                if _domain_ok(str(item.get("domain", "")), platform):
                    cookies[str(item["name"])] = str(item["value"])
    if not cookies:
        raise ValueError(f"account file {path.name}: no cookies for {platform}")
    is_state = isinstance(data, dict) and isinstance(data.get("cookies"), list)
    return Account(label=path.stem, cookies=cookies, storage_state=path if is_state else None)


def parse_list(value: str | None) -> list[str]:
    """Comma-separated values, or @FILE with one value per line (# comments allowed)."""
    if not value:
        return []
    if value.startswith("@"):
        lines = Path(value[1:]).read_text(encoding="utf-8").splitlines()
        return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return [v.strip() for v in value.split(",") if v.strip()]


def proxy_label(proxy: str) -> str:
    """Host and port only: proxy URLs often carry credentials."""
    parts = urlsplit(proxy)
    return f"{parts.hostname or '?'}:{parts.port or ''}".rstrip(":")


class SessionPool:
    """Round-robin over accounts and proxies; `rotate()` moves to the next pair after a block."""

    def __init__(self, platform: str, accounts: list[Path], proxies: list[str]) -> None:
        self.accounts = [load_account(p, platform) for p in accounts]
        self.proxies = proxies
        self.index = 0

    def __bool__(self) -> bool:
        return bool(self.accounts or self.proxies)

    def current(self) -> tuple[int, Account | None, str | None]:
        account = self.accounts[self.index % len(self.accounts)] if self.accounts else None
        proxy = self.proxies[self.index % len(self.proxies)] if self.proxies else None
        return self.index, account, proxy

    def rotate(self) -> str:
        self.index += 1
        _, account, proxy = self.current()
        return f"account={account.label if account else '-'} proxy={proxy_label(proxy) if proxy else '-'}"

    def apply(self, meta: dict[str, Any]) -> dict[str, str]:
        """Put the current session into request meta (separate cookie jar per account); return its cookies."""
        index, account, proxy = self.current()
        if account is not None:
            meta["cookiejar"] = index % len(self.accounts)
        if proxy is not None:
            meta["proxy"] = proxy
        return dict(account.cookies) if account else {}
