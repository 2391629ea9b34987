"""Units of work: one transaction per thing a person does; it commits once or writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlmodel import Session

from mesomix.db.engine import writer
from mesomix.services.errors import DatabaseBusy


@contextmanager
def _busy_is_a_refusal() -> Iterator[None]:
    """A lock held past the busy timeout becomes a message, not a traceback."""
    try:
        yield
    except sa.exc.OperationalError as exc:
        text = str(exc.orig).lower()
        if "locked" in text or "busy" in text:
            raise DatabaseBusy(
                "the database is busy: another terminal has held it longer than the busy timeout; "
                "nothing was written — try again"
            ) from exc
        raise


@contextmanager
def unit_of_work(engine: sa.Engine, *, write: bool = False) -> Iterator[Session]:
    """A session in one transaction (BEGIN IMMEDIATE on SQLite when writing); rolled back on error."""
    bind = writer(engine) if write else engine
    with _busy_is_a_refusal(), Session(bind, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def transaction(engine: sa.Engine, *, write: bool = False) -> Iterator[sa.Connection]:
    """A bare connection in one transaction, for hot paths written in SQL expressions."""
    bind = writer(engine) if write else engine
    with _busy_is_a_refusal(), bind.begin() as connection:
        yield connection
