"""Input files read line by line with every rejected line named, and outputs written without harming what is there.

Input files come from anywhere: a line may be invalid UTF-8, not JSON, or not an object. Each such line is
recorded as a `Rejected` (file, line number, reason) and the reading goes on, so the good lines still go through
and the caller can name every bad one and exit non-zero. Outputs are written to a temporary file beside the
target and renamed over it, but only when the target is (or will be) a regular file: renaming over /dev/null
or a FIFO would replace the device itself, so those (and `-`, stdout) are written directly.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

_SURROGATE = re.compile("[\ud800-\udfff]")


# What a spreadsheet reads as a formula when a cell starts with it (CSV and XLSX exports of crawled text).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse_formula(text: str) -> str:
    """Crawled text as a spreadsheet cell that is never run as a formula (a leading apostrophe, as Excel does)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def repair_surrogates(text: str) -> str:
    """`text` with every lone surrogate (which no UTF-8 encoder, index or JSON writer accepts) as U+FFFD.

    Length-preserving, so offsets into the text stay valid."""
    return _SURROGATE.sub("\ufffd", text)


def has_surrogates(text: str) -> bool:
    return _SURROGATE.search(text) is not None


@dataclass(frozen=True)
class Rejected:
    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


def input_problem(path: Path) -> str | None:
    """Why `path` cannot be read as an input file, or None when it can."""
    if path.is_dir():
        return f"{path} is a directory, not a file"
    if not path.exists():
        return f"input file not found: {path}"
    if not os.access(path, os.R_OK):
        return f"input file not readable: {path}"
    return None


def read_json_objects(path: Path, rejected: list[Rejected]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each JSON-object line of a JSONL file; blank lines are skipped and every other
    line that is not valid UTF-8 JSON holding an object is appended to `rejected`."""
    with Path(path).open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                rejected.append(Rejected(path, lineno, f"invalid UTF-8 at byte {exc.start} of the line"))
                continue
            except json.JSONDecodeError as exc:
                rejected.append(Rejected(path, lineno, f"not JSON ({exc.msg} at column {exc.colno})"))
                continue
            if not isinstance(row, dict):
                rejected.append(Rejected(path, lineno, f"a JSON {type(row).__name__}, not an object"))
                continue
            yield lineno, row


def _replaceable(target: Path) -> int | None:
    """The permission bits the output gets when write-then-rename is right for `target` (a regular file, or
    nothing yet), else None (a device, FIFO, socket: write into it instead)."""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return 0o644
    return stat.S_IMODE(mode) if stat.S_ISREG(mode) else None


@contextmanager
def open_output(target: Path, *, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """A text stream for `target`. A regular file is replaced whole on success (temp file, fsync, rename) and left
    untouched on failure, with no temp file left behind; a device, FIFO or `-` (stdout) is written directly."""
    if str(target) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    mode = _replaceable(target)
    if mode is None:
        with Path(target).open("w", encoding=encoding) as fh:
            yield fh
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
