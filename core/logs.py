"""Logging set-up shared by the CLI, the scheduler and crawl subprocesses."""

from __future__ import annotations

import logging
import os
import sys


class _WithoutTraceback(logging.Filter):
    """The Elasticsearch transport logs a whole traceback with every retry on another node; its line already says
    which node failed and for how long it is left alone, which is what an operator needs."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text = None, None
        return True


_ONE_LINE = _WithoutTraceback()


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
    for name in ("elastic_transport.transport", "elastic_transport.node_pool"):
        if _ONE_LINE not in logging.getLogger(name).filters:
            logging.getLogger(name).addFilter(_ONE_LINE)
