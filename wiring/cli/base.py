"""What every command group of the `qingyuan` command line shares: the typer app, the two consoles, failing,
and opening the store and the classifier. Progress is shown by `core.progress.progress` (bar or plain lines).

Command output (JSONL, JSON, tables, paths) goes to stdout; progress and logs go to stderr, so the
commands compose in shell pipelines. Contracts are in docs/design.md; other tools rely on them.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from core.logs import setup_logging
from core.settings import Settings

app = typer.Typer(
    name="qingyuan",
    help="Qingyuan 清源: find, prove and take down posts that recruit for illegal debt-relief agencies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _console(stderr: bool, highlight: bool) -> Console:
    """A console that wraps only at a terminal's real width: piped or logged, rich would otherwise wrap every line at
    80 columns, mid-phrase; there, lines are printed whole and tables get the width their cells need."""
    console = Console(stderr=stderr, highlight=highlight, soft_wrap=True)
    if not console.is_terminal:
        console = Console(stderr=stderr, highlight=highlight, soft_wrap=True, width=_UNWRAPPED_WIDTH)
    return console


_UNWRAPPED_WIDTH = 10_000  # "no wrapping": wider than any summary line or table row we print
err = _console(stderr=True, highlight=True)
out = _console(stderr=False, highlight=False)


def add_plain_row(table: Table, *cells: str) -> None:
    """A table row whose cells are shown as written: crawled text must never be read as rich markup."""
    table.add_row(*(Text(cell) for cell in cells))


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at INFO to stderr.")] = False) -> None:
    setup_logging("INFO" if verbose else None)


def open_store_for(settings: Settings):  # type: ignore[no-untyped-def]
    from indexer import open_store

    return open_store(settings)


def load_classifier_for(settings: Settings, kind: str | None = None):  # type: ignore[no-untyped-def]
    from classifiers.load import load_classifier

    try:
        return load_classifier(settings, kind)
    except (FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from exc


_SHOWN_REJECTS = 50


def finish(summary: str, rejected: list[Any]) -> None:
    """Print the summary with the count of rejected lines, name each one (the first 50), exit 1 if any."""
    if not rejected:
        err.print(summary, soft_wrap=True)
        return
    for line in rejected[:_SHOWN_REJECTS]:  # one line each, unwrapped, so a script can read them
        err.print(Text(f"rejected {line}"), style="red", soft_wrap=True)
    if len(rejected) > _SHOWN_REJECTS:
        err.print(f"... and {len(rejected) - _SHOWN_REJECTS} more rejected lines", soft_wrap=True)
    err.print(f"{summary}; {len(rejected)} line{'s' if len(rejected) > 1 else ''} rejected", soft_wrap=True)
    raise typer.Exit(1)
