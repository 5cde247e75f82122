"""The casebook on a real PostgreSQL through the same SQLAlchemy models as SQLite (one fresh database per test)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, inspect, text

from casebook import Casebook
from tests.unit import test_casebook as sqlite_suite

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_casebook(pg_url: str) -> Iterator[Casebook]:
    name = f"casebook_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    casebook = Casebook(pg_url.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield casebook
    finally:
        casebook.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}"'))
        admin.dispose()


@pytest.mark.parametrize(
    "case",
    [
        sqlite_suite.test_reviews_are_kept_and_audited,
        sqlite_suite.test_batches_and_deliveries,
        sqlite_suite.test_job_history_and_rechecks,
        sqlite_suite.test_audit_details_survive_hostile_values,
        sqlite_suite.test_sign_in_counts_are_atomic_under_parallel_attempts,
        sqlite_suite.test_sessions_end_on_logout_password_change_idle_and_age,
        sqlite_suite.test_saved_searches_per_analyst_replace_by_name,
    ],
    ids=lambda f: f.__name__,
)
def test_same_behaviour_as_sqlite(pg_casebook: Casebook, case: Callable[[Casebook], None]) -> None:
    case(pg_casebook)


def test_passwords_and_time_zones_on_postgres(pg_casebook: Casebook) -> None:
    pg_casebook.add_analyst("li", "口令 horse battery")
    assert pg_casebook.check_password("li", "口令 horse battery")
    assert not pg_casebook.check_password("li", "口令")
    with pg_casebook.engine.connect() as conn:
        stored = conn.execute(text("select password_hash from analysts")).scalar_one()
    assert stored.startswith("scrypt$") and "口令" not in stored
    columns = {c["name"]: c["type"] for c in inspect(pg_casebook.engine).get_columns("reviews")}
    assert getattr(columns["at"], "timezone", False) is True
    review = pg_casebook.record_review("douyin:1", "li", "confirmed")
    assert pg_casebook.list_reviews()[0].at == review.at
