"""Unattended operation end to end: a schedule crawls the demo site, classifies, indexes, reports, delivers to a
real webhook on loopback and re-checks reported posts until one is taken down, with no person involved."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlsplit

import pytest

from alerts.takedown.workflow import takedown_stats
from core.records import HitStatus
from core.settings import Settings
from demo.server import serve_demo
from indexer import open_store
from indexer.base import SearchQuery
from tests.integration.partner_servers import Receiver, serve_webhook
from wiring import scheduler

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.slow]
SECRET = "test-secret-不要外传"


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def _hits(settings: Settings) -> dict:
    store = open_store(settings)
    try:
        return {h.key: h for h in store.search(SearchQuery(labels=("lead_gen",), limit=1000)).hits}
    finally:
        store.close()


def _statuses(settings: Settings) -> dict[str, HitStatus]:
    return {k: h.status for k, h in _hits(settings).items()}


def test_schedule_runs_crawl_to_takedown_without_a_person(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("QINGYUAN_HOME", str(home))
    monkeypatch.setenv("QY_TEST_WEBHOOK_SECRET", SECRET)
    settings = Settings(home=home)
    receiver = Receiver(SECRET)
    taken_down: set[str] = set()
    stop = threading.Event()
    with serve_webhook(receiver, "/takedowns") as webhook_url, serve_demo(taken_down=taken_down) as site:
        schedule = tmp_path / "schedule.toml"
        schedule.write_text(
            f"""
[[jobs]]
id = "crawl-demo"
kind = "crawl"
interval = "3s"
timeout = 300
[jobs.options]
spider = "demo"
base_url = "{site}"
max_posts = "6"

[[jobs]]
id = "index"
kind = "index"
interval = "2s"

[[jobs]]
id = "report"
kind = "report"
interval = "2s"
[jobs.options]
include_unreviewed = true
min_score = 0.5

[[jobs]]
id = "deliver"
kind = "deliver"
interval = "2s"
[jobs.options]
channel = "webhook"
url = "{webhook_url}"
secret_env = "QY_TEST_WEBHOOK_SECRET"
base_delay = 0.1

[[jobs]]
id = "recheck"
kind = "recheck"
interval = "2s"
""",
            encoding="utf-8",
        )
        runner = threading.Thread(target=scheduler.run_forever, args=(schedule, settings), kwargs={"stop": stop})
        runner.start()
        try:
            _wait(lambda: receiver.processed, 240, "a delivered takedown batch")
            _wait(lambda: HitStatus.still_up in _statuses(settings).values(), 120, "a re-check finding a post still up")
            # The platform acts on the notice: the video page of one reported post disappears.
            victim = next(
                h for h in _hits(settings).values() if h.status is HitStatus.still_up and "/video/" in h.post.url
            ).key
            # A comment's URL is its video page plus a #comment- fragment: take down the page itself.
            taken_down.add(urlsplit(_hits(settings)[victim].post.url).path.rsplit("/", 1)[-1])
            _wait(lambda: _statuses(settings).get(victim) is HitStatus.removed, 120, "the re-check seeing the takedown")
        finally:
            stop.set()
            runner.join(120)

    # every request was signed and accepted, and no batch was delivered twice
    assert list(receiver.processed.values()) == [1] * len(receiver.requests)
    batch = json.loads(receiver.requests[0][1])
    assert batch["platform"] == "demo" and batch["items"]
    history = scheduler.read_history(settings, limit=1000)
    for kind in ("crawl", "index", "report", "deliver", "recheck"):
        runs = [h for h in history if h["kind"] == kind]
        assert runs and all(h["outcome"] == "ok" for h in runs), (kind, runs[-1:])
    (demo_stats,) = takedown_stats(settings)
    assert demo_stats.removed >= 1 and demo_stats.reported >= demo_stats.removed
    assert demo_stats.median_hours_to_takedown is not None
