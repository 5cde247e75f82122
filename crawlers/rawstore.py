"""Raw responses, kept gzip-compressed beside the spool so any verdict can be traced to what was served."""

from __future__ import annotations

import gzip
import os
from pathlib import Path


def save_raw(raw_dir: Path, platform: str, name: str, body: bytes) -> str:
    """Write body to raw_dir/platform/name.gz atomically; returns the reference stored in Post.raw_ref."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:150] or "response"
    rel = Path(platform) / f"{safe}.gz"
    path = Path(raw_dir) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    # mtime=0 keeps the bytes (and so the evidence hash) the same for the same body.
    tmp.write_bytes(gzip.compress(body, mtime=0))
    tmp.replace(path)
    return str(rel)


def load_raw(raw_dir: Path, ref: str) -> bytes:
    return gzip.decompress((Path(raw_dir) / ref).read_bytes())
