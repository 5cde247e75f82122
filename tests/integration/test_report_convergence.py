"""A `qingyuan report` killed at any moment converges on the next run, with index and casebook agreeing.

Each case runs the real command in a child process that SIGKILLs itself at one point of the run (mid-way through
writing the files, after the files, after the casebook write, after the outbox, after the index write), or is
killed from outside after a delay; then `qingyuan report` runs again, normally, and once more. Afterwards every
confirmed hit is in exactly one batch, each batch's items are `batched` under its id in the index, every batch is
staged in the outbox, nothing is left in the review queue, and the third run finds nothing new.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alerts.takedown.delivery import Outbox
from casebook import Casebook
from core.records import HitStatus
from core.settings import Settings
from indexer import open_store
from indexer.base import SearchQuery
from tests.factories import make_hit, make_post

REPO = Path(__file__).resolve().parents[2]

# Runs `qingyuan report` after arranging to SIGKILL this very process at one point of the run.
CHILD = """
import os, signal, sys
point = sys.argv[1]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def after(owner, name):
    real = getattr(owner, name)
    def wrapped(*args, **kwargs):
        result = real(*args, **kwargs)
        die()
        return result
    setattr(owner, name, wrapped)

import alerts.takedown.formats as formats
import alerts.takedown.workflow as workflow
from casebook import Casebook
from indexer.tantivy_store import TantivyHitStore

if point == "mid_files":
    after(formats, "write_xlsx")  # the registry's xlsx writer, called first
elif point == "after_files":
    after(formats, "write_files")
elif point == "after_casebook":
    after(Casebook, "add_batch")
elif point == "after_outbox":
    after(workflow, "_stage")
elif point == "after_index":
    after(TantivyHitStore, "set_status")
from wiring.cli import app
app(["report"], prog_name="qingyuan")
"""

POINTS = ["mid_files", "after_files", "after_casebook", "after_outbox", "after_index"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("QINGYUAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("QINGYUAN_ELASTICSEARCH_URL", raising=False)
    settings = Settings()
    settings.ensure_dirs()
    store = open_store(settings)
    try:
        hits = [make_hit(make_post(f"d{i}", platform="douyin"), status=HitStatus.confirmed) for i in range(3)] + [
            make_hit(make_post(f"w{i}", platform="weibo"), status=HitStatus.confirmed) for i in range(2)
        ]
        store.upsert(hits)
    finally:
        store.close()
    return settings


def _report(*args: str, kill_at: str | None = None, kill_after: float | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if kill_at is not None:
        return subprocess.run(
            [sys.executable, "-c", CHILD, kill_at], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
        )
    cmd = [sys.executable, "-c", "from wiring.cli import app; app(prog_name='qingyuan')", "report", *args]
    if kill_after is None:
        return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _assert_converged(settings: Settings) -> None:
    casebook = Casebook(settings.casebook)
    store = open_store(settings)
    try:
        batches = casebook.list_batches()
        in_batches = [key for b in batches for key in b.item_keys]
        assert sorted(in_batches) == sorted({*in_batches}), "an item was reported in two batches"
        hits = {
            h.key: h for h in store.get_many([f"douyin:d{i}" for i in range(3)] + [f"weibo:w{i}" for i in range(2)])
        }
        assert sorted(in_batches) == sorted(hits), "a confirmed hit is in no batch"
        outbox = Outbox(settings.outbox_dir)
        for batch in batches:
            assert outbox.is_staged(batch.id), f"{batch.id} recorded but never queued for delivery"
            for key in batch.item_keys:
                assert hits[key].status is HitStatus.batched and batch.id in hits[key].report_ids, key
        queue = store.search(SearchQuery(statuses=(HitStatus.new, HitStatus.confirmed), labels=("lead_gen",)))
        assert queue.total == 0, [h.key for h in queue.hits]
    finally:
        store.close()
        casebook.close()


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_a_report_killed_between_its_writes_converges_on_rerun(home: Settings, point: str) -> None:
    killed = _report(kill_at=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    rerun = _report()
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    _assert_converged(home)
    again = _report()
    assert again.returncode == 0 and "nothing new to report" in again.stderr and again.stdout == ""
    _assert_converged(home)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.5, 1.5, 3.0])
def test_a_report_killed_from_outside_at_any_moment_converges(home: Settings, delay: float) -> None:
    _report(kill_after=delay)  # wherever it was: starting up, writing files, or already done
    rerun = _report()
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    _assert_converged(home)
    again = _report()
    assert again.returncode == 0 and "nothing new to report" in again.stderr
    _assert_converged(home)
