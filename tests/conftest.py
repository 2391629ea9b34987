"""Shared fixtures: the whole program built on a real, temporary database with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from mesomix.bootstrap import Services, Settings, build
from mesomix.clock import FixedClock
from tests.factories import seed_people

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'mesomix.sqlite'}"


@pytest.fixture
def services(db_url, clock) -> Iterator[Services]:
    built = build(Settings(database_url=db_url, clock=clock))
    yield built
    built.close()


@pytest.fixture
def clinic(services) -> Services:
    """Services on a database with a staff member, a practitioner, a manager and two patients."""
    seed_people(services)
    return services


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the session, from the machine's own binaries (never skipped)."""
    from tests.pgserver import PostgresServer

    with PostgresServer() as server:
        yield server
