"""The audit trail: who did what, when and why — append-only, chained by hash.

Each site has its own chain (`audit.chain`, the site's id; `audit.seq`, the row's place in it).
Each row carries the hash of the row before it in its chain and is written in the same
transaction as the change it records. A chain's end is kept in its `audit_head` row, locked while
a row is appended, so the writers of one site take turns (BEGIN IMMEDIATE on SQLite, a row lock
on PostgreSQL) and cannot fork their chain, while another site's writers append to theirs; rows
cut from a chain's end no longer reach its recorded head. An anchor (`anchor`) is a row of the
first site's chain that records every chain's head: kept outside the database, it pins them all.

A row's hash covers its whole content: its id, its chain and place, its time, who, what, the
values before and after, and the hash before it. The rows written before there were sites (the
first site's, whose place in the chain is their id) were hashed without chain and place, which
their id implies; so is every row whose chain and place are those (see `row_hash`).
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
from mesomix.db.sites import FIRST_SITE_ID, site_of
from mesomix.db.tables import AuditHeadRow, AuditRow, SiteRow
from mesomix.domain.anchors import Anchor, utc_text
from mesomix.domain.permissions import Action
from mesomix.domain.text import fits_bigint, storable
from mesomix.services.actors import require
from mesomix.services.errors import PermissionDenied, ServiceError
from mesomix.services.uow import transaction, unit_of_work

GENESIS = "0" * 64
_AUDIT = AuditRow.__table__
_HEAD = AuditHeadRow.__table__
_SITE = SiteRow.__table__
FIRST_CHAIN = FIRST_SITE_ID  # the first site's: the one anchors are written to
_LOCK_HEAD = sa.select(_HEAD).where(_HEAD.c.id == sa.bindparam("chain")).with_for_update()
# on SQLite, the largest id read in the same round trip (its ids follow it: see _new_ids)
_LOCK_HEAD_SQLITE = sa.select(
    _HEAD,
    sa.select(sa.func.coalesce(sa.func.max(_AUDIT.c.id), 0)).scalar_subquery().label("largest"),
).where(_HEAD.c.id == sa.bindparam("chain"))
_ADD = sa.insert(_AUDIT)
_NEXT_IDS_POSTGRESQL = sa.text("SELECT nextval('audit_id_seq') FROM generate_series(1, :count)")
_MOVE_HEAD = (
    sa.update(_HEAD)
    .where(_HEAD.c.id == sa.bindparam("chain"))
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
    """The hash of a row's whole content, its id, chain, place and the previous hash included.
    The chain and place are left out when they are the first chain and the row's id, as every
    row written before there were sites was hashed: the id implies them then, so no two
    different rows share a content."""
    content = {key: row.get(key) for key in _CONTENT}
    if (row.get("chain"), row.get("seq")) != (FIRST_CHAIN, row.get("id")):
        content["chain"], content["seq"] = row.get("chain"), row.get("seq")
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


def append(connection: sa.Connection, at: datetime, entry: Entry, chain: int | None = None) -> int:
    """Add one row to a chain inside the caller's transaction; returns its id."""
    return append_many(connection, at, [entry], chain)[-1]


def append_many(
    connection: sa.Connection, at: datetime, entries: list[Entry], chain: int | None = None
) -> list[int]:
    """Add rows to a chain — `chain`, else the site the connection's engine writes at — in one
    round trip each for the head, the ids, the rows and the new head."""
    if not entries:
        return []
    if chain is None:
        chain = site_of(connection)
    sqlite = connection.dialect.name == "sqlite"
    locking = _LOCK_HEAD_SQLITE if sqlite else _LOCK_HEAD
    head = connection.execute(locking, {"chain": chain}).one_or_none()
    if head is None:
        raise ServiceError(f"the audit chain of site {chain} has no head: the site is unknown")
    ids = _new_ids(connection, len(entries), head.largest if sqlite else None)
    rows: list[dict[str, Any]] = []
    previous, seq = head.last_hash, head._mapping["count"]
    for row_id, entry in zip(ids, entries, strict=True):
        seq += 1
        row: dict[str, Any] = {
            "id": row_id,
            "chain": chain,
            "seq": seq,
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
    connection.execute(_ADD, rows)
    connection.execute(
        _MOVE_HEAD,
        {"chain": chain, "new_last": ids[-1], "added": len(rows), "new_hash": previous},
    )
    return ids


def _new_ids(connection: sa.Connection, count: int, largest: int | None) -> list[int]:
    """Ids no other row has: on SQLite after the largest (read with the head), since its one
    writer holds the file; elsewhere from PostgreSQL's sequence, which never waits for another
    chain's writers."""
    if largest is not None:
        return list(range(largest + 1, largest + 1 + count))
    return list(connection.execute(_NEXT_IDS_POSTGRESQL, {"count": count}).scalars())


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
    """Walk every chain: the first broken link, if any, whether each chain reaches its recorded
    head, and whether each anchored row is still in the first chain as it was anchored — with
    the heads of the other chains it recorded still in theirs."""
    anchored = {anchor.row_id for anchor in anchors}
    seen: dict[int, tuple[str, datetime, dict[tuple[int, int], str]]] = {}
    found: dict[tuple[int, int], str] = {}  # (chain, place) → hash, of every row walked
    ends: dict[int, tuple[int, str]] = {}  # chain → (rows, last hash) as walked
    chain, expected, previous, rows, problem = None, 1, GENESIS, 0, ""
    with transaction(engine) as connection:
        heads = {head.id: head for head in connection.execute(sa.select(_HEAD))}
        names = {site.id: site.code for site in connection.execute(sa.select(_SITE))}
        for row in connection.execution_options(yield_per=2000).execute(
            sa.select(_AUDIT).order_by(_AUDIT.c.chain, _AUDIT.c.seq)
        ):
            if row.chain != chain:
                chain, expected, previous = row.chain, 1, GENESIS
            problem = _broken(row, expected, previous, _chain_name(row.chain, names))
            if problem:
                break
            if row.chain == FIRST_CHAIN and row.seq in anchored:
                seen[row.seq] = (row.hash, row.at, _recorded_heads(row.new))
            found[(row.chain, row.seq)] = row.hash
            previous, expected, rows = row.hash, expected + 1, rows + 1
            ends[row.chain] = (row.seq, row.hash)
    if not problem:
        problem = _ends_problem(heads, ends, names)
    failed = tuple(
        f"{anchor.named()}: {why}"
        for anchor in anchors
        if (why := _anchor_fails(anchor, seen, found, ends, bool(problem), names))
    )
    return Verdict(not problem and not failed, rows, problem, failed)


def _chain_name(chain: int, names: dict[int, str]) -> str:
    """How a message names a chain: nothing for the first site's (so a clinic of one site reads
    what it always read), the site's code for another's."""
    if chain == FIRST_CHAIN:
        return ""
    return f" of site {names.get(chain, chain)}'s chain"


def _broken(row: sa.Row[Any], expected: int, previous: str, chain: str) -> str:
    """What is wrong with this link of a chain, or ""."""
    if row.seq > expected:
        return f"row {expected}{chain} is missing (deleted), the chain jumps to row {row.seq}"
    if row.prev_hash != previous or row.seq < expected:
        return (
            f"row {expected}{chain} does not follow row {expected - 1}: a row was deleted, "
            "edited or reordered"
        )
    if row_hash(row._asdict()) != row.hash:
        return f"row {row.seq}{chain} was edited: its content does not match its hash"
    return ""


def _ends_problem(
    heads: dict[int, sa.Row[Any]], ends: dict[int, tuple[int, str]], names: dict[int, str]
) -> str:
    """Whether every chain ends where its head says (rows cut from an end no longer do)."""
    for chain, head in sorted(heads.items()):
        rows, last = ends.get(chain, (0, GENESIS))
        recorded = head._mapping["count"]  # `head.count` is the tuple's method to a type checker
        if rows != recorded or last != head.last_hash:
            where = f" of site {names.get(chain, chain)}" if chain != FIRST_CHAIN else ""
            return (
                f"the chain{where} ends at row {rows} but its head records {recorded} rows: "
                "rows were cut from the end"
            )
    for chain in sorted(ends.keys() - heads.keys()):
        return f"rows are chained{_chain_name(chain, names)}, which has no head: they were forged"
    return ""


def _recorded_heads(new: Any) -> dict[tuple[int, int], str]:
    """The other chains' heads an anchoring row recorded: (chain, place) → hash."""
    chains = new.get("chains", []) if isinstance(new, dict) else []
    return {
        (chain, seq): hash_
        for chain, seq, hash_ in chains
        if isinstance(chain, int) and isinstance(seq, int) and isinstance(hash_, str) and seq > 0
    }


def _anchor_fails(
    anchor: Anchor,
    seen: dict[int, tuple[str, datetime, dict[tuple[int, int], str]]],
    found: dict[tuple[int, int], str],
    ends: dict[int, tuple[int, str]],
    broken: bool,
    names: dict[int, str],
) -> str:
    """Why the chains no longer hold what an anchor pinned, or ""."""
    rows = ends.get(FIRST_CHAIN, (0, GENESIS))[0]
    if anchor.row_id not in seen:
        if broken:
            return f"the chain breaks at row {rows + 1}, before the anchored row"
        return (
            f"the chain ends at row {rows}, before the anchored row: rows were removed "
            "or the chain rewound"
        )
    hash_, at, heads = seen[anchor.row_id]
    if hash_ != anchor.hash:
        return (
            f"row {anchor.row_id} is not the row anchored (its hash differs): the chain was "
            "cut back or rewritten at or before it"
        )
    if at != anchor.at:
        return f"row {anchor.row_id} has the hash anchored but the time {utc_text(at)}"
    for (chain, seq), recorded in sorted(heads.items()):
        if found.get((chain, seq)) != recorded:
            return (
                f"row {seq}{_chain_name(chain, names)}, whose hash the anchored row recorded, "
                "is no longer that row: that chain was cut back or rewritten at or before it"
                + (" (or is broken before it)" if broken else "")
            )
    return ""


def anchor(engine: sa.Engine, clock: Clock, user: str, where: str = "") -> Anchor:
    """The chains' heads to keep outside the database: every chain is walked first (an anchor
    vouches for what it pins), then the anchoring is appended to the first site's chain,
    recording the other chains' heads as they are, and is the head anchored."""
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
        others = [
            [head.id, head._mapping["count"], head.last_hash]
            for head in connection.execute(sa.select(_HEAD).order_by(_HEAD.c.id))
            if head.id != FIRST_CHAIN and head._mapping["count"]
        ]
        row_id = append(
            connection,
            clock.now(),
            Entry(
                "audit.anchor",
                user_id=actor.id,
                user_name=actor.name,
                new={"chains": others} if others else None,
                reason="the chain's head anchored outside the database"
                + (f": {where}" if where else ""),
            ),
            FIRST_CHAIN,
        )
        row = connection.execute(
            sa.select(_AUDIT.c.seq, _AUDIT.c.hash, _AUDIT.c.at).where(_AUDIT.c.id == row_id)
        ).one()
    return Anchor(row.seq, row.hash, row.at)


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
