"""Where a post's evidence lives on disk, and its fingerprint.

Crawlers capture a screenshot of each page they render at fetch time (what the platform showed when we saw
it) to `evidence_dir/<platform>/<post_id>.png`; a comment is proven by its parent page's screenshot. Where the
crawl knew the item's element, it also keeps a crop of that screenshot around the item, the item outlined
(`<post_id>.item.png`), and where the item sits in the full screenshot (`<post_id>.item.json`, an `ItemLocation`).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from core.records import Box, Evidence, EvidenceKind, Post
from core.settings import Settings

log = logging.getLogger(__name__)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _safe(post_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in post_id)


def screenshot_path(settings: Settings, platform: str, post_id: str) -> Path:
    return settings.evidence_dir / platform / f"{_safe(post_id)}.png"


def item_crop_path(settings: Settings, platform: str, post_id: str) -> Path:
    """The crop around one item; its `ItemLocation` sits beside it with the suffix `.json`."""
    return settings.evidence_dir / platform / f"{_safe(post_id)}.item.png"


class ItemLocation(BaseModel):
    """Where an item's crop came from: the full screenshot (a file name in the same folder), the item's box in it,
    and the part of it the crop shows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    screenshot: str
    box: Box
    region: Box


MAX_LOCATION_BYTES = 4096  # a location is a few numbers; anything bigger is not one


def read_location(crop: Path) -> ItemLocation | None:
    """The crop's recorded location, or None when missing, oversized or not a location."""
    path = crop.with_suffix(".json")
    try:
        if not path.is_file() or path.stat().st_size > MAX_LOCATION_BYTES:
            return None
        location = ItemLocation.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        log.warning("unreadable item location %s", path)
        return None
    # Only a plain name: a location must never point the console at a file outside its folder.
    return location if Path(location.screenshot).name == location.screenshot else None


def write_location(crop: Path, location: ItemLocation) -> None:
    crop.with_suffix(".json").write_text(location.model_dump_json(), encoding="utf-8")


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
    """Evidence already on disk for a post: the crop around it, its (or its parent's) screenshot and its raw
    response."""
    found: list[Evidence] = []
    candidates = [screenshot_path(settings, post.platform.value, post.post_id)]
    if post.parent_key and ":" in post.parent_key:
        platform, parent_id = post.parent_key.split(":", 1)
        candidates.append(screenshot_path(settings, platform, parent_id))
    crop = item_crop_path(settings, post.platform.value, post.post_id)
    location = read_location(crop) if crop.is_file() else None
    if location is not None:
        found.append(
            Evidence(
                kind=EvidenceKind.item_crop.value,
                path=str(crop),
                sha256=sha256_file(crop),
                captured_at=_captured_at(crop),
                box=location.box,
                screenshot=location.screenshot,
            )
        )
    for shot in candidates:
        if shot.is_file():
            found.append(
                Evidence(
                    kind=EvidenceKind.screenshot.value,
                    path=str(shot),
                    sha256=sha256_file(shot),
                    captured_at=_captured_at(shot),
                )
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
                Evidence(
                    kind=EvidenceKind.raw_response.value,
                    path=str(raw),
                    sha256=sha256_file(raw),
                    captured_at=_captured_at(raw),
                )
            )
    return tuple(found)
