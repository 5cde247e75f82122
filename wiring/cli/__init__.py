"""The `qingyuan` command line, one module per command group; importing them registers their commands on `app`."""

from wiring.cli import (  # noqa: F401  (registration by import)
    console,
    crawl,
    model,
    posts,
    schedule,
    takedown,
)
from wiring.cli.base import app

__all__ = ["app"]
