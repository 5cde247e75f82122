"""The console's view of the casebook (indexer/casebook.py), plus the two small tables the casebook lacks.

Analysts, reviews, the audit log, report batches and deliveries live in the casebook. The console adds, in the same
database through the casebook's engine: `webui_leases` (who is reviewing what: a key can hold one unexpired lease,
and the primary key, not a read-then-write, settles the race when two analysts ask at once) and `webui_review_texts`
(the text an analyst saw when deciding, so exported training data never drifts from the decision).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, cast

from sqlalchemy import DateTime, Integer, String, Text, delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from core.records import utcnow
from indexer.casebook import Casebook


class Base(DeclarativeBase):
    pass


class LeaseRow(Base):
    __tablename__ = "webui_leases"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    analyst: Mapped[str] = mapped_column(String(100), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReviewTextRow(Base):
    __tablename__ = "webui_review_texts"
    review_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # casebook reviews.id
    hit_key: Mapped[str] = mapped_column(String(300), index=True)
    text: Mapped[str] = mapped_column(Text)


def _aware(value: datetime) -> datetime:
    # SQLite forgets tzinfo: every value read back is tagged UTC again.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


@dataclass(frozen=True)
class Review:
    id: int
    key: str
    analyst: str
    decision: str  # confirmed | dismissed | category
    category_from: str | None
    category_to: str | None
    reason: str
    at: datetime


@dataclass(frozen=True)
class Batch:
    batch_id: str
    platform: str
    item_keys: list[str]
    paths: dict[str, str]
    status: str
    created_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    who: str
    what: str
    why: str
    details: dict[str, Any]


class ConsoleDB:
    """Typed access for the console: casebook calls plus leases and review texts; each method one transaction."""

    def __init__(self, url: str) -> None:
        self.casebook = Casebook(url)
        self.engine = self.casebook.engine
        Base.metadata.create_all(self.engine)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.casebook.close()

    def session(self) -> Session:
        return self._session()

    # ---------------------------------------------------------------- analysts

    def add_analyst(self, name: str, password: str) -> None:
        self.casebook.add_analyst(name, password)

    def check_password(self, name: str, password: str) -> bool:
        return self.casebook.check_password(name, password)

    # ---------------------------------------------------------------- leases

    def claim(self, key: str, analyst: str, minutes: float) -> bool:
        """Take the lease on `key` for `minutes` if nobody else holds an unexpired one; renew our own."""
        now = utcnow()
        expires = now + timedelta(minutes=minutes)
        with self.session() as s:
            with s.begin():
                s.execute(delete(LeaseRow).where(LeaseRow.key == key, LeaseRow.expires_at < now))
                renewed = cast(
                    CursorResult[Any],
                    s.execute(
                        update(LeaseRow)
                        .where(LeaseRow.key == key, LeaseRow.analyst == analyst)
                        .values(expires_at=expires)
                    ),
                ).rowcount
            if renewed:
                return True
            try:
                with s.begin():
                    s.add(LeaseRow(key=key, analyst=analyst, expires_at=expires))
            except IntegrityError:
                return False  # someone else holds it: the primary key settled the race
            return True

    def lease_holder(self, key: str) -> str | None:
        with self.session() as s:
            row = s.get(LeaseRow, key)
            if row is None or _aware(row.expires_at) < utcnow():
                return None
            return row.analyst

    def leased_by_others(self, analyst: str) -> set[str]:
        with self.session() as s:
            rows = s.scalars(select(LeaseRow).where(LeaseRow.analyst != analyst, LeaseRow.expires_at >= utcnow()))
            return {r.key for r in rows}

    def my_lease(self, analyst: str) -> str | None:
        with self.session() as s:
            row = s.scalars(
                select(LeaseRow)
                .where(LeaseRow.analyst == analyst, LeaseRow.expires_at >= utcnow())
                .order_by(LeaseRow.expires_at.desc())
            ).first()
            return row.key if row else None

    def release(self, key: str, analyst: str) -> None:
        with self.session() as s, s.begin():
            s.execute(delete(LeaseRow).where(LeaseRow.key == key, LeaseRow.analyst == analyst))

    # ---------------------------------------------------------------- reviews and audit

    def add_review(
        self,
        key: str,
        analyst: str,
        decision: str,
        *,
        reason: str = "",
        category_from: str | None = None,
        category_to: str | None = None,
        text: str = "",
    ) -> int:
        """Record a decision (the casebook writes its audit line in the same transaction); returns the review id."""
        row = self.casebook.record_review(
            key, analyst, decision, reason=reason, category_from=category_from, category_to=category_to
        )
        with self.session() as s, s.begin():
            s.merge(ReviewTextRow(review_id=row.id, hit_key=key, text=text))
        return row.id

    @staticmethod
    def _review(row: Any) -> Review:
        return Review(
            row.id, row.hit_key, row.analyst, row.decision, row.category_from, row.category_to, row.reason or "",
            _aware(row.at),
        )  # fmt: skip

    def reviews_for(self, key: str) -> list[Review]:
        return [self._review(r) for r in reversed(self.casebook.list_reviews(key))]

    def current_category(self, key: str) -> str | None:
        """The analysts' category for a hit (the newest review naming one), or None to keep the model's."""
        for r in reversed(self.reviews_for(key)):
            if r.category_to:
                return r.category_to
        return None

    def decisions(self) -> list[tuple[Review, str]]:
        """The newest confirm/dismiss per key with the text the analyst saw, oldest first."""
        latest: dict[str, Review] = {}
        for row in reversed(self.casebook.list_reviews(limit=10_000_000)):
            r = self._review(row)
            if r.decision in ("confirmed", "dismissed"):
                latest[r.key] = r
        with self.session() as s:
            ids = [r.id for r in latest.values()]
            texts: dict[int, str] = {}
            for start in range(0, len(ids), 500):
                rows = s.scalars(select(ReviewTextRow).where(ReviewTextRow.review_id.in_(ids[start : start + 500])))
                texts.update({t.review_id: t.text for t in rows})
        return [(r, texts.get(r.id, "")) for r in sorted(latest.values(), key=lambda r: (r.at, r.id))]

    def audit(self, who: str, what: str, why: str = "", **details: Any) -> None:
        self.casebook.audit(who, what, why, details)

    def audit_log(self, limit: int = 200, target: str | None = None) -> list[AuditEntry]:
        rows = self.casebook.list_audit(limit=limit if target is None else 10_000)
        out = []
        for r in rows:
            details = dict(r.details or {})
            if target is not None and target not in (
                details.get("hit_key"),
                details.get("target"),
                details.get("batch_id"),
            ):
                continue
            out.append(AuditEntry(_aware(r.at), r.who, r.what, r.why or "", details))
        return out[:limit]

    # ---------------------------------------------------------------- report batches

    def put_batch(self, batch_id: str, platform: str, item_keys: Sequence[str], paths: dict[str, str]) -> None:
        if self.casebook.get_batch(batch_id) is None:
            self.casebook.add_batch(batch_id, platform, item_keys, paths)

    def batch(self, batch_id: str) -> Batch | None:
        row = self.casebook.get_batch(batch_id)
        return self._batch(row) if row else None

    @staticmethod
    def _batch(row: Any) -> Batch:
        return Batch(
            row.id, row.platform, list(row.item_keys or []), dict(row.paths or {}), row.status, _aware(row.created_at)
        )

    def batches(self, limit: int = 100) -> list[Batch]:
        return [self._batch(r) for r in self.casebook.list_batches(limit=limit)]

    def set_batch_status(self, batch_id: str, status: str) -> None:
        self.casebook.set_batch_status(batch_id, status)

    def record_delivery(self, batch_id: str, channel: str, state: str, response: str = "") -> None:
        self.casebook.record_delivery(batch_id, channel, state, response)

    def deliveries(self, batch_id: str) -> list[Any]:
        return self.casebook.list_deliveries(batch_id)
