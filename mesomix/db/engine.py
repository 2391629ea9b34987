"""Engine factory: nothing connects at import time; SQLite gets WAL, foreign keys and a busy timeout.

Writing units of work ask for `write=True`: on SQLite they begin with BEGIN IMMEDIATE, so two
terminals never both read stock and then both decrement it; readers begin deferred and never wait.
Writers first take their turn in the file's queue (write_queue.py), so they wait in order and are
woken at once, not by SQLite's busy handler.

A SQLite file is refused before it is opened when its folder is on a network file system or its
header is damaged, and opened read-only (`mode=ro`) when asked or when it cannot be written.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.request import pathname2url

import sqlalchemy as sa
from sqlalchemy import event

from mesomix.db.faults import DatabaseRefused, Fault
from mesomix.db.health import read_only_reason, refuse_damaged_header, refuse_network_filesystem
from mesomix.db.write_queue import WriteQueue
from mesomix.settings import BUSY_TIMEOUT_MS

_INFO = "mesomix_database"
_TURN = "mesomix_write_turn"  # a pooled connection's hold on the writers' queue (write_queue.py)


@dataclass(frozen=True)
class DatabaseInfo:
    """What a message about the database needs: where it is, how long a lock is waited for,
    and why it is read-only ("" when it may be written)."""

    where: str  # the SQLite file, or the server and database name (never the password)
    busy_timeout_ms: int = BUSY_TIMEOUT_MS
    read_only: str = ""
    path: Path | None = None  # the SQLite file


def database_info(engine: sa.Engine) -> DatabaseInfo:
    """The facts make_engine recorded about an engine's database."""
    info = engine.get_execution_options().get(_INFO)
    if isinstance(info, DatabaseInfo):
        return info
    return DatabaseInfo(_server(engine.url))


def _server(url: sa.URL) -> str:
    return f"{url.host or 'localhost'}{f':{url.port}' if url.port else ''}/{url.database or ''}"


def make_engine(
    url: str,
    *,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    read_only: bool = False,
    mountinfo: str | None = None,
    **kwargs: Any,
) -> sa.Engine:
    """An engine for a URL; SQLite files get their folder made and their pragmas set per
    connection. `read_only` opens the database so that nothing can be written; `mountinfo`
    stands in for /proc/self/mountinfo (tests). Raises DatabaseRefused for a database that
    cannot be used as it is."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if read_only:
            kwargs.setdefault("connect_args", {})["options"] = "-c default_transaction_read_only=on"
        engine = sa.create_engine(url, pool_pre_ping=True, **kwargs)
        reason = "opened with --read-only" if read_only else ""
        return engine.execution_options(
            **{_INFO: DatabaseInfo(_server(parsed), busy_timeout_ms, reason)}
        )
    if parsed.database in (None, "", ":memory:"):
        raise ValueError(
            "mesomix needs a database file: an in-memory SQLite database is per thread"
        )
    path = Path(parsed.database)
    refuse_network_filesystem(path, mountinfo)
    refuse_damaged_header(path)
    reason = read_only_reason(path, read_only)
    timeout = busy_timeout_ms / 1000
    if reason:
        uri = _read_only_uri(path)
        kwargs["creator"] = lambda: sqlite3.connect(
            uri, uri=True, timeout=timeout, check_same_thread=False
        )
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseRefused(
                f"the folder {path.parent} cannot be made ({exc.strerror})", Fault.CANNOT_OPEN
            ) from None
        kwargs["connect_args"] = {"timeout": timeout, "check_same_thread": False}
    engine = sa.create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if not reason:
            mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                cursor.close()
                raise DatabaseRefused(
                    f"the database {path} refused WAL mode (it stays in {mode} mode): "
                    "mesomix needs WAL for terminals to read while one writes",
                    Fault.CANNOT_OPEN,
                )
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    queue = None if reason else WriteQueue(path, timeout)

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        immediate = connection.get_execution_options().get("write", False)
        if immediate and queue is not None:
            held = connection.connection.info  # the pooled connection's, kept past checkin
            if _TURN not in held:
                held[_TURN] = queue.enter()
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    @event.listens_for(engine, "checkin")
    def _done(_dbapi_connection: Any, record: Any) -> None:
        """Back in the pool, its transaction over: the next writer's turn."""
        turn = record.info.pop(_TURN, None) if record is not None else None
        if turn is not None:
            WriteQueue.leave(turn)

    return engine.execution_options(
        **{_INFO: DatabaseInfo(str(path), busy_timeout_ms, reason, path)}
    )


def _read_only_uri(path: Path) -> str:
    """`mode=ro`, and `immutable=1` when the folder cannot hold the WAL index (-shm): safe then,
    since no one can write the database in WAL mode either — unless a -wal file still holds
    changes that only a writable folder lets SQLite merge."""
    if not path.is_file():
        raise DatabaseRefused(f"there is no database at {path} to open read-only")
    uri = f"file:{pathname2url(str(path))}?mode=ro"
    shm, wal = Path(f"{path}-shm"), Path(f"{path}-wal")
    if os.access(path.parent, os.W_OK) or shm.exists():
        return uri
    if wal.exists() and wal.stat().st_size > 0:
        raise DatabaseRefused(
            f"{wal} holds changes not yet merged into {path}, and its folder is not writable: "
            "open it once where its folder may be written",
        )
    return uri + "&immutable=1"


def writer(engine: sa.Engine) -> sa.Engine:
    """The same engine, for units of work that write (BEGIN IMMEDIATE on SQLite): made once and
    kept on the engine it derives from (its own, never a derived engine's: each carries its own
    options, the clock among them), not made again for every write."""
    found = vars(engine).get("_mesomix_writer")
    if found is None:
        found = engine.execution_options(write=True)
        # an attribute of ours on SQLAlchemy's Engine, which declares no such slot
        engine._mesomix_writer = found  # type: ignore[attr-defined]
    return found
