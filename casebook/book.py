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
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import create_engine, delete, event, func, insert, inspect, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from casebook.accounts import AccountsMixin, AuditEntry
from casebook.schema import (
    Base,
    BatchItem,
    Delivery,
    Intake,
    JobRun,
    Lease,
    Recheck,
    ReportBatch,
    Review,
    ReviewText,
    SavedSearch,
)
from core.records import REOPENABLE, HitStatus, IllegalTransition, check_transition, utcnow


@dataclass(frozen=True)
class DatedOutcome:
    """When a hit first reached an outcome the casebook records (confirmed by an analyst, removed at re-check)."""

    key: str
    at: datetime
    category: str | None = None  # the analyst's category at that review; None keeps the model's


@dataclass(frozen=True)
class Decision:
    """An analyst's newest confirm/dismiss of a hit, with the text they saw (training data from reviews)."""

    key: str
    decision: str  # confirmed | dismissed
    category: str | None  # the analyst's category; None keeps the model's
    text: str


@dataclass(frozen=True)
class ReviewedBy:
    """Who made the decision a hit stands on, and when (for partner files: reviewed by a person, or not)."""

    analyst: str
    decision: str
    at: datetime


@dataclass(frozen=True)
class Reopened:
    """What a reopen did: the state it left, and the batches it withdrew (with the items those still held)."""

    key: str
    was: HitStatus
    superseded: tuple[str, ...] = ()
    others: tuple[str, ...] = ()  # the withdrawn batches' other items, now back to confirmed/new


DECISIONS = (HitStatus.confirmed.value, HitStatus.dismissed.value)
REOPENED = "reopened"
LIVE_BATCH = ("built", "sent", "failed", "acknowledged")  # every status but superseded
DELIVERED_BATCH = ("sent", "acknowledged")

_CREATE_LOCK = threading.Lock()


class Casebook(AccountsMixin):
    """Small typed methods over the casebook database at `url` (tables created when missing)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, echo=echo, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._create_tables()

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
        if "reason_code" not in {c["name"] for c in inspect(self.engine).get_columns("reviews")}:
            with self.engine.begin() as conn:
                conn.execute(text("ALTER TABLE reviews ADD COLUMN reason_code VARCHAR(40)"))
        self._fill_batch_items()

    def _fill_batch_items(self) -> None:
        """Batches recorded before report_batch_items existed get their rows (once: only batches without any)."""
        missing = select(ReportBatch).where(ReportBatch.id.not_in(select(BatchItem.batch_id).distinct()))
        try:
            with self.session() as s:
                for batch in s.scalars(missing):
                    s.add_all(BatchItem(batch_id=batch.id, hit_key=k) for k in dict.fromkeys(batch.item_keys or []))
        except IntegrityError:
            pass  # another process opening the same casebook filled them first

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
        reason_code: str | None = None,
    ) -> Review:
        """Record a review row, the text the analyst saw and its audit line in one transaction (no state check:
        `decide` and `reopen` are the workflow's checked steps)."""
        row = Review(
            hit_key=hit_key,
            analyst=analyst,
            decision=decision,
            reason=reason,
            reason_code=reason_code,
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
                    details={
                        "hit_key": hit_key,
                        "category_from": category_from,
                        "category_to": category_to,
                        "reason_code": reason_code,
                    },
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

    def first_confirmations(self, since: datetime | None = None) -> list[DatedOutcome]:
        """Each hit's first `confirmed` review (at or after `since`), oldest first: the day a hit was confirmed,
        whatever status the index shows since (reported, delivered, removed...)."""
        first = (
            select(Review.hit_key, func.min(Review.id).label("id"))
            .where(Review.decision == "confirmed")
            .group_by(Review.hit_key)
            .subquery()
        )
        stmt = select(Review).join(first, Review.id == first.c.id).order_by(Review.at, Review.id)
        with self.session() as s:
            rows = [r for r in s.scalars(stmt) if since is None or r.at >= since]
        return [DatedOutcome(r.hit_key, r.at, r.category_to) for r in rows]

    # the workflow state of a hit, derived from the rows above and below (the casebook owns it)
    def states(self, hit_keys: Sequence[str]) -> dict[str, HitStatus]:
        """Each key's workflow state: a live batch (delivered or not) and the re-checks of a delivered item win,
        then the newest decision (a reopen undoes it), then an unexpired lease; else new."""
        keys = list(dict.fromkeys(hit_keys))
        out = {k: HitStatus.new for k in keys}
        decided: dict[str, Review] = {}
        leased: set[str] = set()
        now = utcnow()
        with self.session() as s:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                stmt = (
                    select(Review)
                    .where(Review.hit_key.in_(chunk), Review.decision.in_([*DECISIONS, REOPENED]))
                    .order_by(Review.at, Review.id)
                )
                for row in s.scalars(stmt):
                    decided[row.hit_key] = row
                leases = select(Lease.key).where(Lease.key.in_(chunk), Lease.expires_at >= now)
                leased.update(s.scalars(leases))
        for key, row in decided.items():
            if row.decision in DECISIONS:
                out[key] = HitStatus(row.decision)
        for key in leased:
            if out[key] is HitStatus.new:
                out[key] = HitStatus.claimed
        in_batch: dict[str, str] = {}  # key -> its newest live batch
        with self.session() as s:
            for start in range(0, len(keys), 500):
                holders = (
                    select(BatchItem.hit_key, ReportBatch.id)
                    .join(ReportBatch, ReportBatch.id == BatchItem.batch_id)
                    .where(BatchItem.hit_key.in_(keys[start : start + 500]), ReportBatch.status.in_(LIVE_BATCH))
                    .order_by(ReportBatch.created_at)
                )
                for key, batch_id in s.execute(holders):
                    in_batch[key] = batch_id
        delivered = self.delivered_batch_ids() if in_batch else set()
        for key, batch_id in in_batch.items():
            out[key] = HitStatus.delivered if batch_id in delivered else HitStatus.batched
        batched = list(in_batch)
        with self.session() as s:
            for start in range(0, len(batched), 500):
                checks = (
                    select(Recheck)
                    .where(
                        Recheck.hit_key.in_(batched[start : start + 500]),
                        Recheck.outcome.in_([HitStatus.removed.value, HitStatus.still_up.value]),
                    )
                    .order_by(Recheck.at, Recheck.id)
                )
                for check in s.scalars(checks):
                    out[check.hit_key] = HitStatus(check.outcome)
        return out

    def tracked_keys(self) -> set[str]:
        """Every hit the casebook has a workflow fact about (a review, a batch, a re-check, a live lease)."""
        with self.session() as s:
            keys = set(s.scalars(select(Review.hit_key).distinct()))
            keys |= set(s.scalars(select(Lease.key).where(Lease.expires_at >= utcnow())))
            keys |= set(s.scalars(select(Recheck.hit_key).distinct()))
            keys |= set(s.scalars(select(BatchItem.hit_key).distinct()))
        return keys

    def state(self, hit_key: str) -> HitStatus:
        return self.states([hit_key])[hit_key]

    def decide(
        self,
        hit_key: str,
        analyst: str,
        decision: HitStatus,
        *,
        reason: str = "",
        reason_code: str | None = None,
        category_from: str | None = None,
        category_to: str | None = None,
        text: str = "",
    ) -> Review:
        """Confirm or dismiss a hit that is new (or claimed); anything else raises IllegalTransition."""
        if decision not in (HitStatus.confirmed, HitStatus.dismissed):
            raise ValueError(f"a decision is confirmed or dismissed, not {decision.value}")
        if decision is HitStatus.dismissed and not (reason.strip() or reason_code):
            raise ValueError("a dismissal needs a reason (a preset code or text)")
        check_transition(hit_key, self.state(hit_key), decision)
        return self.record_review(
            hit_key,
            analyst,
            decision.value,
            reason=reason,
            reason_code=reason_code,
            category_from=category_from,
            category_to=category_to,
            text=text,
        )

    def reopen(self, hit_key: str, analyst: str, reason: str) -> Reopened:
        """Take a decision back (confirmed, dismissed, or batched but not delivered): the hit is new again.

        A batched item's batch is marked superseded (its id derives from its keys, so a batch without this item is
        a different batch); its other items go back to where their decisions put them and are batched again by
        the next build. A delivered item is refused: the partner has it, so only a retraction sent to the
        partner could take it back."""
        if not reason.strip():
            raise ValueError("reopening needs a reason")
        was = self.state(hit_key)
        if was not in REOPENABLE:
            undecided = was in (HitStatus.new, HitStatus.claimed)
            why = "no decision to reopen" if undecided else "the partner has it; send a retraction instead"
            raise IllegalTransition(hit_key, was, HitStatus.new, why)
        superseded: list[str] = []
        others: list[str] = []
        at = utcnow()
        with self.session() as s:
            if was is HitStatus.batched:
                holding = select(BatchItem.batch_id).where(BatchItem.hit_key == hit_key)
                live = select(ReportBatch).where(ReportBatch.id.in_(holding), ReportBatch.status.in_(LIVE_BATCH))
                for batch in s.scalars(live):
                    if hit_key in batch.item_keys:
                        batch.status = "superseded"
                        superseded.append(batch.id)
                        others.extend(k for k in batch.item_keys if k != hit_key)
                        s.add(
                            AuditEntry(
                                who=analyst,
                                what="report:superseded",
                                why=reason,
                                details={"batch_id": batch.id, "reopened": hit_key, "items": len(batch.item_keys)},
                                at=at,
                            )
                        )
            s.execute(delete(Lease).where(Lease.key == hit_key))
            row = Review(hit_key=hit_key, analyst=analyst, decision=REOPENED, reason=reason, at=at)
            s.add(row)
            s.add(
                AuditEntry(
                    who=analyst,
                    what=f"review:{REOPENED}",
                    why=reason,
                    details={"hit_key": hit_key, "was": was.value, "superseded": superseded},
                    at=at,
                )
            )
        return Reopened(hit_key, was, tuple(superseded), tuple(dict.fromkeys(others)))

    def reviewed_by(self, hit_keys: Sequence[str]) -> dict[str, ReviewedBy | None]:
        """For each key: the person whose confirm/dismiss it stands on and when, or None when no person decided
        it (never reviewed, or reopened since) - what a partner file says about human review."""
        out: dict[str, ReviewedBy | None] = {k: None for k in hit_keys}
        with self.session() as s:
            keys = list(out)
            for start in range(0, len(keys), 500):
                stmt = (
                    select(Review)
                    .where(Review.hit_key.in_(keys[start : start + 500]), Review.decision.in_([*DECISIONS, REOPENED]))
                    .order_by(Review.at, Review.id)
                )
                for row in s.scalars(stmt):
                    out[row.hit_key] = (
                        ReviewedBy(row.analyst, row.decision, row.at) if row.decision in DECISIONS else None
                    )
        return out

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
        resend: bool = False,
    ) -> ReportBatch:
        """Record a built batch: its items become batched (new or confirmed ones only, unless `resend`)."""
        if not resend:
            for key, current in self.states(item_keys).items():
                check_transition(key, current, HitStatus.batched)
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
            s.flush()  # the batch row first: its items refer to it
            s.add_all(BatchItem(batch_id=batch_id, hit_key=k) for k in dict.fromkeys(item_keys))
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
        """Keys in a live batch (built or delivered; a superseded batch no longer holds its items)."""
        return {k for b in self.list_batches(platform, limit=1_000_000) if b.status in LIVE_BATCH for k in b.item_keys}

    def delivered_batch_ids(self) -> set[str]:
        """Batches a partner has: a delivery succeeded (whatever later attempts on other channels did)."""
        with self.session() as s:
            ids = set(s.scalars(select(Delivery.batch_id).where(Delivery.state == "delivered")))
            ids |= set(s.scalars(select(ReportBatch.id).where(ReportBatch.status.in_(DELIVERED_BATCH))))
        return ids

    def delivered_at(self) -> dict[str, datetime]:
        """When each delivered batch first reached a partner (the batch's newest row time for old casebooks whose
        batch was marked sent without a delivered row)."""
        out: dict[str, datetime] = {}
        with self.session() as s:
            for row in s.scalars(select(Delivery).where(Delivery.state == "delivered").order_by(Delivery.at)):
                out.setdefault(row.batch_id, row.at)
            for batch in s.scalars(select(ReportBatch).where(ReportBatch.status.in_(DELIVERED_BATCH))):
                if batch.id not in out:
                    rows = s.scalars(
                        select(Delivery.at).where(Delivery.batch_id == batch.id).order_by(Delivery.at.desc())
                    ).first()
                    out[batch.id] = rows or batch.created_at
        return out

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
        self,
        hit_key: str,
        outcome: str,
        batch_id: str | None = None,
        http_status: int | None = None,
        detail: str = "",
        at: datetime | None = None,
    ) -> Recheck:
        row = Recheck(
            hit_key=hit_key,
            outcome=outcome,
            batch_id=batch_id,
            http_status=http_status,
            detail=detail,
            at=at or utcnow(),
        )
        with self.session() as s:
            s.add(row)
        return row

    def first_removals(self, since: datetime | None = None) -> list[DatedOutcome]:
        """Each hit's first re-check that found it `removed` (at or after `since`), oldest first: its takedown."""
        stmt = (
            select(Recheck.hit_key, func.min(Recheck.at))
            .where(Recheck.outcome == "removed")
            .group_by(Recheck.hit_key)
            .order_by(func.min(Recheck.at), Recheck.hit_key)
        )
        with self.session() as s:
            rows = s.execute(stmt).all()
        out = [DatedOutcome(key, _utc(at)) for key, at in rows]
        return [o for o in out if since is None or o.at >= since]

    def list_rechecks(self, hit_key: str | None = None, limit: int = 1000) -> list[Recheck]:
        stmt = select(Recheck).order_by(Recheck.at.desc(), Recheck.id.desc()).limit(limit)
        if hit_key:
            stmt = stmt.where(Recheck.hit_key == hit_key)
        with self.session() as s:
            return list(s.scalars(stmt))

    # saved searches
    def save_search(self, analyst: str, name: str, params: dict[str, Any]) -> SavedSearch:
        """Keep (or replace) the analyst's search called `name`."""
        name = " ".join(name.split())
        if not name or len(name) > SAVED_NAME_MAX:
            raise ValueError(f"a saved search needs a name of 1 to {SAVED_NAME_MAX} characters")
        with self.session() as s:
            row = s.scalars(
                select(SavedSearch).where(SavedSearch.analyst == analyst, SavedSearch.name == name)
            ).one_or_none()
            if row is None:
                row = SavedSearch(analyst=analyst, name=name, params=dict(params))
                s.add(row)
            else:
                row.params = dict(params)
                row.updated_at = utcnow()
        return row

    def saved_searches(self, analyst: str) -> list[SavedSearch]:
        stmt = select(SavedSearch).where(SavedSearch.analyst == analyst).order_by(SavedSearch.name)
        with self.session() as s:
            return list(s.scalars(stmt))

    def saved_search(self, analyst: str, name: str) -> SavedSearch | None:
        stmt = select(SavedSearch).where(SavedSearch.analyst == analyst, SavedSearch.name == " ".join(name.split()))
        with self.session() as s:
            return s.scalars(stmt).one_or_none()

    def delete_saved_search(self, analyst: str, name: str) -> bool:
        stmt = delete(SavedSearch).where(SavedSearch.analyst == analyst, SavedSearch.name == " ".join(name.split()))
        with self.session() as s:
            return bool(s.execute(stmt).rowcount)  # type: ignore[attr-defined]


SAVED_NAME_MAX = 100


def _utc(moment: datetime) -> datetime:
    """An aggregate (min) bypasses the column type, so SQLite hands back a naive UTC time."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web UI read while a job writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
