"""Bring a database to the current schema with Alembic, on start, without losing a row.

Every start asks whether the database is at the newest revision; that answer is read without
Alembic (the revisions named in the migration files, the one in `alembic_version`), which is
imported only to migrate: its import was an eighth of every command's start."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from mesomix.db.append_only import sqlite_triggers

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r'^(revision|down_revision)\b[^=]*=\s*"(\w+)"', re.MULTILINE)


def _config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str:
    """The newest revision: the one no migration file names as the revision it follows (a
    test holds it to Alembic's own answer)."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for kind, revision in _REVISION.findall(path.read_text(encoding="utf-8")):
            (revisions if kind == "revision" else followed).add(revision)
    heads: set[str] = revisions - followed
    assert len(heads) == 1, f"the migrations must have one head, not {sorted(heads)}"
    return heads.pop()


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        found = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        return str(found) if found is not None else None


def migrate(engine: sa.Engine) -> bool:
    """Upgrade to head in one transaction; True when anything was applied."""
    if current_revision(engine) == head_revision():
        return False
    from alembic import command

    _run(engine, command.upgrade, "head", keep_triggers=True)
    return True


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Back to an earlier schema (for a rollback of the program), in one transaction."""
    from alembic import command

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
