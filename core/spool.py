"""Append-only JSONL spool of Posts: what a crawl fetched is on disk before anything downstream runs.

A crash mid-write can leave a torn last line; readers skip it (and log it) instead of failing,
so a re-run of the later stages always works on everything that was fully written.

Beside each `<job>.jsonl` an `<job>.index` file holds one "key, content fingerprint, end offset" line per spooled
post, so a crawl can tell which posts it already has without parsing and validating every post ever spooled.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from core.records import Post

log = logging.getLogger(__name__)


INDEX_SUFFIX = ".index"


def content_fingerprint(post: Post) -> str:
    """What makes a re-fetched post "new": its text, author and time (not metrics or fetch time)."""
    parts = [post.key, post.kind.value, post.text, post.author_id or "", str(post.published_at), post.parent_key or ""]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


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
        path = self.path_for(job)
        if not path.with_suffix(INDEX_SUFFIX).exists():
            self._rebuild_index(path)  # index what an older version spooled before adding to it
        entries: list[str] = []
        with path.open("ab") as fh:
            for post in posts:
                fh.write((post.model_dump_json() + "\n").encode("utf-8"))
                entries.append(f"{post.key}\t{content_fingerprint(post)}\t{fh.tell()}\n")
            fh.flush()
            os.fsync(fh.fileno())
        # after the posts are durable: a crash in between only costs re-spooling them, never skipping them
        index = path.with_suffix(INDEX_SUFFIX)
        if _ends_torn(index):
            entries.insert(0, "\n")  # end the torn line, or the first new entry would be lost with it
        with index.open("a", encoding="utf-8") as ix:
            ix.writelines(entries)
        return len(entries)

    def fingerprints(self) -> dict[str, str]:
        """key -> content fingerprint of its newest spooled version, read from the index files.

        A JSONL file with no index, or shorter than its index says (rewritten or truncated by hand), is indexed
        again from its posts first; an index whose JSONL is gone counts for nothing.
        """
        out: dict[str, str] = {}
        for path in self.files():
            entries = self._read_index(path)
            if entries is None:
                entries = self._rebuild_index(path)
            out.update(entries)
        return out

    @staticmethod
    def _read_index(path: Path) -> dict[str, str] | None:
        index = path.with_suffix(INDEX_SUFFIX)
        if not index.is_file():
            return None
        entries: dict[str, str] = {}
        end = 0
        with index.open("r", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 3 or len(parts[1]) != 64 or not parts[2].isdigit():
                    continue  # a torn last line: that post is re-spooled at worst
                entries[parts[0]] = parts[1]
                end = max(end, int(parts[2]))
        if end > path.stat().st_size:
            log.warning("%s is shorter than its index says; indexing it again", path)
            return None
        return entries

    @staticmethod
    def _rebuild_index(path: Path) -> dict[str, str]:
        """Index a JSONL file from its posts (one full parse), replacing its index atomically."""
        size = path.stat().st_size if path.exists() else 0
        entries = {post.key: content_fingerprint(post) for post in read_posts(path)} if size else {}
        index = path.with_suffix(INDEX_SUFFIX)
        tmp = index.with_name(index.name + ".tmp")
        tmp.write_text("".join(f"{k}\t{fp}\t{size}\n" for k, fp in entries.items()), encoding="utf-8")
        os.replace(tmp, index)
        return entries

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


def _ends_torn(path: Path) -> bool:
    """True when a non-empty file's last line lacks its newline (a crash mid-write)."""
    try:
        with path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) != b"\n"
    except OSError:  # missing or empty
        return False


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
