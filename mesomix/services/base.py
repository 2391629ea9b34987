"""The one way a service does a person's work: one unit of work, as someone allowed to do it.

`reading` and `writing` open the transaction (services/uow.py), find the acting user's row and
ask the permission matrix; a refusal for lack of permission rolls the work back and is then
written to the trail in a transaction of its own (services/audit.py: `denials_recorded`).

Three kinds of work open their transaction themselves, on purpose: a mixture's check and
dispense run SQL expressions on a Core connection, the hot path (benchmarks/bench_dispense.py);
a practitioner's signature judges the signer, not the person at the terminal, and writes the
attempt even when it is refused; and the audit anchor walks the chain outside the read that
checks the permission, so a long walk holds no transaction open.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mesomix.clock import Clock
from mesomix.db.tables import UserRow
from mesomix.domain.permissions import Action
from mesomix.services.actors import require
from mesomix.services.audit import Entry, append, denials_recorded
from mesomix.services.uow import unit_of_work


@contextmanager
def acting(
    engine: sa.Engine,
    clock: Clock,
    user: str,
    action: Action,
    *,
    write: bool = False,
    denied_as: str = "",
) -> Iterator[tuple[Session, UserRow]]:
    """A session in one transaction and the actor's row, once their role allows `action`;
    a denial is recorded under `denied_as` (what the trail calls the work), else the action."""
    with (
        denials_recorded(engine, clock, user, denied_as or action.value),
        unit_of_work(engine, write=write) as session,
    ):
        yield session, require(session, user, action)


class Service:
    """A service on one database and clock, whose work is done by `reading` and `writing`."""

    def __init__(self, engine: sa.Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def reading(
        self, user: str, action: Action, *, denied_as: str = ""
    ) -> AbstractContextManager[tuple[Session, UserRow]]:
        """A read as `user`, who must be allowed `action`: the session and the actor's row."""
        return acting(self._engine, self._clock, user, action, denied_as=denied_as)

    def writing(
        self, user: str, action: Action, *, denied_as: str = ""
    ) -> AbstractContextManager[tuple[Session, UserRow]]:
        """A change as `user`, committed once or not at all (BEGIN IMMEDIATE on SQLite)."""
        return acting(self._engine, self._clock, user, action, write=True, denied_as=denied_as)

    def audit(
        self,
        session: Session,
        actor: UserRow,
        action: str,
        record: tuple[str, object],
        *,
        patient_id: int | None = None,
        lot_id: int | None = None,
        old: dict[str, Any] | None = None,
        new: dict[str, Any] | None = None,
        reason: str = "",
        at: datetime | None = None,
    ) -> None:
        """One row of the trail for a change `actor` made to `record` (its type and id), in the
        change's own transaction: the row and the change land together or not at all. `at` is the
        change's own time where a row written beside it (a movement) carries one."""
        record_type, record_id = record
        append(
            session.connection(),
            at or self._clock.now(),
            Entry(
                action,
                record_type=record_type,
                record_id=str(record_id),
                user_id=actor.id,
                user_name=actor.name,
                patient_id=patient_id,
                lot_id=lot_id,
                old=old,
                new=new,
                reason=reason,
            ),
        )
