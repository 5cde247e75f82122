"""The evidence bundle: one zip per batch holding every screenshot, raw response and kept post image once (items
that share a file share its member), the batch JSON and a SHA-256 manifest (manifest.json for machines,
manifest.sha256 for `sha256sum -c`), plus the zip's own hash beside it. The zip's comment is the batch id.

Files are hashed as they are copied into the zip, so the manifest describes exactly the bytes shipped; a hash that
differs from the one recorded at capture time is flagged, not hidden. Also home to the atomic-write helpers every
renderer uses (temp file in the same folder, fsync, rename), so a crash never leaves half a report behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from alerts.takedown.report import BEIJING, ReportBatch

_CHUNK = 1 << 20
_STORED_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".zip", ".gz", ".br"}  # already compressed


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temp path beside `target`; on success fsync it and rename it over `target`, else delete it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(target: Path, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def sha256_path(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class ManifestEntry(BaseModel):
    name: str  # path inside the zip
    sha256: str
    size: int
    item_ids: list[str] = []  # every item that cites this file
    kind: str | None = None
    captured_at: datetime | None = None
    recorded_sha256: str | None = None  # hash recorded at capture time
    matches_record: bool | None = None


class MissingEvidence(BaseModel):
    item_id: str
    kind: str
    name: str  # the member it would have been
    recorded_sha256: str


class BundleInfo(BaseModel):
    path: Path
    sha256: str  # of the zip itself
    sha256_path: Path  # "<zip>.sha256" sidecar in sha256sum format
    files: list[ManifestEntry]
    missing: list[MissingEvidence]
    mismatched: list[str]  # zip names whose bytes differ from the hash recorded at capture


def _zip_time(moment: datetime | None) -> tuple[int, int, int, int, int, int]:
    # Fixed, content-derived timestamps keep the zip byte-identical when the same batch is rendered again.
    if moment is None:
        return (1980, 1, 1, 0, 0, 0)
    local = moment.astimezone(BEIJING)
    if local.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (local.year, local.month, local.day, local.hour, local.minute, local.second)


def _info(name: str, moment: datetime | None) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_zip_time(moment))
    info.compress_type = zipfile.ZIP_STORED if Path(name).suffix.lower() in _STORED_SUFFIXES else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _add_file(zf: zipfile.ZipFile, name: str, source: Path, moment: datetime | None) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as src, zf.open(_info(name, moment), "w", force_zip64=True) as dst:
        for block in iter(lambda: src.read(_CHUNK), b""):
            digest.update(block)
            size += len(block)
            dst.write(block)
    return digest.hexdigest(), size


def _add_bytes(zf: zipfile.ZipFile, name: str, data: bytes, moment: datetime | None) -> ManifestEntry:
    zf.writestr(_info(name, moment), data)
    return ManifestEntry(name=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


@dataclass
class _Member:
    source: Path
    kind: str
    captured_at: datetime | None
    recorded_sha256: str
    item_ids: list[str] = field(default_factory=list)


def _members(batch: ReportBatch) -> tuple[dict[str, _Member], list[MissingEvidence]]:
    """Each zip member once, with every item citing it; evidence whose file is gone is listed as missing."""
    members: dict[str, _Member] = {}
    missing: list[MissingEvidence] = []
    for item in batch.items:
        cited: list[tuple[str, str | None, str, datetime | None, str]] = [
            (ev.path, ev.source, ev.kind, ev.captured_at, ev.sha256) for ev in item.evidence
        ]
        cited += [(t.path, t.source, "image", None, t.sha256 or "") for t in item.image_text if t.path]
        for name, source, kind, captured_at, sha in cited:
            if not source or not Path(source).is_file():
                missing.append(MissingEvidence(item_id=item.item_id, kind=kind, name=name, recorded_sha256=sha))
                continue
            member = members.setdefault(name, _Member(Path(source), kind, captured_at, sha))
            if item.item_id not in member.item_ids:
                member.item_ids.append(item.item_id)
    return members, missing


def write_bundle(batch: ReportBatch, zip_path: Path) -> BundleInfo:
    """Write `<batch_id>-evidence.zip` (atomically) and its `.sha256` sidecar; return what went in."""
    entries: list[ManifestEntry] = []
    mismatched: list[str] = []
    members, missing = _members(batch)
    with atomic_path(zip_path) as tmp, zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
        zf.comment = f"{batch.batch_id}".encode()
        for name, member in members.items():
            sha, size = _add_file(zf, name, member.source, member.captured_at)
            matches = (sha == member.recorded_sha256.lower()) if member.recorded_sha256 else None
            if matches is False:
                mismatched.append(name)
            entries.append(
                ManifestEntry(
                    name=name,
                    sha256=sha,
                    size=size,
                    item_ids=member.item_ids,
                    kind=member.kind,
                    captured_at=member.captured_at,
                    recorded_sha256=member.recorded_sha256 or None,
                    matches_record=matches,
                )
            )
        report = batch.model_dump_json(indent=2).encode("utf-8")
        entries.append(_add_bytes(zf, "report.json", report, batch.created_at))
        manifest = {
            "batch_id": batch.batch_id,
            "platform": batch.platform.value,
            "created_at": batch.created_at.isoformat(),
            "algorithm": "sha256",
            "files": [e.model_dump(mode="json") for e in entries],
            "missing": [m.model_dump(mode="json") for m in missing],
        }
        manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
        manifest_entry = _add_bytes(zf, "manifest.json", manifest_bytes, batch.created_at)
        lines = "".join(f"{e.sha256}  {e.name}\n" for e in [*entries, manifest_entry])
        zf.writestr(_info("manifest.sha256", batch.created_at), lines.encode("utf-8"))
        entries.append(manifest_entry)
    zip_sha = sha256_path(zip_path)
    sidecar = zip_path.with_name(zip_path.name + ".sha256")
    atomic_write_bytes(sidecar, f"{zip_sha}  {zip_path.name}\n".encode())
    return BundleInfo(
        path=zip_path, sha256=zip_sha, sha256_path=sidecar, files=entries, missing=missing, mismatched=mismatched
    )


def verify_bundle(zip_path: Path) -> list[str]:
    """Re-check a bundle as a partner would: the sidecar hash, then every line of manifest.sha256. [] means sound."""
    problems: list[str] = []
    sidecar = zip_path.with_name(zip_path.name + ".sha256")
    if sidecar.is_file():
        expected = sidecar.read_text("utf-8").split()[0]
        if expected != sha256_path(zip_path):
            problems.append(f"{zip_path.name}: zip hash differs from {sidecar.name}")
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        for line in zf.read("manifest.sha256").decode("utf-8").splitlines():
            if not line.strip():
                continue
            expected, name = line.split("  ", 1)
            if name not in names:
                problems.append(f"{name}: listed but absent")
                continue
            digest = hashlib.sha256()
            with zf.open(name) as fh:
                for block in iter(lambda: fh.read(_CHUNK), b""):
                    digest.update(block)
            if digest.hexdigest() != expected:
                problems.append(f"{name}: sha256 mismatch")
    return problems
