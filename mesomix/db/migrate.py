"""Bring a database to the current schema with Alembic, on start, without losing a row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from mesomix.db.append_only import sqlite_triggers

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
    _run(engine, command.upgrade, "head", keep_triggers=True)
    return True


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Back to an earlier schema (for a rollback of the program), in one transaction."""
    _run(engine, command.downgrade, revision)


def _run(
    engine: sa.Engine,
    step: Callable[[Config, str], None],
    revision: str,
    *,
    keep_triggers: bool = False,
) -> None:
    """One migration step in one transaction.

    On SQLite a changed table is copied and the old one dropped; with foreign keys enforced,
    dropping `batch` while lines and movements point at it fails. SQLite's own recipe: keys off
    for the step (only possible outside a transaction), then `foreign_key_check` before commit,
    so the step can never leave a dangling reference behind. The copy does not take the table's
    triggers with it (the recipe makes them again by hand): an upgrade (`keep_triggers`) that
    loses one — the append-only guard of `audit` or `movement` — is rolled back."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.driver_connection if sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys = OFF")
        try:
            with connection.execution_options(write=True).begin():
                before = sqlite_triggers(connection) if sqlite and keep_triggers else {}
                step(_config(connection), revision)
                lost = sorted(before.keys() - sqlite_triggers(connection).keys()) if before else []
                if lost:
                    raise RuntimeError(
                        f"the migration dropped the trigger(s) {', '.join(lost)}: SQLite rebuilds "
                        "a changed table by copying it, without its triggers, so a migration that "
                        "rebuilds a table must create them again; nothing was changed"
                    )
                if sqlite:
                    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if dangling:
                        raise RuntimeError(
                            f"the migration left rows pointing nowhere: {dangling[:5]}"
                        )
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys = ON")
