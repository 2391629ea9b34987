"""The audit trail: who did what, when and why — append-only, chained by hash.

Each row carries the hash of the row before it and is written in the same transaction as the
change it records. The chain's end is kept in `audit_head`, locked while a row is appended, so
concurrent writers take turns (BEGIN IMMEDIATE on SQLite, a row lock on PostgreSQL) and cannot
fork the chain; rows cut from the end no longer reach the recorded head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from mesomix.clock import Clock
from mesomix.db.tables import AuditHeadRow, AuditRow
from mesomix.domain.anchors import Anchor, utc_text
from mesomix.domain.permissions import Action
from mesomix.domain.text import fits_bigint, storable
from mesomix.services.actors import require
from mesomix.services.errors import PermissionDenied, ServiceError
from mesomix.services.uow import transaction, unit_of_work

GENESIS = "0" * 64
_AUDIT = AuditRow.__table__
_HEAD = AuditHeadRow.__table__
_LOCK_HEAD = sa.select(_HEAD).where(_HEAD.c.id == 1).with_for_update()
_ADD = sa.insert(_AUDIT)
_MOVE_HEAD = (
    sa.update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(
        last_id=sa.bindparam("new_last"),
        count=_HEAD.c.count + sa.bindparam("added"),
        last_hash=sa.bindparam("new_hash"),
    )
)
_CONTENT = (
    "id",
    "at",
    "user_id",
    "user_name",
    "action",
    "record_type",
    "record_id",
    "patient_id",
    "lot_id",
    "old",
    "new",
    "reason",
    "prev_hash",
)


def row_hash(row: dict[str, Any]) -> str:
    """The hash of a row's whole content, its id and the previous hash included."""
    content = {key: row.get(key) for key in _CONTENT}
    at = content["at"]
    content["at"] = (
        at.astimezone(UTC).isoformat(timespec="microseconds") if isinstance(at, datetime) else at
    )
    text = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """What happened, in the words the trail keeps."""

    action: str  # "dispense", "receive", "allergy.record", "sign_in.failed", "denied", ...
    record_type: str = ""
    record_id: str = ""
    user_id: int | None = None
    user_name: str = ""
    patient_id: int | None = None
    lot_id: int | None = None
    old: dict[str, Any] | None = None
    new: dict[str, Any] | None = None
    reason: str = ""


def append(connection: sa.Connection, at: datetime, entry: Entry) -> int:
    """Add one row to the chain inside the caller's transaction; returns its id."""
    return append_many(connection, at, [entry])[-1]


def append_many(connection: sa.Connection, at: datetime, entries: list[Entry]) -> list[int]:
    """Add rows to the chain in one round trip each for the head, the rows and the new head."""
    if not entries:
        return []
    head = connection.execute(_LOCK_HEAD).one()
    rows: list[dict[str, Any]] = []
    previous, next_id = head.last_hash, head.last_id + 1
    for entry in entries:
        row: dict[str, Any] = {
            "id": next_id,
            "at": at,
            "user_id": entry.user_id,
            "user_name": entry.user_name,
            "action": entry.action,
            "record_type": entry.record_type,
            "record_id": str(entry.record_id),
            "patient_id": entry.patient_id,
            "lot_id": entry.lot_id,
            "old": entry.old,
            "new": entry.new,
            "reason": entry.reason,
            "prev_hash": previous,
        }
        row["hash"] = previous = row_hash(row)
        rows.append(row)
        next_id += 1
    connection.execute(_ADD, rows)
    connection.execute(
        _MOVE_HEAD, {"new_last": rows[-1]["id"], "added": len(rows), "new_hash": previous}
    )
    return [row["id"] for row in rows]


def record(engine: sa.Engine, clock: Clock, entry: Entry) -> None:
    """An audit row in a transaction of its own: for what is refused (and so writes nothing else)."""
    with transaction(engine, write=True) as connection:
        append(connection, clock.now(), entry)


@contextmanager
def denials_recorded(engine: sa.Engine, clock: Clock, user: str, action: str) -> Iterator[None]:
    """A refusal for lack of permission rolls the work back, then is written to the trail."""
    try:
        yield
    except PermissionDenied as refused:
        record(engine, clock, Entry("denied", user_name=user, reason=f"{action}: {refused}"))
        raise


@dataclass(frozen=True)
class Verdict:
    intact: bool  # the chain, and every anchor given
    rows: int
    problem: str = ""  # the chain's first broken link
    anchor_problems: tuple[str, ...] = ()  # each anchor that fails, named by its line


def verify(engine: sa.Engine, anchors: Sequence[Anchor] = ()) -> Verdict:
    """Walk the chain: the first broken link, if any, whether the recorded head is reached, and
    whether each anchored head is still in the chain as it was anchored."""
    expected_id, previous, rows, problem = 1, GENESIS, 0, ""
    anchored = {anchor.row_id for anchor in anchors}
    seen: dict[int, tuple[str, datetime]] = {}
    with transaction(engine) as connection:
        head = connection.execute(sa.select(_HEAD).where(_HEAD.c.id == 1)).one()
        for row in connection.execution_options(yield_per=2000).execute(
            sa.select(_AUDIT).order_by(_AUDIT.c.id)
        ):
            problem = _broken(row, expected_id, previous)
            if problem:
                break
            if row.id in anchored:
                seen[row.id] = (row.hash, row.at)
            previous, expected_id, rows = row.hash, expected_id + 1, rows + 1
    recorded = head._mapping["count"]  # `head.count` is the tuple's method to a type checker
    if not problem and (rows != recorded or previous != head.last_hash):
        problem = f"the chain ends at row {rows} but its head records {recorded} rows: rows were cut from the end"
    failed = tuple(
        f"{anchor.named()}: {why}"
        for anchor in anchors
        if (why := _anchor_fails(anchor, seen, rows, bool(problem)))
    )
    return Verdict(not problem and not failed, rows, problem, failed)


def _broken(row: sa.Row[Any], expected_id: int, previous: str) -> str:
    """What is wrong with this link of the chain, or ""."""
    if row.id != expected_id:
        return f"row {expected_id} is missing (deleted), the chain jumps to row {row.id}"
    if row.prev_hash != previous:
        return (
            f"row {row.id} does not follow row {row.id - 1}: a row was deleted, edited or reordered"
        )
    if row_hash(row._asdict()) != row.hash:
        return f"row {row.id} was edited: its content does not match its hash"
    return ""


def _anchor_fails(
    anchor: Anchor, seen: dict[int, tuple[str, datetime]], rows: int, broken: bool
) -> str:
    """Why the chain no longer holds an anchored head, or ""."""
    if anchor.row_id not in seen:
        if broken:
            return f"the chain breaks at row {rows + 1}, before the anchored row"
        return (
            f"the chain ends at row {rows}, before the anchored row: rows were removed "
            "or the chain rewound"
        )
    hash_, at = seen[anchor.row_id]
    if hash_ != anchor.hash:
        return (
            f"row {anchor.row_id} is not the row anchored (its hash differs): the chain was "
            "cut back or rewritten at or before it"
        )
    if at != anchor.at:
        return f"row {anchor.row_id} has the hash anchored but the time {utc_text(at)}"
    return ""


def anchor(engine: sa.Engine, clock: Clock, user: str, where: str = "") -> Anchor:
    """The chain's head to keep outside the database: the chain is walked first (an anchor
    vouches for what it pins), then the anchoring is itself appended and is the head anchored."""
    with (
        denials_recorded(engine, clock, user, Action.VIEW_AUDIT.value),
        unit_of_work(engine) as session,
    ):
        require(session, user, Action.VIEW_AUDIT)
    verdict = verify(engine)
    if not verdict.intact:
        raise ServiceError(
            f"the audit chain is broken after {verdict.rows} good rows ({verdict.problem}): "
            "it is not anchored, since an anchor would vouch for it"
        )
    with unit_of_work(engine, write=True) as session:
        actor = require(session, user, Action.VIEW_AUDIT)
        connection = session.connection()
        row_id = append(
            connection,
            clock.now(),
            Entry(
                "audit.anchor",
                user_id=actor.id,
                user_name=actor.name,
                reason="the chain's head anchored outside the database"
                + (f": {where}" if where else ""),
            ),
        )
        row = connection.execute(
            sa.select(_AUDIT.c.hash, _AUDIT.c.at).where(_AUDIT.c.id == row_id)
        ).one()
    return Anchor(row_id, row.hash, row.at)


@dataclass(frozen=True)
class AuditLine:
    id: int
    at: datetime
    user_name: str
    action: str
    record: str
    reason: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None


MAX_SHOWN = 100_000


def show(
    engine: sa.Engine,
    *,
    user: str | None = None,
    patient_id: int | None = None,
    lot_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
) -> list[AuditLine]:
    """Rows filtered by user, patient, lot and time, newest first."""
    if not 1 <= limit <= MAX_SHOWN:
        raise ServiceError(f"show 1 to {MAX_SHOWN:,} rows, not {limit}")
    if (user and not storable(user)) or not all(
        fits_bigint(key) for key in (patient_id, lot_id) if key is not None
    ):
        return []  # no row holds such a user name or id
    query = sa.select(_AUDIT).order_by(_AUDIT.c.id.desc()).limit(limit)
    if user:
        query = query.where(_AUDIT.c.user_name == user)
    if patient_id is not None:
        query = query.where(_AUDIT.c.patient_id == patient_id)
    if lot_id is not None:
        query = query.where(_AUDIT.c.lot_id == lot_id)
    if since is not None:
        query = query.where(_AUDIT.c.at >= since)
    if until is not None:
        query = query.where(_AUDIT.c.at < until)
    with transaction(engine) as connection:
        return [
            AuditLine(
                r.id,
                r.at,
                r.user_name,
                r.action,
                f"{r.record_type} {r.record_id}".strip(),
                r.reason,
                r.old,
                r.new,
            )
            for r in connection.execute(query)
        ]
