"""The casebook: the one owner of workflow state (reviews, report batches, deliveries, job runs, re-checks) and,
through AccountsMixin, of analysts, sessions and the audit log. SQLite by default; PostgreSQL (or any SQLAlchemy 2
URL) through the same models. The index keeps searchable copies of hit status, updated from here (see
alerts/takedown/workflow.py's reconcile).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, delete, event, insert, inspect, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from casebook.accounts import AccountsMixin, AuditEntry
from casebook.schema import Base, Delivery, Intake, JobRun, Lease, Recheck, ReportBatch, Review, ReviewText
from core.records import utcnow


@dataclass(frozen=True)
class Decision:
    """An analyst's newest confirm/dismiss of a hit, with the text they saw (training data from reviews)."""

    key: str
    decision: str  # confirmed | dismissed
    category: str | None  # the analyst's category; None keeps the model's
    text: str


_CREATE_LOCK = threading.Lock()


class Casebook(AccountsMixin):
    """Small typed methods over the casebook database at `url` (tables created when missing)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, echo=echo, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._create_tables()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def _create_tables(self) -> None:
        """Create missing tables; several jobs may open a fresh casebook at once, so losing that race is fine."""
        with _CREATE_LOCK:
            for attempt in range(3):
                try:
                    Base.metadata.create_all(self.engine)
                    self._add_missing_columns()
                    return
                except (OperationalError, IntegrityError, ProgrammingError) as exc:
                    # Another process created a table between check and create: SQLite says "already exists",
                    # PostgreSQL a duplicate key in its type catalogue (two index workers opening a fresh casebook).
                    raced = "already exists" in str(exc) or "pg_type_typname_nsp_index" in str(exc)
                    if not raced or attempt == 2:
                        raise

    def _add_missing_columns(self) -> None:
        """Columns added since a casebook was created (create_all adds tables, never columns)."""
        present = {c["name"] for c in inspect(self.engine).get_columns("job_runs")}
        if "kind" not in present:
            with self.engine.begin() as conn:
                conn.execute(text("ALTER TABLE job_runs ADD COLUMN kind VARCHAR(30) DEFAULT ''"))

    def __repr__(self) -> str:
        return f"Casebook({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    # reviews
    def record_review(
        self,
        hit_key: str,
        analyst: str,
        decision: str,
        reason: str = "",
        category_from: str | None = None,
        category_to: str | None = None,
        at: datetime | None = None,
        text: str = "",
    ) -> Review:
        """Record a decision, the text the analyst saw and its audit line in one transaction."""
        row = Review(
            hit_key=hit_key,
            analyst=analyst,
            decision=decision,
            reason=reason,
            category_from=category_from,
            category_to=category_to,
            at=at or utcnow(),
        )
        with self.session() as s:
            s.add(row)
            s.add(
                AuditEntry(
                    who=analyst,
                    what=f"review:{decision}",
                    why=reason,
                    details={"hit_key": hit_key, "category_from": category_from, "category_to": category_to},
                    at=row.at,
                )
            )
            s.flush()
            s.add(ReviewText(review_id=row.id, hit_key=hit_key, text=text))
        return row

    def list_reviews(self, hit_key: str | None = None, limit: int = 1000) -> list[Review]:
        stmt = select(Review).order_by(Review.at.desc(), Review.id.desc()).limit(limit)
        if hit_key:
            stmt = stmt.where(Review.hit_key == hit_key)
        with self.session() as s:
            return list(s.scalars(stmt))

    def latest_reviews(self, hit_keys: Sequence[str]) -> dict[str, Review]:
        """The most recent review per key, for keys that have one."""
        out: dict[str, Review] = {}
        with self.session() as s:
            for start in range(0, len(hit_keys), 500):
                chunk = list(hit_keys[start : start + 500])
                stmt = select(Review).where(Review.hit_key.in_(chunk)).order_by(Review.at, Review.id)
                for row in s.scalars(stmt):
                    out[row.hit_key] = row
        return out

    def current_category(self, hit_key: str) -> str | None:
        """The analysts' category for a hit (the newest review naming one), or None to keep the model's."""
        for row in self.list_reviews(hit_key):
            if row.category_to:
                return row.category_to
        return None

    def decisions(self) -> list[Decision]:
        """The newest confirm/dismiss per key with the text the analyst saw, oldest first."""
        latest: dict[str, Review] = {}
        for row in reversed(self.list_reviews(limit=10_000_000)):
            if row.decision in ("confirmed", "dismissed"):
                latest[row.hit_key] = row
        texts: dict[int, str] = {}
        ids = [r.id for r in latest.values()]
        with self.session() as s:
            for start in range(0, len(ids), 500):
                rows = s.scalars(select(ReviewText).where(ReviewText.review_id.in_(ids[start : start + 500])))
                texts.update({t.review_id: t.text for t in rows})
        ordered = sorted(latest.values(), key=lambda r: (r.at, r.id))
        return [Decision(r.hit_key, r.decision, r.category_to, texts.get(r.id, "")) for r in ordered]

    # review leases
    def claim(self, key: str, analyst: str, minutes: float) -> bool:
        """Take the lease on `key` for `minutes` if nobody else holds an unexpired one; renew our own."""
        now = utcnow()
        expires = now + timedelta(minutes=minutes)
        with self.session() as s:
            s.execute(delete(Lease).where(Lease.key == key, Lease.expires_at < now))
            renewed = s.execute(
                update(Lease).where(Lease.key == key, Lease.analyst == analyst).values(expires_at=expires)
            )
            if int(getattr(renewed, "rowcount", 0) or 0):
                return True
        try:
            with self.session() as s:
                s.add(Lease(key=key, analyst=analyst, expires_at=expires))
        except IntegrityError:
            return False  # someone else holds it: the primary key settled the race
        return True

    def lease_holder(self, key: str) -> str | None:
        with self.session() as s:
            row = s.get(Lease, key)
            return None if row is None or row.expires_at < utcnow() else row.analyst

    def leased_by_others(self, analyst: str) -> set[str]:
        with self.session() as s:
            rows = s.scalars(select(Lease).where(Lease.analyst != analyst, Lease.expires_at >= utcnow()))
            return {r.key for r in rows}

    def my_lease(self, analyst: str) -> str | None:
        stmt = (
            select(Lease)
            .where(Lease.analyst == analyst, Lease.expires_at >= utcnow())
            .order_by(Lease.expires_at.desc())
        )
        with self.session() as s:
            row = s.scalars(stmt).first()
            return row.key if row else None

    def release(self, key: str, analyst: str) -> None:
        with self.session() as s:
            s.execute(delete(Lease).where(Lease.key == key, Lease.analyst == analyst))

    # report batches and deliveries
    def add_batch(
        self,
        batch_id: str,
        platform: str,
        item_keys: Sequence[str],
        paths: dict[str, str] | None = None,
        status: str = "built",
        created_at: datetime | None = None,
    ) -> ReportBatch:
        row = ReportBatch(
            id=batch_id,
            platform=platform,
            item_keys=list(item_keys),
            paths={k: str(v) for k, v in (paths or {}).items()},
            status=status,
            created_at=created_at or utcnow(),
        )
        with self.session() as s:
            s.add(row)
        return row

    def set_batch_status(self, batch_id: str, status: str) -> None:
        with self.session() as s:
            row = s.get(ReportBatch, batch_id)
            if row is None:
                raise KeyError(batch_id)
            row.status = status

    def get_batch(self, batch_id: str) -> ReportBatch | None:
        with self.session() as s:
            return s.get(ReportBatch, batch_id)

    def list_batches(self, platform: str | None = None, limit: int = 1000) -> list[ReportBatch]:
        stmt = select(ReportBatch).order_by(ReportBatch.created_at.desc()).limit(limit)
        if platform:
            stmt = stmt.where(ReportBatch.platform == platform)
        with self.session() as s:
            return list(s.scalars(stmt))

    def reported_keys(self, platform: str | None = None) -> set[str]:
        return {k for b in self.list_batches(platform, limit=1_000_000) for k in b.item_keys}

    def record_delivery(
        self, batch_id: str, channel: str, state: str, response: str = "", attempt: int | None = None
    ) -> Delivery:
        with self.session() as s:
            if attempt is None:
                previous = s.scalars(
                    select(Delivery.attempt)
                    .where(Delivery.batch_id == batch_id, Delivery.channel == channel)
                    .order_by(Delivery.attempt.desc())
                    .limit(1)
                ).first()
                attempt = (previous or 0) + 1
            row = Delivery(batch_id=batch_id, channel=channel, attempt=attempt, state=state, response=response[:10_000])
            s.add(row)
        return row

    def list_deliveries(self, batch_id: str | None = None) -> list[Delivery]:
        stmt = select(Delivery).order_by(Delivery.at, Delivery.id)
        if batch_id:
            stmt = stmt.where(Delivery.batch_id == batch_id)
        with self.session() as s:
            return list(s.scalars(stmt))

    # intake (shared mode)
    def intake_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of `keys` have arrived already."""
        found: set[str] = set()
        with self.session() as s:
            for start in range(0, len(keys), 500):
                found.update(s.scalars(select(Intake.key).where(Intake.key.in_(list(keys[start : start + 500])))))
        return found

    def record_intake(self, rows: Sequence[dict[str, Any]]) -> int:
        """Record arrivals; a key already recorded keeps its first row (idempotent). Returns rows added."""
        if not rows:
            return 0
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt: Any = pg_insert(Intake).on_conflict_do_nothing(index_elements=["key"])
        elif self.engine.dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt = sqlite_insert(Intake).on_conflict_do_nothing(index_elements=["key"])
        else:
            known = self.intake_keys([r["key"] for r in rows])
            rows = [r for r in rows if r["key"] not in known]
            stmt = insert(Intake)
        with self.session() as s:
            result = s.execute(stmt, [{"at": utcnow(), **r} for r in rows])
        return max(0, int(getattr(result, "rowcount", 0) or 0))

    def count_intake(self) -> int:
        from sqlalchemy import func

        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(Intake)) or 0)

    # jobs
    def start_job(self, job_id: str, kind: str = "", at: datetime | None = None) -> int:
        with self.session() as s:
            row = JobRun(job_id=job_id, kind=kind, started_at=at or utcnow())
            s.add(row)
            s.flush()
            return int(row.id)

    def finish_job(
        self,
        run_id: int,
        outcome: str,
        counts: dict[str, Any] | None = None,
        error: str = "",
        at: datetime | None = None,
    ) -> None:
        with self.session() as s:
            row = s.get(JobRun, run_id)
            if row is None:
                raise KeyError(run_id)
            row.ended_at = at or utcnow()
            row.outcome = outcome
            row.counts = dict(counts or {})
            row.error = error[:10_000]

    def list_jobs(self, job_id: str | None = None, limit: int = 100) -> list[JobRun]:
        stmt = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
        if job_id:
            stmt = stmt.where(JobRun.job_id == job_id)
        with self.session() as s:
            return list(s.scalars(stmt))

    # re-checks
    def record_recheck(
        self, hit_key: str, outcome: str, batch_id: str | None = None, http_status: int | None = None, detail: str = ""
    ) -> Recheck:
        row = Recheck(hit_key=hit_key, outcome=outcome, batch_id=batch_id, http_status=http_status, detail=detail)
        with self.session() as s:
            s.add(row)
        return row

    def list_rechecks(self, hit_key: str | None = None, limit: int = 1000) -> list[Recheck]:
        stmt = select(Recheck).order_by(Recheck.at.desc(), Recheck.id.desc()).limit(limit)
        if hit_key:
            stmt = stmt.where(Recheck.hit_key == hit_key)
        with self.session() as s:
            return list(s.scalars(stmt))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web UI read while a job writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
