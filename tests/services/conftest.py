"""Fixtures the service tests share."""

from __future__ import annotations

import pytest

from mesomix.bootstrap import build
from mesomix.settings import Settings
from tests.factories import seed_people


@pytest.fixture(params=["sqlite", "postgresql"])
def clinic_on_both(request, tmp_path, clock):
    """The clinic (people as `clinic` has them) on SQLite and then on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'clinic.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"both_{tmp_path.name[-20:]}")
    services = build(Settings(database_url=url, clock=clock))
    seed_people(services)
    yield services
    services.close()
