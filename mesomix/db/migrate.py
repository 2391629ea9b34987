"""Bring a database to the current schema with Alembic, on start, without losing a row."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from mesomix.db.engine import writer

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: sa.Engine) -> bool:
    """Upgrade to head in one transaction; True when anything was applied."""
    if current_revision(engine) == head_revision():
        return False
    with writer(engine).begin() as connection:
        command.upgrade(_config(connection), "head")
    return True
