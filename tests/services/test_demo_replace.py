"""Who may wipe a database for the demo data set: anybody fills an empty one; one that holds
users, patients or stock takes an admin."""

from __future__ import annotations

import pytest

from mesomix.services.demo import require_replacing
from mesomix.services.errors import PermissionDenied, ServiceError
from tests.factories import seed_people


def test_an_empty_database_needs_nobody(services):
    require_replacing(services.engine, services.accounts, None)


def test_a_database_with_data_takes_an_admin(services):
    seed_people(services)
    with pytest.raises(ServiceError, match="needs an admin: add --user NAME"):
        require_replacing(services.engine, services.accounts, None)
    with pytest.raises(PermissionDenied):
        require_replacing(services.engine, services.accounts, "nadia")
    require_replacing(services.engine, services.accounts, "root")
