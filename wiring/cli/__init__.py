"""The `qingyuan` command line, one module per command group; importing them registers their commands on `app`."""

import importlib

from wiring.cli.base import app

# Registration order is the order `qingyuan --help` lists the commands: the pipeline's order of work.
for _group in ("posts", "review", "takedown", "monitoring", "crawl", "schedule", "console", "model", "worker"):
    importlib.import_module(f"wiring.cli.{_group}")

__all__ = ["app"]
