"""The `qingyuan schedule` group: unattended operation from a TOML schedule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

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
        table = Table(title="jobs")
        for col in ("id", "kind", "trigger", "next run (UTC)", "last outcome"):
            table.add_column(col)
        kinds = {j.id: j.kind for j in scheduler.load_schedule(config).jobs}
        for job in sched.get_jobs():
            last = scheduler.read_history(settings, job.id, limit=1)
            outcome = f"{last[0]['outcome']} at {last[0]['end'][:19]}" if last else "-"
            nxt = job.next_run_time.strftime("%Y-%m-%d %H:%M:%S") if job.next_run_time else "paused"
            table.add_row(job.id, kinds.get(job.id, "?"), str(job.trigger), nxt, outcome)
        out.print(table)
    finally:
        sched.shutdown(wait=False)


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
) -> None:
    """Recent job runs: start, end, outcome, counts."""
    from wiring import scheduler

    rows = scheduler.read_history(get_settings(), job, limit)
    table = Table(title="job history")
    for col in ("job", "start", "end", "outcome", "counts / error"):
        table.add_column(col, overflow="fold")
    for row in rows:
        detail = row.get("error") or json.dumps(row.get("counts", {}), ensure_ascii=False, default=str)[:200]
        add_plain_row(table, row["job"], row["start"][:19], row.get("end", "")[:19], row.get("outcome", "?"), detail)
    out.print(table)
