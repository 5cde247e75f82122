from pathlib import Path

import pytest

from wiring import scheduler


def _write(tmp_path, text):
    path = tmp_path / "schedule.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_durations():
    assert scheduler.parse_duration("30s") == 30
    assert scheduler.parse_duration("15m") == 900
    assert scheduler.parse_duration("2h") == 7200
    assert scheduler.parse_duration(5) == 5
    with pytest.raises(ValueError):
        scheduler.parse_duration("soon")


def test_schedule_loads_and_builds_triggers(tmp_path):
    path = _write(
        tmp_path,
        """
[[jobs]]
id = "crawl-demo"
kind = "crawl"
interval = "30m"
jitter = 10
[jobs.options]
spider = "demo"

[[jobs]]
id = "report"
kind = "report"
cron = "0 */2 * * *"
""",
    )
    sched = scheduler.load_schedule(path)
    assert [j.id for j in sched.jobs] == ["crawl-demo", "report"]
    assert "0:30:00" in str(sched.jobs[0].trigger())
    assert "hour='*/2'" in str(sched.jobs[1].trigger())


@pytest.mark.parametrize(
    "body, message",
    [
        ('[[jobs]]\nid = "a"\nkind = "crawl"\n', "exactly one of interval or cron"),
        ('[[jobs]]\nid = "a"\nkind = "teleport"\ninterval = "1m"\n', "kind"),
        (
            '[[jobs]]\nid = "a"\nkind = "index"\ninterval = "1m"\n[[jobs]]\nid = "a"\nkind = "index"\ninterval = "2m"\n',
            "duplicate",
        ),
        ("jobs = [", "not valid TOML"),
    ],
)
def test_bad_schedules_say_what_is_wrong(tmp_path, body, message):
    with pytest.raises(ValueError, match=message):
        scheduler.load_schedule(_write(tmp_path, body))


def test_history_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("QINGYUAN_HOME", str(tmp_path))
    settings = scheduler.get_settings()
    start, end = "2026-11-01T08:00:00+00:00", "2026-11-01T08:05:00+00:00"
    scheduler.record_history(settings, {"job": "a", "start": start, "end": end, "outcome": "ok"})
    scheduler.record_history(settings, {"job": "b", "start": start, "end": end, "outcome": "error"})
    assert [r["job"] for r in scheduler.read_history(settings)] == ["a", "b"]
    assert scheduler.read_history(settings, "b")[0]["outcome"] == "error"


# ---------------------------------------------------------------- time zone and following the history


def test_cron_is_read_in_the_schedule_files_zone(tmp_path):
    from datetime import datetime, timedelta, timezone

    path = _write(
        tmp_path, 'timezone = "Asia/Shanghai"\n[[jobs]]\nid = "report"\nkind = "report"\ncron = "0 9 * * *"\n'
    )
    sched = scheduler.load_schedule(path)
    after = datetime(2026, 12, 6, 2, 0, tzinfo=timezone.utc)  # 10:00 in Beijing: the next 09:00 is tomorrow's
    fire = sched.jobs[0].trigger(sched.zone).get_next_fire_time(None, after)
    assert fire.utcoffset() == timedelta(hours=8)
    assert fire.astimezone(timezone.utc) == datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc)
    assert (
        scheduler.load_schedule(_write(tmp_path, '[[jobs]]\nid = "a"\nkind = "index"\ninterval = "1m"\n')).timezone
        == "UTC"
    )
    with pytest.raises(ValueError, match="unknown timezone"):
        scheduler.load_schedule(
            _write(tmp_path, 'timezone = "Beijing"\n[[jobs]]\nid = "a"\nkind = "index"\ninterval = "1m"\n')
        )


def test_schedule_list_shows_next_runs_in_the_files_zone_and_names_it(tmp_path, monkeypatch):
    import re

    from typer.testing import CliRunner

    from wiring.cli import app

    monkeypatch.setenv("QINGYUAN_HOME", str(tmp_path / "home"))
    example = scheduler.load_schedule(Path(__file__).resolve().parents[2] / "schedule.example.toml")
    assert example.timezone == "Asia/Shanghai"
    path = _write(
        tmp_path, 'timezone = "Asia/Shanghai"\n[[jobs]]\nid = "report-daily"\nkind = "report"\ncron = "0 9 * * *"\n'
    )
    result = CliRunner().invoke(app, ["schedule", "list", "-f", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "next run (Asia/Shanghai)" in result.stdout
    assert re.search(r"\d{4}-\d\d-\d\d 09:00:00 \+0800", result.stdout), result.stdout


def test_follow_history_emits_runs_as_they_are_recorded(tmp_path):
    import threading

    from casebook import Casebook
    from core.settings import Settings

    settings = Settings(home=tmp_path / "home", elasticsearch_url=None, casebook_url=None)
    scheduler.record_history(
        settings,
        {
            "job": "old",
            "kind": "index",
            "start": "2026-12-01T00:00:00+00:00",
            "end": "2026-12-01T00:01:00+00:00",
            "outcome": "ok",
        },
    )
    seen: list[dict] = []
    two = threading.Event()
    stop = threading.Event()

    def emit(row: dict) -> None:
        seen.append(row)
        if len(seen) == 2:
            two.set()

    started = threading.Event()
    follower = threading.Thread(
        target=scheduler.follow_history,
        args=(settings, None, emit, stop),
        kwargs={"poll": 0.05, "ready": started.set},
    )
    follower.start()
    try:
        assert started.wait(30)  # the follower has read what was there before it started
        casebook = Casebook(settings.casebook)
        try:
            run = casebook.start_job("index", kind="index")
            assert not two.wait(0.5)  # the old run is not repeated; the new one shows as running
            casebook.finish_job(run, "ok", {"indexed": 3}, "")
        finally:
            casebook.close()
        assert two.wait(30)
    finally:
        stop.set()
        follower.join(30)
    assert [(r["job"], r["outcome"]) for r in seen] == [("index", "running"), ("index", "ok")]
    assert seen[1]["counts"] == {"indexed": 3}


def test_history_follow_on_the_command_line_prints_new_runs_until_interrupted(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from core.settings import Settings

    home = tmp_path / "home"
    settings = Settings(home=home, elasticsearch_url=None, casebook_url=None)
    env = {**os.environ, "QINGYUAN_HOME": str(home)}
    cmd = [sys.executable, "-c", "from wiring.cli import app; app()", "schedule", "history", "--follow"]
    repo = Path(__file__).resolve().parents[2]
    with subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stderr is not None and proc.stdout is not None
            assert "following new runs" in proc.stderr.readline()  # it has read the history: record a run now
            scheduler.record_history(
                settings,
                {
                    "job": "deliver",
                    "kind": "deliver",
                    "start": "2026-12-06T01:00:00+00:00",
                    "end": "2026-12-06T01:00:05+00:00",
                    "outcome": "failed",
                    "error": "JobFailed: 1 batch dead-lettered",
                },
            )
            lines = []
            while len(lines) < 20 and not (lines and ("deliver" in lines[-1] or not lines[-1])):
                lines.append(proc.stdout.readline())  # the (empty) table first, then the new run
            assert "failed" in lines[-1] and "dead-lettered" in lines[-1], lines
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
