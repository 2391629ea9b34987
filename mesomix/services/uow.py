"""Units of work: one transaction per thing a person does; it commits once or writes nothing.

Faults of the database itself (db/faults.py: busy, disk full, read-only, damaged, unreachable)
leave a unit of work as a DatabaseFault worded for a person, never as a driver's traceback; the
transaction has rolled back by then. Before a writing unit of work writes anything:

- a database opened read-only refuses at once, saying why it is read-only;
- the clock is compared with the newest audit row, once the write lock is held. A clock that
  reads earlier (by more than CLOCK_TOLERANCE) refuses the write. Refusing is the safe choice
  for a medication ledger: "now" decides which lots have expired and when a mixture must be
  used by, and every row is stamped with it, so a clock set back (a flat CMOS battery, a wrong
  manual setting) would dispense expired stock and write a trail whose times run backwards.
  Reading still works, so stock and reports can be seen while someone sets the time right.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session

from mesomix.clock import Clock
from mesomix.db.engine import DatabaseInfo, database_info, writer
from mesomix.db.faults import DatabaseRefused, Fault, classify
from mesomix.db.health import damaged_message, space_exhausted
from mesomix.db.tables import AuditHeadRow, AuditRow
from mesomix.services.errors import (
    ClockBehind,
    DatabaseBusy,
    DatabaseDamaged,
    DatabaseFault,
    DatabaseReadOnly,
    DatabaseUnusable,
    DiskError,
    DiskFull,
)

# Terminals of one PostgreSQL database may run on machines whose clocks differ by a little;
# on one machine (SQLite) a row is never stamped later than the next writer's clock.
CLOCK_TOLERANCE = timedelta(minutes=1)
_CLOCK = "mesomix_clock"
_AUDIT, _HEAD = AuditRow.__table__, AuditHeadRow.__table__
_NEWEST_AUDIT = sa.select(sa.func.max(_AUDIT.c.at)).where(  # the last row of each site's chain
    _AUDIT.c.id.in_(sa.select(_HEAD.c.last_id))
)


def with_clock(engine: sa.Engine, clock: Clock) -> sa.Engine:
    """The engine whose writing units of work first check `clock` against the audit trail."""
    return engine.execution_options(**{_CLOCK: clock})


def explain(fault: Fault, info: DatabaseInfo, detail: str) -> DatabaseFault:
    """The refusal a person reads for a fault of the database at `info`."""
    where = info.where
    if fault is Fault.BUSY:
        return DatabaseBusy(
            f"the database is busy: another terminal has held it for longer than "
            f"{info.busy_timeout_ms / 1000:g} s; nothing was written — try again"
        )
    exhausted = space_exhausted(info.path) if info.path and fault is Fault.IO else ""
    if fault is Fault.FULL or exhausted:
        return DiskFull(
            f"the disk is full: nothing was written — free some space on the disk that holds "
            f"{where}{f' ({exhausted})' if exhausted else ''}, then try again"
        )
    if fault is Fault.IO:
        return DiskError(
            f"the disk failed while reading or writing {where} (disk I/O error: is it full, "
            "failing or removed?); nothing was written — check the disk, then try again"
        )
    if fault is Fault.READ_ONLY:
        return read_only(info.read_only or f"{where} refuses writes")
    if fault is Fault.DAMAGED:
        return DatabaseDamaged(damaged_message(info.path or where, detail))
    if fault is Fault.UNREACHABLE:
        return DatabaseUnusable(
            f"the database server {where} cannot be reached ({detail}): check the network, the "
            "server and MESOMIX_DATABASE_URL"
        )
    return DatabaseUnusable(f"the database {where} cannot be opened: {detail}")


def read_only(reason: str) -> DatabaseReadOnly:
    return DatabaseReadOnly(
        f"this database is open read-only ({reason}): stock and reports can be seen, "
        "nothing can be changed"
    )


@contextmanager
def database_faults(engine: sa.Engine) -> Iterator[None]:
    """Faults of the database become refusals a person can act on; anything else is left alone."""
    try:
        yield
    except Exception as exc:
        fault = classify(exc) if _from_the_database(exc) else None
        if fault is None:
            raise
        if isinstance(exc, DatabaseRefused) and fault not in (Fault.DAMAGED, Fault.BUSY):
            raise DatabaseUnusable(str(exc)) from exc
        detail = str(getattr(exc, "orig", None) or exc)
        raise explain(fault, database_info(engine), detail) from exc


def _from_the_database(error: Exception) -> bool:
    """Raised by SQLAlchemy, by make_engine, or by a driver read straight from its cursor."""
    return isinstance(error, sa.exc.DBAPIError | DatabaseRefused | sqlite3.Error) or type(
        error
    ).__module__.startswith("psycopg")


def _before_writing(engine: sa.Engine) -> None:
    reason = database_info(engine).read_only
    if reason:
        raise read_only(reason)


def _clock_not_behind(connection: sa.Connection) -> None:
    clock = connection.get_execution_options().get(_CLOCK)
    if clock is None:
        return
    newest = connection.execute(_NEWEST_AUDIT).scalar()
    now = clock.now()
    if newest is not None and now < newest - CLOCK_TOLERANCE:
        zone = clock.zone
        raise ClockBehind(
            f"the clock reads {now.astimezone(zone):%Y-%m-%d %H:%M:%S %Z}, earlier than the last "
            f"audit row at {newest.astimezone(zone):%Y-%m-%d %H:%M:%S %Z}: check the system time; "
            "nothing was written"
        )


@contextmanager
def unit_of_work(engine: sa.Engine, *, write: bool = False) -> Iterator[Session]:
    """A session in one transaction (BEGIN IMMEDIATE on SQLite when writing); rolled back on error."""
    if write:
        _before_writing(engine)
    bind = writer(engine) if write else engine
    with database_faults(engine), Session(bind, expire_on_commit=False) as session, session.begin():
        if write:
            _clock_not_behind(session.connection())
        yield session


@contextmanager
def transaction(engine: sa.Engine, *, write: bool = False) -> Iterator[sa.Connection]:
    """A bare connection in one transaction, for hot paths written in SQL expressions."""
    if write:
        _before_writing(engine)
    bind = writer(engine) if write else engine
    with database_faults(engine), bind.begin() as connection:
        if write:
            _clock_not_behind(connection)
        yield connection
