"""A page of the fake platform: {"posts": [{"id", "text", "author", "published_at"}]}."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from core.records import Post, PostKind
from crawlers.extract.common import UnknownShape


def parse(body: bytes | str, url: str = "", *, now: Any = None) -> list[Post]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise UnknownShape(f"fleetbench: not JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("posts"), list):
        raise UnknownShape("fleetbench: no posts list")
    return [
        Post(
            platform="fleetbench",
            post_id=str(item["id"]),
            kind=PostKind.post,
            url=f"{url.split('/page/')[0]}/p/{item['id']}",
            text=item["text"],
            author_id=item["author"],
            published_at=datetime.fromisoformat(item["published_at"]),
        )
        for item in data["posts"]
    ]
