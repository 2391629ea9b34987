"""The database: migrations that match the tables, SQLite set up for safe concurrent use."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel, select

from mesomix.bootstrap import Settings, build
from mesomix.db.engine import make_engine
from mesomix.db.migrate import current_revision, head_revision, migrate
from mesomix.db.tables import PatientRow
from mesomix.services.uow import unit_of_work
from mesomix.settings import database_url
from tests.factories import receive, seed_people


def test_migrations_build_exactly_the_tables_the_code_declares(services):
    with services.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
    assert current_revision(services.engine) == head_revision()


def test_the_same_schema_on_postgresql(postgres):
    services = build(Settings(database_url=postgres.create_database("schema")))
    with services.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    services.close()
    assert differences == []


def test_starting_again_keeps_every_row(db_url, clock):
    first = build(Settings(database_url=db_url, clock=clock))
    seed_people(first)
    receive(first, "lidocaine_2pct_2ml_amp", "A1", 10)
    first.close()
    again = build(Settings(database_url=db_url, clock=clock))
    assert migrate(again.engine) is False
    with unit_of_work(again.engine) as session:
        assert len(session.exec(select(PatientRow)).all()) == 2
    assert again.stock.lots("sam")[0].on_hand_ul == 20_000
    again.close()


def test_sqlite_is_set_up_for_concurrent_terminals(services):
    with services.engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") >= 5000


def test_stock_can_never_go_below_zero_even_behind_the_services_back(clinic):
    lot = receive(clinic, "lidocaine_2pct_2ml_amp", "A1", 1)
    with pytest.raises(sa.exc.IntegrityError), unit_of_work(clinic.engine, write=True) as session:
        session.execute(sa.text("UPDATE lot SET on_hand_ul = -1 WHERE id = :id"), {"id": lot})


def test_in_memory_sqlite_is_refused():
    with pytest.raises(ValueError, match="in-memory"):
        make_engine("sqlite:///:memory:")


def test_naive_times_are_refused(clinic):
    with (
        pytest.raises(sa.exc.StatementError, match="timezone-aware"),
        unit_of_work(clinic.engine, write=True) as session,
    ):
        session.add(PatientRow(ref="X", name="X", created_at=datetime(2026, 1, 1)))
        session.flush()


def test_database_location(tmp_path, monkeypatch):
    monkeypatch.delenv("MESOMIX_DATABASE_URL", raising=False)
    assert database_url(tmp_path / "x.sqlite") == f"sqlite:///{tmp_path / 'x.sqlite'}"
    assert database_url().startswith("sqlite:///") and database_url().endswith("mesomix.sqlite")
    monkeypatch.setenv("MESOMIX_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert database_url() == "postgresql+psycopg://u@h/db"
    assert database_url(tmp_path / "y.sqlite").endswith("y.sqlite")  # --db wins
