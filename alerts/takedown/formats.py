"""Report formats in one registry: a takedown batch's files, each named once (kind, suffix, MIME type, writer).

Rendering writes every registered format, the workflow records the files by kind in the casebook, delivery takes
their MIME types from here, and the console links and serves them by kind. A new format is one `ReportFormat`
entry and its writer (as Datasette registers an output format in one place).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from alerts.takedown.bundle import atomic_write_bytes, write_bundle
from alerts.takedown.render import render_html, write_json, write_xlsx
from alerts.takedown.report import ReportBatch

# Writes `batch` to `path`; `done` holds the files already written in this batch, by kind.
Writer = Callable[[ReportBatch, Path, Mapping[str, Path]], object]


@dataclass(frozen=True)
class ReportFormat:
    kind: str  # the one name of the file: casebook paths, console URLs, delivery
    suffix: str  # appended to the batch id
    mime: str
    # None when another format's writer produces this file in the same act (the zip writes its own hash).
    writer: Writer | None
    needs: tuple[str, ...] = ()  # kinds that must be written first
    link: str | None = None  # the console's download link text; None: not offered for download
    downloadable: bool = True

    def path(self, folder: Path, batch_id: str) -> Path:
        return folder / f"{batch_id}{self.suffix}"


def _zip(batch: ReportBatch, path: Path, done: Mapping[str, Path]) -> object:
    return write_bundle(batch, path)  # the sidecar <zip>.sha256 is written with it


def _xlsx(batch: ReportBatch, path: Path, done: Mapping[str, Path]) -> object:
    # Screenshot links point into the zip as unpacked beside the sheet (a folder named after the zip).
    package_dir = FORMATS["zip"].path(path.parent, batch.batch_id).name.removesuffix(".zip")
    return write_xlsx(batch, path, package_dir)


def _html(batch: ReportBatch, path: Path, done: Mapping[str, Path]) -> object:
    bundle = done["zip"]
    sidecar = FORMATS["sha256"].path(bundle.parent, batch.batch_id).read_text(encoding="utf-8")
    return atomic_write_bytes(path, render_html(batch, bundle.name, sidecar.split()[0]).encode("utf-8"))


_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# In the order `qingyuan report` prints the files.
FORMATS: Mapping[str, ReportFormat] = {
    f.kind: f
    for f in (
        ReportFormat("xlsx", ".xlsx", _XLSX, _xlsx, link="XLSX"),
        ReportFormat("json", ".json", "application/json", lambda b, p, _d: write_json(b, p), link="JSON"),
        ReportFormat("html", ".html", "text/html", _html, needs=("zip",), downloadable=False),
        ReportFormat("zip", "-evidence.zip", "application/zip", _zip, link="证据包"),
        ReportFormat("sha256", "-evidence.zip.sha256", "text/plain", None, needs=("zip",)),
    )
}


def write_files(batch: ReportBatch, out_dir: Path) -> dict[str, Path]:
    """Write every registered format of `batch` into `out_dir`; the files by kind, in registry order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    done: dict[str, Path] = {}
    pending = list(FORMATS.values())
    while pending:
        ready = [f for f in pending if all(n in done for n in f.needs)]
        if not ready:
            raise ValueError(f"report formats with unmet needs: {[f.kind for f in pending]}")
        for fmt in ready:
            path = fmt.path(out_dir, batch.batch_id)
            if fmt.writer is not None:
                fmt.writer(batch, path, done)
            elif not path.is_file():
                raise FileNotFoundError(f"{fmt.kind}: {path} was not written by the format it needs")
            done[fmt.kind] = path
            pending.remove(fmt)
    return {kind: done[kind] for kind in FORMATS}


def write_batch(batch: ReportBatch, out_dir: Path) -> list[Path]:
    """Write every registered format of `batch`; the paths in the order `qingyuan report` prints them."""
    return list(write_files(batch, out_dir).values())


def format_of(path: Path | str) -> ReportFormat | None:
    """The format a batch file belongs to, from its name (the longest matching suffix wins)."""
    name = Path(path).name
    matches = [f for f in FORMATS.values() if name.endswith(f.suffix)]
    return max(matches, key=lambda f: len(f.suffix)) if matches else None


def mime_type(path: Path | str) -> str:
    fmt = format_of(path)
    return fmt.mime if fmt else "application/octet-stream"
