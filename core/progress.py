"""Progress of long work (crawl, classify, index, train, the demo), the one place it is shown.

On a terminal it is a rich progress bar on stderr. Anywhere else (a log file, a pipe, cron, CI, the scheduler) a bar
prints nothing until the end, so plain lines are written instead, one every `interval` seconds while the work runs
and one when it ends:

    progress classifying: 1200/3000 (40%), 85.3/s, ETA 0:00:21, elapsed 0:00:14

Callers get an `advance(n=1, *, total=None, completed=None, detail=None)` function, whichever display is used.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, Protocol

DEFAULT_INTERVAL = 5.0  # seconds between plain lines: often enough to see work move, rare enough for a log


class Advance(Protocol):
    def __call__(
        self, n: int = 1, *, total: int | None = None, completed: int | None = None, detail: str | None = None
    ) -> None: ...


def _clock_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class ProgressLines:
    """Plain progress lines for a non-terminal: a line when `interval` has passed since the last, and a last one.

    `clock` is injectable so tests drive time; `write` receives each line without its newline."""

    def __init__(
        self,
        stage: str,
        total: int | None = None,
        *,
        write: Callable[[str], None],
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stage = stage
        self.total = total
        self.done = 0
        self.detail = ""
        self.interval = interval
        self._write = write
        self._clock = clock
        self._started = clock()
        self._last_line = self._started
        self._lock = threading.Lock()

    def advance(
        self, n: int = 1, *, total: int | None = None, completed: int | None = None, detail: str | None = None
    ) -> None:
        with self._lock:
            if total is not None:
                self.total = total
            self.done = completed if completed is not None else self.done + n
            if detail is not None:
                self.detail = detail
        self.tick()

    def tick(self) -> None:
        """Write a line if `interval` has passed since the last one (called on every advance and by a timer)."""
        with self._lock:
            now = self._clock()
            if now - self._last_line < self.interval:
                return
            self._last_line = now
            line = self.line(now)
        self._write(line)

    def finish(self) -> None:
        with self._lock:
            line = self.line(self._clock(), final=True)
        self._write(line)

    def line(self, now: float, *, final: bool = False) -> str:
        elapsed = now - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        count = f"{self.done}/{self.total} ({self.done / self.total:.0%})" if self.total else str(self.done)
        parts = [f"progress {self.stage}: {count}"]
        if self.detail:
            parts.append(self.detail)
        parts.append(f"{rate:.1f}/s")
        if final:
            parts.append("done")
        elif self.total and rate > 0:
            parts.append(f"ETA {_clock_text(max(0, self.total - self.done) / rate)}")
        parts.append(f"elapsed {_clock_text(elapsed)}")
        return ", ".join(parts)


def _writer(stream: IO[str]) -> Callable[[str], None]:
    def write(line: str) -> None:
        stream.write(line + "\n")
        stream.flush()  # a log must show the line now, not when a buffer fills

    return write


@contextmanager
def _lines(stage: str, total: int | None, stream: IO[str], interval: float) -> Iterator[Advance]:
    lines = ProgressLines(stage, total, write=_writer(stream), interval=interval)
    stop = threading.Event()

    def timer() -> None:  # lines keep coming while a slow step (one big batch, a crawl page) holds the caller
        while not stop.wait(min(1.0, interval)):
            lines.tick()

    ticker = threading.Thread(target=timer, name=f"progress {stage}", daemon=True)
    ticker.start()
    try:
        yield lines.advance
    finally:
        stop.set()
        ticker.join()
        lines.finish()


@contextmanager
def _bar(stage: str, total: int | None, stream: IO[str]) -> Iterator[Advance]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[detail]}"),
        console=Console(file=stream),
        transient=False,
    )
    with bar:
        task = bar.add_task(stage, total=total, detail="")

        def advance(
            n: int = 1, *, total: int | None = None, completed: int | None = None, detail: str | None = None
        ) -> None:
            fields: dict[str, Any] = {}
            if total is not None:
                fields["total"] = total
            if detail is not None:
                fields["detail"] = detail
            if completed is not None:
                bar.update(task, completed=completed, **fields)
            else:
                bar.update(task, advance=n, **fields)

        yield advance


@contextmanager
def progress(
    stage: str, total: int | None = None, *, stream: IO[str] | None = None, interval: float = DEFAULT_INTERVAL
) -> Iterator[Advance]:
    """Show the progress of `stage` on `stream` (stderr): a bar on a terminal, plain lines elsewhere."""
    stream = stream or sys.stderr
    on_terminal = hasattr(stream, "isatty") and stream.isatty()
    with _bar(stage, total, stream) if on_terminal else _lines(stage, total, stream, interval) as advance:
        yield advance
