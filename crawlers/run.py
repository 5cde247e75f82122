"""Run one crawl in its own process (a Twisted reactor cannot restart) and read back its stats.

Parent:  run_crawl("demo", settings, job="demo", base_url=url, on_progress=print) -> CrawlStats
Child:   python -m crawlers.run --spider demo --job demo --settings-file S.json --stats-file OUT.json --arg k=v
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.platforms import PLATFORMS, platform_spec
from core.progress import Advance
from core.settings import Settings

PROGRESS_PREFIX = "QY-PROGRESS "  # same as crawlers.middlewares.PROGRESS_PREFIX (not imported: keeps parent light)
REPO_ROOT = Path(__file__).resolve().parents[1]


class CrawlError(RuntimeError):
    """The crawl process failed before it could write its stats."""


class CrawlStats(BaseModel):
    """What a crawl did, read back from the JSON file the child writes."""

    spider: str
    job: str
    exit_code: int = 0
    finish_reason: str = ""
    pages: int = 0  # responses received (rendered pages)
    posts: int = 0  # Posts that passed validation and in-run dedup (captions + comments + bios)
    posts_spooled: int = 0  # of those, new or changed ones appended to the spool (0 on an unchanged re-crawl)
    captions: int = 0
    comments: int = 0
    bios: int = 0
    unchanged: int = 0
    duplicates: int = 0
    screenshots: int = 0
    raw_saved: int = 0
    errors: int = 0
    soft_blocks: int = 0
    gone: int = 0  # detail mode: the platform served no post (taken down)
    signed: int = 0  # requests signed (crawlers.signing)
    signing_failed: int = 0  # requests sent unsigned because signing failed (login wall, no keys): expect blocks
    duration_s: float = 0.0
    log_file: str = ""
    raw: dict[str, Any] = {}  # Scrapy's own stats, JSON-safe


def _stats_from_scrapy(s: dict[str, Any], spider: str, job: str, duration: float, log_file: str) -> CrawlStats:
    return CrawlStats(
        spider=spider,
        job=job,
        finish_reason=str(s.get("finish_reason", "")),
        pages=s.get("response_received_count", 0),
        posts=s.get("qingyuan/posts", 0),
        posts_spooled=s.get("qingyuan/posts_spooled", 0),
        captions=s.get("qingyuan/kind/caption", 0) + s.get("qingyuan/kind/post", 0),
        comments=s.get("qingyuan/kind/comment", 0),
        bios=s.get("qingyuan/kind/profile_bio", 0),
        unchanged=s.get("qingyuan/unchanged", 0),
        duplicates=s.get("qingyuan/duplicates", 0),
        screenshots=s.get("qingyuan/screenshots", 0),
        raw_saved=s.get("qingyuan/raw_saved", 0),
        errors=s.get("log_count/ERROR", 0),
        soft_blocks=s.get("qingyuan/soft_blocks", 0) + _sum(s, "qingyuan/soft_block/"),
        gone=_sum(s, "qingyuan/gone/"),
        signed=_sum(s, "qingyuan/signing/", suffix="/signed"),
        signing_failed=_sum(s, "qingyuan/signing_failed/") + _sum(s, "qingyuan/signing_unsupported/"),
        duration_s=round(duration, 2),
        log_file=log_file,
        raw=json.loads(json.dumps(s, default=str)),
    )


def _sum(stats: dict[str, Any], prefix: str, suffix: str = "") -> int:
    return int(
        sum(v for k, v in stats.items() if k.startswith(prefix) and k.endswith(suffix) and isinstance(v, int | float))
    )


def known_spiders() -> list[str]:
    """Spider names run_crawl accepts: one per registered platform (its spider module holds a class so named)."""
    return sorted(PLATFORMS)


def crawl_progress(advance: Advance) -> Callable[[dict[str, Any]], None]:
    """run_crawl's progress events shown through core.progress: pages done of those expected, posts, soft blocks."""

    def on_progress(event: dict[str, Any]) -> None:
        detail = f"{event.get('posts', 0)} posts, {event.get('soft_blocks', 0)} soft blocks"
        advance(0, total=event.get("expected_pages"), completed=event.get("pages", 0), detail=detail)

    return on_progress


def run_crawl(
    spider: str,
    settings: Settings,
    job: str,
    *,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    timeout: float = 1800.0,
    **spider_args: str,
) -> CrawlStats:
    """Run `spider` in a child process against `settings.home`; blocks until it ends and returns its stats.

    Progress dicts ({"stage", "pages", "posts", "items", "soft_blocks", "errors"}) go to on_progress as they come.
    The child's log goes to settings.state_dir/logs/crawl-<job>.log.
    """
    if spider not in known_spiders():
        raise ValueError(f"unknown spider {spider!r}; known: {', '.join(known_spiders())}")
    settings.ensure_dirs()
    log_dir = settings.state_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    safe_job = "".join(c if c.isalnum() or c in "-_." else "_" for c in job)
    log_file = log_dir / f"crawl-{safe_job}.log"
    with tempfile.TemporaryDirectory(prefix="qy-crawl-") as tmp:
        settings_file = Path(tmp) / "settings.json"
        stats_file = Path(tmp) / "stats.json"
        settings_file.write_text(settings.model_dump_json(), encoding="utf-8")
        cmd = [
            sys.executable,
            "-m",
            "crawlers.run",
            "--spider",
            spider,
            "--job",
            job,
            "--settings-file",
            str(settings_file),
            "--stats-file",
            str(stats_file),
            "--log-file",
            str(log_file),
        ]
        for k, v in spider_args.items():
            cmd += ["--arg", f"{k}={v}"]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        }
        deadline = time.monotonic() + timeout
        with subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=str(REPO_ROOT)
        ) as proc:
            assert proc.stdout is not None
            tail: list[str] = []
            for line in proc.stdout:
                if line.startswith(PROGRESS_PREFIX):
                    if on_progress is not None:
                        try:
                            on_progress(json.loads(line[len(PROGRESS_PREFIX) :]))
                        except json.JSONDecodeError:
                            pass
                else:
                    tail = [*tail, line.rstrip()][-20:]
                if time.monotonic() > deadline:
                    proc.kill()
                    raise CrawlError(f"crawl {job} timed out after {timeout}s")
            rc = proc.wait()
        if not stats_file.exists():
            raise CrawlError(f"crawl {job} exited {rc} without stats; see {log_file}\n" + "\n".join(tail))
        stats = CrawlStats.model_validate_json(stats_file.read_text(encoding="utf-8"))
        return stats.model_copy(update={"exit_code": rc})


def _spider_class(name: str) -> type:
    """The Spider subclass called `name` in the module its registry entry names (as Scrapy's loader: by `name`)."""
    import importlib

    from scrapy import Spider

    module_name = platform_spec(name).spider
    module = importlib.import_module(module_name)
    for obj in vars(module).values():
        if isinstance(obj, type) and issubclass(obj, Spider) and getattr(obj, "name", None) == name:
            return obj
    raise KeyError(f"no spider named {name!r} in {module_name}")


def _child(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers.run")
    parser.add_argument("--spider", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--settings-file", required=True)
    parser.add_argument("--stats-file", required=True)
    parser.add_argument("--log-file", default=None)
    parser.add_argument("--arg", action="append", default=[])
    ns = parser.parse_args(argv)

    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings as ScrapySettings

    from crawlers.settings import scrapy_settings as project_settings

    qy = Settings.model_validate_json(Path(ns.settings_file).read_text(encoding="utf-8"))
    scrapy_settings = ScrapySettings(project_settings(qy, ns.spider, ns.job, progress=True), priority="project")
    if ns.log_file:
        scrapy_settings.set("LOG_FILE", ns.log_file, priority="cmdline")
        scrapy_settings.set("LOG_FILE_APPEND", False, priority="cmdline")
    args = dict(a.split("=", 1) for a in ns.arg)
    started = time.monotonic()
    process = CrawlerProcess(scrapy_settings)
    crawler = process.create_crawler(_spider_class(ns.spider))
    process.crawl(crawler, job=ns.job, **args)
    process.start()
    stats = _stats_from_scrapy(
        crawler.stats.get_stats() if crawler.stats else {},
        ns.spider,
        ns.job,
        time.monotonic() - started,
        ns.log_file or "",
    )
    Path(ns.stats_file).write_text(stats.model_dump_json(), encoding="utf-8")
    return 0 if stats.finish_reason == "finished" else 1


if __name__ == "__main__":
    raise SystemExit(_child())
