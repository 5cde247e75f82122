"""The casebook: what people and jobs decided and did about hits (reviews, report batches, deliveries, audit log,
analysts, job runs, re-checks). SQLite by default; PostgreSQL (or any SQLAlchemy 2 URL) through the same models.

The index holds what a hit *is*; the casebook holds who did what to it, when and why.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    case,
    create_engine,
    delete,
    event,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from core.records import utcnow


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out (SQLite drops tzinfo; PostgreSQL keeps it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the casebook; use UTC-aware times")
        return value.astimezone(utcnow().tzinfo)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=utcnow().tzinfo)
        return value


class Base(DeclarativeBase):
    pass


class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hit_key: Mapped[str] = mapped_column(String(300), index=True)
    analyst: Mapped[str] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(30))  # confirmed | dismissed | ...
    reason: Mapped[str] = mapped_column(Text, default="")
    category_from: Mapped[str | None] = mapped_column(String(50), nullable=True)
    category_to: Mapped[str | None] = mapped_column(String(50), nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class ReportBatch(Base):
    __tablename__ = "report_batches"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    platform: Mapped[str] = mapped_column(String(50), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    item_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    paths: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # kind (xlsx/json/html/zip) -> path
    status: Mapped[str] = mapped_column(String(30), default="built")  # built | sent | failed | acknowledged


class Delivery(Base):
    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("report_batches.id"), index=True)
    channel: Mapped[str] = mapped_column(String(50))  # smtp | webhook | ...
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(30))  # queued | sent | failed
    response: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    who: Mapped[str] = mapped_column(String(100))
    what: Mapped[str] = mapped_column(String(200))
    why: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class Analyst(Base):
    __tablename__ = "analysts"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(300))  # scrypt$n$r$p$salt$hash; never plaintext
    active: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ConsoleSession(Base):
    """A signed-in console session. The browser holds a random token; only its SHA-256 is stored, so a copy of the
    database cannot be replayed as a cookie. Deleting the row (logout, password change) ends the session."""

    __tablename__ = "console_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the token
    analyst: Mapped[str] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LoginCounter(Base):
    """Sign-in attempts per key ("name:..", "addr:..", "pair:..|..") in a fixed window, counted by one atomic
    upsert per attempt before the password is checked, so parallel guesses cannot slip past the limit. A
    "known:name|address" row marks where a name last signed in successfully."""

    __tablename__ = "login_counters"
    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class JobRun(Base):
    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(100), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    outcome: Mapped[str] = mapped_column(String(30), default="running")  # running | ok | failed | skipped
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")


class Recheck(Base):
    __tablename__ = "rechecks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hit_key: Mapped[str] = mapped_column(String(300), index=True)
    batch_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    outcome: Mapped[str] = mapped_column(String(30))  # removed | still_up | blocked | error
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


# -- passwords ----------------------------------------------------------------------------------------------------

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_DUMMY_HASH: list[str] = []  # one hash made on first use: an unknown name costs one scrypt, like a known one


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(
        password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(digest) // 2
    )
    return hmac.compare_digest(candidate.hex(), digest)


# -- the casebook -------------------------------------------------------------------------------------------------


_CREATE_LOCK = threading.Lock()


class Casebook:
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
                    return
                except OperationalError as exc:  # another process created a table between check and create
                    if "already exists" not in str(exc) or attempt == 2:
                        raise

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
    ) -> Review:
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

    # audit
    def audit(self, who: str, what: str, why: str = "", details: dict[str, Any] | None = None) -> AuditEntry:
        # Round-trip through JSON now, so an unserialisable detail fails here and not at commit time.
        row = AuditEntry(who=who, what=what, why=why, details=json.loads(json.dumps(details or {}, default=str)))
        with self.session() as s:
            s.add(row)
        return row

    def list_audit(self, who: str | None = None, limit: int = 1000) -> list[AuditEntry]:
        stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
        if who:
            stmt = stmt.where(AuditEntry.who == who)
        with self.session() as s:
            return list(s.scalars(stmt))

    # analysts
    def add_analyst(self, name: str, password: str) -> Analyst:
        if not name or not password:
            raise ValueError("name and password are required")
        with self.session() as s:
            row = s.get(Analyst, name)
            if row is None:
                row = Analyst(name=name, password_hash=hash_password(password))
                s.add(row)
            else:
                row.password_hash = hash_password(password)
                row.active = 1
            # A new password ends every session signed in with the old one (a stolen cookie dies with it).
            ended = s.execute(delete(ConsoleSession).where(ConsoleSession.analyst == name))
            details = {"name": name, "sessions_ended": int(getattr(ended, "rowcount", 0) or 0)}
            s.add(AuditEntry(who="system", what="analyst:set_password", details=details))
        return row

    def check_password(self, name: str, password: str) -> bool:
        with self.session() as s:
            row = s.get(Analyst, name)
            stored = row.password_hash if row is not None and row.active else None
        if stored is None:
            if not _DUMMY_HASH:
                _DUMMY_HASH.append(hash_password(secrets.token_hex(16)))
            verify_password(password, _DUMMY_HASH[0])  # exactly the work of a wrong password for a known name
            return False
        return verify_password(password, stored)

    # console sessions
    def open_session(self, analyst: str) -> str:
        """A new session for `analyst`; returns the token for the cookie (only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        with self.session() as s:
            s.add(ConsoleSession(id=_token_id(token), analyst=analyst))
        return token

    def session_analyst(self, token: str, *, idle: timedelta, lifetime: timedelta) -> str | None:
        """The analyst of a live session, touching it; None (and the row deleted) when idle or too old."""
        now = utcnow()
        with self.session() as s:
            row = s.get(ConsoleSession, _token_id(token))
            if row is None:
                return None
            if row.last_seen < now - idle or row.created_at < now - lifetime:
                s.delete(row)
                return None
            if row.last_seen < now - timedelta(seconds=30):  # fewer writes: the idle clock needs no finer grain
                row.last_seen = now
            return row.analyst

    def close_session(self, token: str) -> None:
        with self.session() as s:
            s.execute(delete(ConsoleSession).where(ConsoleSession.id == _token_id(token)))

    def close_sessions(self, analyst: str) -> int:
        with self.session() as s:
            result = s.execute(delete(ConsoleSession).where(ConsoleSession.analyst == analyst))
            return int(getattr(result, "rowcount", 0) or 0)

    # sign-in counters
    def count_attempt(self, key: str, window: timedelta) -> int:
        """Count one attempt for `key` in its window (a window older than `window` starts over) and return the
        count including this one. One upsert statement: concurrent callers each get a distinct count."""
        now = utcnow()
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        expired = LoginCounter.window_start < now - window
        started = literal(now, LoginCounter.window_start.type)  # stored in the column's own format
        stmt = (
            insert(LoginCounter)
            .values(key=key, window_start=now, attempts=1)
            .on_conflict_do_update(
                index_elements=[LoginCounter.key],
                set_={
                    "attempts": case((expired, 1), else_=LoginCounter.attempts + 1),
                    "window_start": case((expired, started), else_=LoginCounter.window_start),
                },
            )
            .returning(LoginCounter.attempts)
        )
        with self.session() as s:
            return int(s.execute(stmt).scalar_one())

    def attempts(self, key: str, window: timedelta) -> int:
        with self.session() as s:
            row = s.get(LoginCounter, key)
            return 0 if row is None or row.window_start < utcnow() - window else row.attempts

    def reset_attempts(self, *keys: str) -> None:
        with self.session() as s:
            s.execute(delete(LoginCounter).where(LoginCounter.key.in_(keys)))

    def counter_start(self, key: str) -> datetime | None:
        with self.session() as s:
            row = s.get(LoginCounter, key)
            return row.window_start if row is not None else None

    def mark_known(self, key: str) -> None:
        """Remember a successful sign-in under `key` (its time is the window start)."""
        with self.session() as s:
            s.merge(LoginCounter(key=key, window_start=utcnow(), attempts=0))

    def list_analysts(self) -> list[Analyst]:
        with self.session() as s:
            return list(s.scalars(select(Analyst).order_by(Analyst.name)))

    # jobs
    def start_job(self, job_id: str) -> int:
        with self.session() as s:
            row = JobRun(job_id=job_id)
            s.add(row)
            s.flush()
            return int(row.id)

    def finish_job(self, run_id: int, outcome: str, counts: dict[str, Any] | None = None, error: str = "") -> None:
        with self.session() as s:
            row = s.get(JobRun, run_id)
            if row is None:
                raise KeyError(run_id)
            row.ended_at = utcnow()
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


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web UI read while a job writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
