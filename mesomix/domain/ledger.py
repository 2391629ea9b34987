"""The ledger reconciled against the audit trail: each movement is what its audit row recorded.

A movement and its lot's on-hand can be edited alike, so that stock still equals the sum of
movements; the trail, chained by hash, still says what was moved. What each audit row proves:

- `stock.receive`, `adjust`, `waste`, `return`, `count` (and corrections) list their movement
  since revision 0008 (`new.movements`: id, lot, kind, quantity): all of it is reconciled.
- `stock.take` (a dispense, one row per lot) names the lot, its batch (in the reason) and what
  was taken and wasted: its dispense and waste movements are found by batch, lot and kind, so the
  hot path writes no more than it did.
- Older rows: a receipt names the lot and quantity, and its movement is found by lot and time;
  an adjustment, waste, return or count names its movement, lot and kind, but recorded the
  on-hand after the change as both before and after, so its quantity is not proven.
- Movements older than the trail itself (a database from before revision 0003) have no audit
  row; they are counted, not reconciled.

The demo's `--replace` empties the ledger and says so in the trail (`demo.wipe`): rows before it
no longer describe the ledger.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

WIPE_ACTION = "demo.wipe"
_BATCH = re.compile(r"^batch (\d+)$")


@dataclass(frozen=True)
class Movement:
    """One row of the ledger as the database holds it."""

    id: int
    lot_id: int
    kind: str
    quantity_ul: int
    batch_id: int | None
    at: datetime


@dataclass(frozen=True)
class TrailRow:
    """The parts of an audit row that speak of the ledger."""

    id: int
    at: datetime
    action: str
    lot_id: int | None
    new: Mapping[str, Any] | None
    reason: str


@dataclass(frozen=True)
class Claim:
    """One movement as an audit row recorded it."""

    audit_id: int
    movement_id: int | None  # None: a row from before rows listed their movements
    lot_id: int
    kind: str
    quantity_ul: int | None  # None: the row does not prove it
    batch_id: int | None = None
    at: datetime | None = None  # how an older receipt is found

    def said(self) -> str:
        batch = f", batch {self.batch_id}" if self.batch_id is not None else ""
        quantity = (
            "(quantity not recorded)" if self.quantity_ul is None else f"{self.quantity_ul:+,} µL"
        )
        return f"lot {self.lot_id}, {self.kind} {quantity}{batch}"


def listed(
    movement_id: int, lot_id: int, kind: str, quantity_ul: int, batch_id: int | None = None
) -> dict[str, Any]:
    """A movement as an audit row lists it (`new.movements`)."""
    entry: dict[str, Any] = {
        "id": movement_id,
        "lot": lot_id,
        "kind": kind,
        "quantity_ul": quantity_ul,
    }
    if batch_id is not None:
        entry["batch"] = batch_id
    return entry


def claims_of(row: TrailRow) -> list[Claim]:
    """What an audit row says was moved (empty for a row that moves nothing); KeyError,
    TypeError or ValueError when a row that should say it cannot be read."""
    new = row.new or {}
    if "movements" in new:
        return [
            Claim(
                row.id,
                int(m["id"]),
                int(m["lot"]),
                str(m["kind"]),
                int(m["quantity_ul"]),
                int(m["batch"]) if m.get("batch") is not None else None,
            )
            for m in new["movements"]
        ]
    if row.lot_id is None:
        return []
    if row.action == "stock.take":
        found = _BATCH.match(row.reason)
        if found is None:
            raise ValueError(f"its reason '{row.reason}' names no batch")
        batch, wasted = int(found.group(1)), int(new["wasted_ul"])
        drawn = int(new["taken_ul"]) - wasted
        return [
            Claim(row.id, None, row.lot_id, kind, -quantity, batch)
            for kind, quantity in (("dispense", drawn), ("waste", wasted))
            if quantity
        ]
    if row.action == "stock.receive":
        return [Claim(row.id, None, row.lot_id, "receive", int(new["quantity_ul"]), at=row.at)]
    if row.action.startswith("stock.") and new.get("movement") is not None:
        kind = row.action.removeprefix("stock.")
        return [Claim(row.id, int(new["movement"]), row.lot_id, kind, None)]
    return []


@dataclass
class Reconciliation:
    problems: list[str] = field(default_factory=list)
    reconciled: int = 0  # movements matching their audit row
    older: int = 0  # movements older than the trail: no audit row to match


def reconcile(
    trail: Iterable[TrailRow], movements: Iterable[Movement], trail_began: datetime | None
) -> Reconciliation:
    """Every movement against the audit row that recorded it, and every such row against its
    movement. `trail` in the order of the chain; `trail_began` is the time of its first row."""
    result = Reconciliation()
    claims: list[Claim] = []
    wiped = False
    for row in trail:
        if row.action == WIPE_ACTION:
            claims, wiped = [], True
            continue
        try:
            claims.extend(claims_of(row))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            result.problems.append(
                f"audit row {row.id} ({row.action}) cannot be read as movements: {exc}"
            )
    by_id = {m.id: m for m in movements}
    matched: dict[int, int] = {}  # movement id → the audit row that recorded it

    def match(movement: Movement, claim: Claim) -> None:
        matched[movement.id] = claim.audit_id
        ledger = Claim(
            claim.audit_id,
            movement.id,
            movement.lot_id,
            movement.kind,
            movement.quantity_ul,
            movement.batch_id if claim.batch_id is not None else None,
        )
        if (movement.lot_id, movement.kind, ledger.batch_id) != (
            claim.lot_id,
            claim.kind,
            claim.batch_id,
        ) or claim.quantity_ul not in (None, movement.quantity_ul):
            result.problems.append(
                f"movement {movement.id}: the ledger says {ledger.said()}; "
                f"the trail (audit row {claim.audit_id}) recorded {claim.said()}"
            )
        else:
            result.reconciled += 1

    for claim in claims:
        if claim.movement_id is None:
            continue
        movement = by_id.get(claim.movement_id)
        if movement is None:
            result.problems.append(
                f"movement {claim.movement_id} is missing from the ledger: the trail (audit row "
                f"{claim.audit_id}) recorded {claim.said()}"
            )
        elif movement.id in matched:
            result.problems.append(
                f"movement {movement.id} is recorded by audit rows {matched[movement.id]} and "
                f"{claim.audit_id}"
            )
        else:
            match(movement, claim)
    by_key: dict[tuple[object, ...], list[Movement]] = defaultdict(list)
    for movement in by_id.values():
        if movement.id not in matched:
            by_key[movement.lot_id, movement.kind, "batch", movement.batch_id].append(movement)
            by_key[movement.lot_id, movement.kind, "at", movement.at].append(movement)
    for claim in (c for c in claims if c.movement_id is None):
        key = (
            (claim.lot_id, claim.kind, "batch", claim.batch_id)
            if claim.batch_id is not None
            else (claim.lot_id, claim.kind, "at", claim.at)
        )
        free = [m for m in by_key[key] if m.id not in matched]
        if not free:
            result.problems.append(
                f"a movement is missing from the ledger: the trail (audit row {claim.audit_id}) "
                f"recorded {claim.said()}"
            )
            continue
        same = [m for m in free if m.quantity_ul == claim.quantity_ul]
        match((same or free)[0], claim)
    first = min(matched, default=None)
    for movement in sorted(by_id.values(), key=lambda m: m.id):
        if movement.id in matched:
            continue
        if (
            not wiped
            and (first is None or movement.id < first)
            and (trail_began is None or movement.at <= trail_began)
        ):
            result.older += 1
            continue
        result.problems.append(
            f"movement {movement.id} (lot {movement.lot_id}, {movement.kind} "
            f"{movement.quantity_ul:+,} µL) has no audit row: the trail never recorded it"
        )
    return result
