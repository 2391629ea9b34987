"""Fixtures the service tests share."""

from __future__ import annotations

import os

import pytest

from mesomix.bootstrap import build
from mesomix.clock import FixedClock
from mesomix.settings import Settings
from tests.conftest import NOW
from tests.factories import seed_people


@pytest.fixture(scope="session")
def postgres_template(postgres) -> str:
    """A PostgreSQL database migrated and seeded with the catalogue once per test process, for
    each test's own copy: migrating an empty database is most of what a test on it costs."""
    name = f"template_{os.getpid()}"
    built = build(Settings(database_url=postgres.create_database(name), clock=FixedClock(NOW)))
    built.close()
    return name


@pytest.fixture(params=["sqlite", "postgresql"])
def clinic_on_both(request, tmp_path, clock, templates):
    """The clinic (people as `clinic` has them) on SQLite and then on PostgreSQL, each a copy
    of a database made once."""
    if request.param == "sqlite":
        path = tmp_path / "clinic.sqlite"
        templates.copy(path, clock)
        url = f"sqlite:///{path}"
    else:
        template = request.getfixturevalue("postgres_template")
        server = request.getfixturevalue("postgres")
        url = server.create_database(f"both_{tmp_path.name[-20:]}", template)
    services = build(Settings(database_url=url, clock=clock))
    seed_people(services)
    yield services
    services.close()
