"""Logging set-up shared by the CLI, the scheduler and crawl subprocesses."""

from __future__ import annotations

import logging
import os
import sys


def setup_logging(level: str | int | None = None) -> None:
    """Log to stderr (stdout is reserved for command output such as JSONL)."""
    level = level or os.environ.get("QINGYUAN_LOG_LEVEL", "WARNING")
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    # Third-party libraries are chatty at INFO; keep them to warnings unless asked.
    for noisy in ("jieba", "scrapy", "elastic_transport", "urllib3", "httpx", "filelock"):
        logging.getLogger(noisy).setLevel(max(logging.getLogger().level, logging.WARNING))
