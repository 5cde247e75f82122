"""Unattended operation: APScheduler 3.x runs the pipeline's stage functions from a TOML schedule.

Jobs are thin wrappers (as in Meta's HMA): they gather settings and dependencies, call a plain function from
wiring/pipeline.py or alerts/takedown/workflow.py, and record the outcome as a job run in the casebook. The job store is SQLite through SQLAlchemy, so jobs
and next run times survive restarts; `max_instances=1`, coalescing and a misfire grace time keep a slow job from
piling up; every crawl runs in its own process with a timeout (a Twisted reactor cannot restart).

Schedule file (TOML):

    timezone = "Asia/Shanghai" # cron fields are read, and `schedule list` shows times, in this zone (default UTC)

    [[jobs]]
    id = "crawl-douyin"        # unique
    kind = "crawl"             # crawl | index | report | deliver | recheck | alerts
    interval = "30m"           # or cron = "*/30 * * * *"; units s, m, h, d
    jitter = 60                # seconds
    timeout = 900              # crawl only: seconds before the crawl process is stopped
    [jobs.options]             # passed to the job: spider and spider args, report filters, channel...
    spider = "demo"
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import tomllib
from collections.abc import Callable
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.durations import parse_duration
from core.progress import progress
from core.settings import Settings, get_settings

log = logging.getLogger("qingyuan.scheduler")

JobKind = Literal["crawl", "index", "report", "deliver", "recheck", "alerts"]


class JobSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    kind: JobKind
    interval: str | int | float | None = None
    cron: str | None = None
    jitter: int = 0
    timeout: float = 900
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_trigger(self) -> JobSpec:
        if (self.interval is None) == (self.cron is None):
            raise ValueError(f"job {self.id}: give exactly one of interval or cron")
        if self.interval is not None:
            parse_duration(self.interval)
        if self.cron is not None and len(self.cron.split()) != 5:
            raise ValueError(f"job {self.id}: cron needs 5 fields (minute hour day month day_of_week)")
        if self.kind == "alerts":  # a bad rule name, window or anchor stops the schedule loading, not a 3 a.m. run
            from alerts.monitoring.registry import plan_from_options

            try:
                plan_from_options(self.options)
            except ValueError as exc:
                raise ValueError(f"job {self.id}: {exc}") from None
        return self

    def trigger(self, zone: tzinfo = timezone.utc) -> IntervalTrigger | CronTrigger:
        """The APScheduler trigger; a cron's fields are read as wall-clock times in `zone` (the schedule's)."""
        if self.cron is not None:
            minute, hour, day, month, day_of_week = self.cron.split()
            return CronTrigger(
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=day_of_week,
                timezone=zone,
                jitter=self.jitter or None,
            )
        assert self.interval is not None
        return IntervalTrigger(seconds=parse_duration(self.interval), jitter=self.jitter or None, timezone=zone)


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str = "UTC"  # an IANA zone name; cron fields and the times `schedule list` shows are in it
    jobs: list[JobSpec]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @model_validator(mode="after")
    def _known_zone(self) -> Schedule:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {self.timezone!r}: use an IANA name such as Asia/Shanghai") from exc
        return self

    @model_validator(mode="after")
    def _unique_ids(self) -> Schedule:
        ids = [j.id for j in self.jobs]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"duplicate job ids: {', '.join(sorted(dupes))}")
        return self


def load_schedule(path: Path) -> Schedule:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from exc
    return Schedule.model_validate(data)


# ------------------------------------------------------------------------- job bodies


def _crawl(settings: Settings, spec: JobSpec) -> dict[str, Any]:
    from crawlers.run import crawl_progress, run_crawl

    options = dict(spec.options)
    spider = options.pop("spider")
    if settings.redis_url:  # shared mode: the crawl workers take it; a run's job name carries its start time
        from wiring.fleet import enqueue_job

        job = f"{spec.id}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"
        return {"enqueued": enqueue_job(settings, spider, job, {k: str(v) for k, v in options.items()}), "job": job}
    with progress(f"{spec.id}: crawling {spider} (pages)") as advance:  # lines in the scheduler's log
        stats = run_crawl(
            spider, settings, spec.id, on_progress=crawl_progress(advance), timeout=spec.timeout, **options
        )
    return stats.model_dump(mode="json")


def _index(settings: Settings, spec: JobSpec) -> dict[str, Any]:
    from classifiers.load import load_classifier
    from core.spool import Spool
    from indexer import open_store
    from wiring.pipeline import index_posts

    store = open_store(settings)
    try:
        with progress(f"{spec.id}: indexing (posts read from the spool)") as advance:
            stats = index_posts(
                Spool(settings.spool_dir),
                settings=settings,
                store=store,
                classifier=load_classifier(settings),
                progress=advance,
            )
    finally:
        store.close()
    return {"seen": stats.seen, "classified": stats.classified, "lead_gen": stats.lead_gen, "indexed": stats.indexed}


def _report(settings: Settings, spec: JobSpec) -> dict[str, Any]:
    from alerts.takedown.workflow import write_reports
    from indexer import open_store

    store = open_store(settings)
    try:
        outcome = write_reports(
            settings=settings,
            store=store,
            platform=spec.options.get("platform"),
            include_unreviewed=bool(spec.options.get("include_unreviewed", False)),
            min_score=spec.options.get("min_score"),
        )
    finally:
        store.close()
    return {"batches": outcome.batches, "items": outcome.items, "paths": [str(p) for p in outcome.paths]}


def _deliver(settings: Settings, spec: JobSpec) -> dict[str, Any]:
    from alerts.takedown.workflow import deliver_pending

    return deliver_pending(settings=settings, options=spec.options)


def _recheck(settings: Settings, spec: JobSpec) -> dict[str, Any]:
    from wiring.crawling import recheck_reported

    return recheck_reported(settings=settings, options=spec.options, timeout=spec.timeout)


def _alerts(settings: Settings, spec: JobSpec) -> dict[str, Any]:
    from wiring.pipeline import evaluate_alerts

    return evaluate_alerts(settings=settings, options=spec.options)


JOB_BODIES: dict[str, Callable[[Settings, JobSpec], dict[str, Any]]] = {
    "crawl": _crawl,
    "index": _index,
    "report": _report,
    "deliver": _deliver,
    "recheck": _recheck,
    "alerts": _alerts,
}

# One lock per job id inside this process; APScheduler's max_instances=1 covers the scheduler, this covers
# `run-now` racing a scheduled run.
_locks: dict[str, threading.Lock] = {}


def record_history(settings: Settings, entry: dict[str, Any]) -> None:
    """One finished run into the casebook's job runs (start and end as ISO times)."""
    from casebook import Casebook

    settings.ensure_dirs()
    casebook = Casebook(settings.casebook)
    try:
        run_id = casebook.start_job(entry["job"], kind=entry.get("kind", ""), at=_when(entry.get("start")))
        casebook.finish_job(
            run_id,
            entry.get("outcome", "ok"),
            entry.get("counts"),
            entry.get("error", ""),
            at=_when(entry.get("end")),
        )
    finally:
        casebook.close()


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def read_history(settings: Settings, job_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The newest `limit` runs (of one job or all) from the casebook, oldest first, as the CLI shows them."""
    from casebook import Casebook

    settings.ensure_dirs()
    casebook = Casebook(settings.casebook)
    try:
        runs = casebook.list_jobs(job_id, limit=limit)
    finally:
        casebook.close()
    rows = []
    for run in reversed(runs):
        row: dict[str, Any] = {
            "run": run.id,
            "job": run.job_id,
            "kind": run.kind,
            "start": run.started_at.isoformat(),
            "end": run.ended_at.isoformat() if run.ended_at else "",
            "outcome": run.outcome,
            "counts": dict(run.counts or {}),
        }
        if run.error:
            row["error"] = run.error
        rows.append(row)
    return rows


def follow_history(
    settings: Settings,
    job_id: str | None,
    emit: Callable[[dict[str, Any]], None],
    stop: threading.Event,
    *,
    poll: float = 1.0,
    ready: Callable[[], None] | None = None,
) -> None:
    """Emit each job run as it is recorded (started, then again when it finishes) until `stop` is set; runs
    recorded before the call are not emitted (the caller shows those). `ready` is called once they are read."""
    seen = {(row["run"], row["outcome"]) for row in read_history(settings, job_id, _FOLLOW_WINDOW)}
    if ready is not None:
        ready()
    while not stop.wait(poll):
        for row in read_history(settings, job_id, _FOLLOW_WINDOW):
            if (row["run"], row["outcome"]) not in seen:
                seen.add((row["run"], row["outcome"]))
                emit(row)


_FOLLOW_WINDOW = 200  # runs re-read per poll: more than can start or finish in one second


def run_job(schedule_path: str, job_id: str) -> dict[str, Any]:
    """Run one job of the schedule now and record its outcome. Module-level so the job store can reference it."""
    settings = get_settings()
    settings.ensure_dirs()
    spec = next((j for j in load_schedule(Path(schedule_path)).jobs if j.id == job_id), None)
    if spec is None:
        raise KeyError(f"no job {job_id!r} in {schedule_path}")
    lock = _locks.setdefault(job_id, threading.Lock())
    if not lock.acquire(blocking=False):
        log.warning("job %s is still running; skipping this run", job_id)
        return {"skipped": "already running"}
    from casebook import Casebook

    casebook = Casebook(settings.casebook)
    run_id = casebook.start_job(job_id, kind=spec.kind)  # visible as "running" while it runs
    entry: dict[str, Any] = {}
    from alerts.takedown.workflow import JobFailed

    try:
        counts = JOB_BODIES[spec.kind](settings, spec)
        entry.update(outcome="ok", counts=counts)
        return counts
    except JobFailed as exc:
        log.error("job %s failed: %s", job_id, exc)
        entry.update(outcome="failed", counts=exc.counts, error=str(exc))
        raise
    except Exception as exc:
        log.exception("job %s failed", job_id)
        entry.update(outcome="error", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        lock.release()
        casebook.finish_job(run_id, entry.get("outcome", "error"), entry.get("counts"), entry.get("error", ""))
        casebook.close()


# ------------------------------------------------------------------------- the scheduler


def build_scheduler(settings: Settings, schedule_path: Path) -> BackgroundScheduler:
    settings.ensure_dirs()
    jobstore = SQLAlchemyJobStore(url=f"sqlite:///{settings.state_dir / 'jobs.sqlite3'}")
    scheduler = BackgroundScheduler(
        jobstores={"default": jobstore},
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 300},
        timezone=timezone.utc,
    )
    return scheduler


def sync_jobs(scheduler: BackgroundScheduler, schedule: Schedule, schedule_path: Path) -> None:
    """Make the job store match the schedule file, keeping next run times (and pauses) of unchanged jobs."""
    wanted = {spec.id: spec for spec in schedule.jobs}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            job.remove()
    for spec in schedule.jobs:
        existing = scheduler.get_job(spec.id)
        args = [str(Path(schedule_path).resolve()), spec.id]
        trigger = spec.trigger(schedule.zone)
        if (
            existing is not None
            and str(existing.trigger) == str(trigger)
            and str(existing.trigger.timezone) == str(trigger.timezone)  # str() of a trigger omits its zone
            and list(existing.args) == args
        ):
            continue
        paused = existing is not None and existing.next_run_time is None
        scheduler.add_job(run_job, trigger=trigger, args=args, id=spec.id, name=spec.id, replace_existing=True)
        if paused:
            scheduler.pause_job(spec.id)


def run_forever(
    schedule_path: Path,
    settings: Settings | None = None,
    stop_after: float | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run until SIGTERM/SIGINT, `stop` is set, or `stop_after` seconds; a clean shutdown waits for running jobs."""
    settings = settings or get_settings()
    schedule = load_schedule(schedule_path)
    scheduler = build_scheduler(settings, schedule_path)
    scheduler.start(paused=True)
    sync_jobs(scheduler, schedule, schedule_path)
    scheduler.resume()
    stop = stop or threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        log.warning("signal %d: finishing running jobs, then stopping", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    deadline = time.monotonic() + stop_after if stop_after else None
    try:
        while not stop.wait(0.5):
            if deadline and time.monotonic() >= deadline:
                break
    finally:
        # Spooled work is on disk already; waiting lets the running job finish its own writes.
        scheduler.shutdown(wait=True)


def open_store_for_cli(settings: Settings, schedule_path: Path) -> BackgroundScheduler:
    """A paused scheduler over the same job store, for list/pause/resume from another process."""
    scheduler = build_scheduler(settings, schedule_path)
    scheduler.start(paused=True)
    sync_jobs(scheduler, load_schedule(schedule_path), schedule_path)
    return scheduler
