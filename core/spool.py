"""Append-only JSONL spool of Posts: what a crawl fetched is on disk before anything downstream runs.

A crash mid-write can leave a torn last line; readers skip it (and log it) instead of failing,
so a re-run of the later stages always works on everything that was fully written.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from core.records import Post

log = logging.getLogger(__name__)


class Spool:
    """A folder of JSONL files, one per crawl job; files are only ever appended to."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path_for(self, job: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in job) or "default"
        return self.directory / f"{safe}.jsonl"

    def append(self, posts: Iterable[Post], job: str = "default") -> int:
        """Append posts durably (flushed and fsynced); returns how many were written."""
        self.directory.mkdir(parents=True, exist_ok=True)
        count = 0
        with self.path_for(job).open("a", encoding="utf-8") as fh:
            for post in posts:
                fh.write(post.model_dump_json() + "\n")
                count += 1
            fh.flush()
            os.fsync(fh.fileno())
        return count

    def files(self) -> list[Path]:
        if not self.directory.exists():
            return []
        return sorted(self.directory.glob("*.jsonl"))

    def __iter__(self) -> Iterator[Post]:
        """Every post ever spooled, newest fetch of each key winning, in first-seen order."""
        latest: dict[str, Post] = {}
        for path in self.files():
            for post in read_posts(path):
                latest[post.key] = post
        return iter(latest.values())

    def keys(self) -> set[str]:
        return {p.key for p in self}


def read_posts(path: Path) -> Iterator[Post]:
    """Read Posts from a JSONL file, skipping blank, torn or invalid lines with a warning."""
    with Path(path).open("r", encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                yield Post.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as exc:
                log.warning("skipping unreadable line %s:%d (%s)", path, lineno, type(exc).__name__)
