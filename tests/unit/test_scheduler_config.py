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
