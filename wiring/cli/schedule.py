"""The `qingyuan schedule` group: unattended operation from a TOML schedule."""

from __future__ import annotations

import json
import threading
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from core.labels import zh
from core.settings import get_settings
from wiring.cli.base import add_plain_row, app, err, fail, out

# ---------------------------------------------------------------- schedule

schedule_app = typer.Typer(help="Unattended operation from a TOML schedule (APScheduler).", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")
ScheduleFile = Annotated[Path, typer.Option("--config", "-f", help="Schedule TOML file.")]
DEFAULT_SCHEDULE = Path("schedule.toml")


def _schedule(path: Path):  # type: ignore[no-untyped-def]
    from wiring import scheduler

    if not path.is_file():
        raise fail(f"schedule file not found: {path}")
    try:
        scheduler.load_schedule(path)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    return scheduler


@schedule_app.command("run")
def schedule_run(
    config: ScheduleFile = DEFAULT_SCHEDULE,
    stop_after: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (tests, one-off runs).")
    ] = None,
) -> None:
    """Run the schedule until SIGTERM or Ctrl-C; running jobs finish first."""
    scheduler = _schedule(config)
    err.print(f"scheduler running from {config}; Ctrl-C or SIGTERM stops it cleanly")
    scheduler.run_forever(config, stop_after=stop_after)


@schedule_app.command("list")
def schedule_list(config: ScheduleFile = DEFAULT_SCHEDULE) -> None:
    """Jobs with their trigger, next run time and last outcome."""
    scheduler = _schedule(config)
    settings = get_settings()
    sched = scheduler.open_store_for_cli(settings, config)
    try:
        schedule = scheduler.load_schedule(config)
        zone = schedule.zone
        table = Table(title=f"jobs (times in {schedule.timezone})")
        for col in ("id", "kind", "trigger", f"next run ({schedule.timezone})", "last outcome"):
            table.add_column(col)
        kinds = {j.id: j.kind for j in schedule.jobs}
        for job in sched.get_jobs():
            last = scheduler.read_history(settings, job.id, limit=1)
            outcome = "-"
            if last:
                ended = _in_zone(last[0]["end"], zone)
                outcome = f"{zh('job_outcome', last[0]['outcome'])} {last[0]['outcome']} at {ended}"
            nxt = job.next_run_time.astimezone(zone).strftime(_TIME_IN_ZONE) if job.next_run_time else "paused 已暂停"
            kind = kinds.get(job.id, "?")
            add_plain_row(table, job.id, f"{zh('job_kind', kind)} {kind}", str(job.trigger), nxt, outcome)
        out.print(table)
    finally:
        sched.shutdown(wait=False)


_TIME_IN_ZONE = "%Y-%m-%d %H:%M:%S %z"  # the offset names the zone on every row, not only in the header


def _in_zone(iso: str, zone: tzinfo) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(zone).strftime(_TIME_IN_ZONE)


@schedule_app.command("run-now")
def schedule_run_now(job: str, config: ScheduleFile = DEFAULT_SCHEDULE) -> None:
    """Run one job immediately in this process and print its counts."""
    from alerts.takedown.workflow import JobFailed

    scheduler = _schedule(config)
    try:
        counts = scheduler.run_job(str(config.resolve()), job)
    except KeyError as exc:
        raise fail(str(exc)) from exc
    except JobFailed as exc:  # it ran, and something in it failed: show the counts, exit non-zero
        out.print(json.dumps(exc.counts, ensure_ascii=False, default=str))
        raise fail(str(exc)) from exc
    out.print(json.dumps(counts, ensure_ascii=False, default=str))


def _pause_resume(job: str, config: Path, pause: bool) -> None:
    scheduler = _schedule(config)
    sched = scheduler.open_store_for_cli(get_settings(), config)
    try:
        if sched.get_job(job) is None:
            raise fail(f"no job {job!r} in {config}")
        (sched.pause_job if pause else sched.resume_job)(job)
    finally:
        sched.shutdown(wait=False)
    err.print(f"{job} {'paused' if pause else 'resumed'}")


@schedule_app.command("pause")
def schedule_pause(job: str, config: ScheduleFile = DEFAULT_SCHEDULE) -> None:
    """Pause a job (kept in the job store across restarts)."""
    _pause_resume(job, config, pause=True)


@schedule_app.command("resume")
def schedule_resume(job: str, config: ScheduleFile = DEFAULT_SCHEDULE) -> None:
    """Resume a paused job."""
    _pause_resume(job, config, pause=False)


@schedule_app.command("history")
def schedule_history(
    job: Annotated[str | None, typer.Argument()] = None,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 20,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Then print each run as it is recorded, until Ctrl-C.")
    ] = False,
) -> None:
    """Recent job runs (times in UTC): start, end, outcome, counts; with --follow, new runs as they happen."""
    from wiring import scheduler

    settings = get_settings()
    rows = scheduler.read_history(settings, job, limit)
    table = Table(title="job history (UTC)")
    for col in ("job", "start", "end", "outcome", "counts / error"):
        table.add_column(col, overflow="fold")
    for row in rows:
        add_plain_row(table, row["job"], row["start"][:19], row.get("end", "")[:19], _outcome(row), _detail(row))
    out.print(table)
    if not follow:
        return
    stop = threading.Event()

    def ready() -> None:
        err.print(f"following new runs{f' of {job}' if job else ''}; Ctrl-C stops")
        err.file.flush()

    try:
        scheduler.follow_history(settings, job, _print_run, stop, ready=ready)
    except KeyboardInterrupt:
        stop.set()


def _outcome(row: dict[str, Any]) -> str:
    outcome = str(row.get("outcome", "?"))
    return f"{zh('job_outcome', outcome)} {outcome}"


def _detail(row: dict[str, Any]) -> str:
    return row.get("error") or json.dumps(row.get("counts", {}), ensure_ascii=False, default=str)[:200]


def _print_run(row: dict[str, Any]) -> None:
    """One run on one plain line, as `tail -f` would show it: a script can read it, a pipe shows it at once."""
    cells = [row["start"][:19], row.get("end", "")[:19] or "-", row["job"], _outcome(row), _detail(row)]
    out.print(Text("  ".join(cells)), soft_wrap=True)
    out.file.flush()
