"""Where a post's evidence lives on disk, and its fingerprint.

Crawlers capture a screenshot of each page they render at fetch time (what the platform showed when we saw
it) to `evidence_dir/<platform>/<post_id>.png`; a comment is proven by its parent page's screenshot.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timezone
from pathlib import Path

from core.records import Evidence, Post
from core.settings import Settings

log = logging.getLogger(__name__)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def screenshot_path(settings: Settings, platform: str, post_id: str) -> Path:
    safe_id = "".join(c if c.isalnum() or c in "-_" else "_" for c in post_id)
    return settings.evidence_dir / platform / f"{safe_id}.png"


def inside(path: str | Path, base: Path, root: Path | None = None) -> Path | None:
    """`path` (relative to `base` unless absolute) with symlinks and `..` resolved, if it lies inside `root`
    (default `base`); else None.

    Post fields come from crawled data and input files: a `raw_ref` of `/etc/passwd` or `../../x` must never
    turn a file outside the data home into evidence shipped to a partner.
    """
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = base / candidate
    try:
        real, top = candidate.resolve(), (root or base).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None
    return real if real.is_relative_to(top) else None


def _captured_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)


def collect_evidence(settings: Settings, post: Post) -> tuple[Evidence, ...]:
    """Evidence already on disk for a post: its (or its parent's) screenshot and its raw response."""
    found: list[Evidence] = []
    candidates = [screenshot_path(settings, post.platform.value, post.post_id)]
    if post.parent_key and ":" in post.parent_key:
        platform, parent_id = post.parent_key.split(":", 1)
        candidates.append(screenshot_path(settings, platform, parent_id))
    for shot in candidates:
        if shot.is_file():
            found.append(
                Evidence(kind="screenshot", path=str(shot), sha256=sha256_file(shot), captured_at=_captured_at(shot))
            )
            break
    if post.raw_ref:
        raw = inside(post.raw_ref, settings.raw_dir, settings.artefact_root)
        if raw is None:
            log.warning(
                "refused raw_ref %r of %s: outside the data home %s", post.raw_ref, post.key, settings.artefact_root
            )
        elif raw.is_file():
            found.append(
                Evidence(kind="raw_response", path=str(raw), sha256=sha256_file(raw), captured_at=_captured_at(raw))
            )
    return tuple(found)
