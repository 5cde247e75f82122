"""Analyst accounts, console sessions, sign-in counters and the audit log: who may act, and what they did.

Kept apart from the workflow tables (schema.py) and from the index; the Casebook class gets these methods from
AccountsMixin, so one database and one connection pool serve both.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, case, delete, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from casebook.schema import Base, UtcDateTime
from core.records import utcnow


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


class AccountsMixin:
    """Accounts, sessions, sign-in counters and audit over the casebook's engine (see Casebook)."""

    engine: Engine

    def session(self) -> AbstractContextManager[Session]:  # provided by Casebook
        raise NotImplementedError

    # audit
    def audit(self, who: str, what: str, why: str = "", details: dict[str, Any] | None = None) -> AuditEntry:
        # Round-trip through JSON now, so an unserialisable detail fails here and not at commit time.
        row = AuditEntry(who=who, what=what, why=why, details=json.loads(json.dumps(details or {}, default=str)))
        with self.session() as s:
            s.add(row)
        return row

    def list_audit(self, who: str | None = None, limit: int = 1000, target: str | None = None) -> list[AuditEntry]:
        """Newest first; `target` keeps the entries about one hit key or batch id (looked for in the details)."""
        stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        stmt = stmt.limit(limit if target is None else max(limit, 10_000))
        if who:
            stmt = stmt.where(AuditEntry.who == who)
        with self.session() as s:
            rows = list(s.scalars(stmt))
        if target is not None:
            about = ("hit_key", "target", "batch_id")
            rows = [r for r in rows if target in {(r.details or {}).get(k) for k in about}]
        return rows[:limit]

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


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
