"""The casebook's tables: the workflow state of hits (intake, reviews, report batches, deliveries, review texts,
review leases, job runs, re-checks). Accounts and the audit log have their own module (accounts.py) on the same base.

Saved searches (an analyst's named search form) live here too: they are workflow state of an analyst.

The index holds what a hit *is* and a searchable copy of its status; these tables hold who did what to it, when
and why, and are the one owner of that state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
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
    decision: Mapped[str] = mapped_column(String(30))  # confirmed | dismissed | reopened | category
    reason: Mapped[str] = mapped_column(Text, default="")
    # A preset dismiss reason (core.records.DismissReason) beside the free text; None for older rows and confirms.
    reason_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    category_from: Mapped[str | None] = mapped_column(String(50), nullable=True)
    category_to: Mapped[str | None] = mapped_column(String(50), nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class ReviewText(Base):
    """The text an analyst saw when deciding, so exported training data never drifts from the decision.
    (Table name from when the console kept it; unchanged so existing casebooks keep their rows.)"""

    __tablename__ = "webui_review_texts"
    review_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # reviews.id
    hit_key: Mapped[str] = mapped_column(String(300), index=True)
    text: Mapped[str] = mapped_column(Text)


class Lease(Base):
    """Who is reviewing what: a key holds one unexpired lease, and the primary key, not a read-then-write,
    settles the race when two analysts ask at once."""

    __tablename__ = "webui_leases"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    analyst: Mapped[str] = mapped_column(String(100), index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReportBatch(Base):
    __tablename__ = "report_batches"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    platform: Mapped[str] = mapped_column(String(50), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    item_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    paths: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # kind (xlsx/json/html/zip) -> path
    # built | sent | failed | acknowledged | superseded (an item was reopened before delivery: the batch is withdrawn
    # and its other items are batched again under a new id, since a batch's id derives from its keys)
    status: Mapped[str] = mapped_column(String(30), default="built")


class BatchItem(Base):
    """Which batch holds which hit: the rows behind `ReportBatch.item_keys`, so a hit's batches are one indexed
    lookup instead of a read of every batch (written with the batch; filled in for older casebooks on open)."""

    __tablename__ = "report_batch_items"
    batch_id: Mapped[str] = mapped_column(ForeignKey("report_batches.id"), primary_key=True)
    hit_key: Mapped[str] = mapped_column(String(300), primary_key=True, index=True)


class Delivery(Base):
    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("report_batches.id"), index=True)
    channel: Mapped[str] = mapped_column(String(50))  # smtp | webhook | ...
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(30))  # queued | sent | failed
    response: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class JobRun(Base):
    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(30), default="")  # crawl | index | report | deliver | recheck | alerts
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


class SavedSearch(Base):
    """An analyst's named search: the search form's inputs as typed (relative times stay relative)."""

    __tablename__ = "saved_searches"
    __table_args__ = (UniqueConstraint("analyst", "name", name="uq_saved_search_analyst_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    analyst: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Intake(Base):
    """A post's arrival in the workflow: when it was first classified and indexed, with its first verdict. One row
    per key, written once (shared mode: an index worker writes it after the index, before acknowledging the
    stream message, so a redelivered message finds it and changes nothing)."""

    __tablename__ = "intake"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    label: Mapped[str] = mapped_column(String(30))
    category: Mapped[str | None] = mapped_column(String(50), nullable=True)
    score: Mapped[float] = mapped_column(Float)
    model: Mapped[str] = mapped_column(String(200), default="")
    message_id: Mapped[str] = mapped_column(String(60), default="")  # the post stream entry it came in
    worker: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
