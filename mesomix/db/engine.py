"""Engine factory: nothing connects at import time; SQLite gets WAL, foreign keys and a busy timeout.

Writing units of work ask for `write=True`: on SQLite they begin with BEGIN IMMEDIATE, so two
terminals never both read stock and then both decrement it; readers begin deferred and never wait.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import platformdirs
import sqlalchemy as sa
from sqlalchemy import event

BUSY_TIMEOUT_MS = 10_000
ENV_URL = "MESOMIX_DATABASE_URL"


def default_database_path() -> Path:
    """The clinic's own database, in the user's data directory."""
    return Path(platformdirs.user_data_dir("mesomix", appauthor=False)) / "mesomix.sqlite"


def demo_database_path() -> Path:
    return Path(platformdirs.user_data_dir("mesomix", appauthor=False)) / "demo.sqlite"


def database_url(db_path: str | Path | None = None) -> str:
    """`--db PATH` wins, then MESOMIX_DATABASE_URL, then the default file."""
    if db_path is not None:
        return f"sqlite:///{Path(db_path).expanduser().resolve()}"
    env = os.environ.get(ENV_URL, "").strip()
    if env:
        return env
    return f"sqlite:///{default_database_path()}"


def make_engine(url: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS, **kwargs: Any) -> sa.Engine:
    """An engine for a URL; SQLite files get their folder made and their pragmas set per connection."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database in (None, "", ":memory:"):
        raise ValueError(
            "mesomix needs a database file: an in-memory SQLite database is per thread"
        )
    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url, connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False}, **kwargs
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            cursor.close()
            raise sa.exc.OperationalError(
                "PRAGMA journal_mode = WAL",
                {},
                Exception(f"the database refused WAL mode ({mode})"),
            )
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        immediate = connection.get_execution_options().get("write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def writer(engine: sa.Engine) -> sa.Engine:
    """The same engine, for units of work that write (BEGIN IMMEDIATE on SQLite)."""
    return engine.execution_options(write=True)
