"""Lots on the shelf: their rows as the allocation's LotState, and sealed containers booked in."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mesomix.db.repositories.reactions import after_batches
from mesomix.db.sites import site_of
from mesomix.db.tables import BatchRow, LotRow, MovementRow, PatientRow, ProductRow, UserRow
from mesomix.domain.allocation import LotState
from mesomix.domain.imports import Receipt
from mesomix.domain.text import storable
from mesomix.errors import Refused

_LOT = LotRow.__table__
_MOVEMENT = MovementRow.__table__
_BATCH = BatchRow.__table__
_PATIENT = PatientRow.__table__
_USER = UserRow.__table__


@dataclass(frozen=True)
class RecallLine:
    batch_id: int
    made_at: datetime
    patient_ref: str
    patient_name: str
    volume_ul: int  # drawn from the lot into that batch
    made_by: str
    reactions: tuple[
        str, ...
    ] = ()  # each reaction after the batch as it stands: "severe infection"


def received(session: Session, lot_id: int) -> list[RecallLine]:
    """Every batch and patient that received stock from the lot, in the order made, with the
    reactions after each batch: the recall trace, and the patients a signal lists to call."""
    connection = session.connection()
    rows = connection.execute(
        sa.select(
            _BATCH.c.id,
            _BATCH.c.created_at,
            _PATIENT.c.ref,
            _PATIENT.c.name,
            sa.func.sum(-_MOVEMENT.c.quantity_ul),
            _USER.c.name,
        )
        .join(_MOVEMENT, _MOVEMENT.c.batch_id == _BATCH.c.id)
        .join(_PATIENT, _PATIENT.c.id == _BATCH.c.patient_id)
        .join(_USER, _USER.c.id == _BATCH.c.actor_id)
        .where(_MOVEMENT.c.lot_id == lot_id, _MOVEMENT.c.kind == "dispense")
        .group_by(_BATCH.c.id, _BATCH.c.created_at, _PATIENT.c.ref, _PATIENT.c.name, _USER.c.name)
        .order_by(_BATCH.c.created_at)
    ).all()
    after = after_batches(connection, [row[0] for row in rows])
    return [
        RecallLine(b, at, ref, name, int(volume), maker, tuple(r.said for r in after.get(b, ())))
        for b, at, ref, name, volume, maker in rows
    ]


def lot_state(row: LotRow | sa.Row[Any]) -> LotState:
    return LotState(
        lot_id=row.id or 0,
        lot_number=row.lot_number,
        expiry=row.expiry,
        status=row.status,
        on_hand_ul=row.on_hand_ul,
        open_ul=row.open_ul,
        opened_at=row.opened_at,
    )


@functools.lru_cache(maxsize=64)
def _lots_of(count: int, lock: bool) -> sa.Select[Any]:
    """The query for `count` products, built once per count: an expanding IN list would be
    rendered again on every dispense (the hot path, benchmarks/bench_dispense.py)."""
    codes: list[sa.BindParameter[str]] = [sa.bindparam(f"code_{at}") for at in range(count)]
    query = (
        sa.select(_LOT)
        .where(
            _LOT.c.site_id == sa.bindparam("site"),
            _LOT.c.product_code.in_(codes),
            _LOT.c.on_hand_ul > 0,
        )
        .order_by(_LOT.c.id)
    )
    return query.with_for_update() if lock else query


def lots_of(
    connection: sa.Connection, codes: Iterable[str], *, lock: bool = False
) -> dict[str, list[LotState]]:
    """The lots with stock of these products on the connection's site's shelves; `lock` takes
    row locks on PostgreSQL."""
    wanted = sorted(code for code in codes if storable(code))  # no product has another code
    lots: dict[str, list[LotState]] = {code: [] for code in wanted}
    if not wanted:
        return lots
    given: dict[str, object] = {f"code_{at}": code for at, code in enumerate(wanted)}
    given["site"] = site_of(connection)
    for row in connection.execute(_lots_of(len(wanted), lock), given):
        lots[row.product_code].append(lot_state(row))
    return lots


class OtherExpiry(Refused):
    """The lot number is on record for the product with another expiry: nothing was written
    (receiving words it for the person, naming the product)."""

    def __init__(self, on_record: date) -> None:
        super().__init__(on_record.isoformat())
        self.on_record = on_record


class RecalledLot(Refused):
    """The lot number is on record for the product as recalled: more of it is not received
    (receiving words it for the person)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Booked:
    lot_id: int
    movement_id: int
    quantity_ul: int


def book_receipt(
    session: Session,
    actor_id: int,
    product: ProductRow,
    receipt: Receipt,
    reason: str,
    now: datetime,
) -> Booked:
    """Sealed containers onto the session's site's shelf in the caller's transaction: the lot
    (new, or the one on record there) and its movement. The manufacturer's lot is one wherever
    it is shelved: OtherExpiry if any site has it with another expiry, RecalledLot if it is
    recalled."""
    site = site_of(session.connection())
    shelved = session.exec(
        select(LotRow).where(
            LotRow.product_code == product.code, LotRow.lot_number == receipt.lot_number
        )
    ).all()
    for other in shelved:
        if other.expiry != receipt.expiry:
            raise OtherExpiry(other.expiry)
        if other.status == "recalled":
            raise RecalledLot(other.status_reason)
    lot = next((other for other in shelved if other.site_id == site), None)
    quantity = receipt.containers * product.container_volume_ul
    if lot is None:
        lot = LotRow(
            site_id=site,
            status=shelved[0].status if shelved else "available",
            status_reason=shelved[0].status_reason if shelved else "",
            product_code=product.code,
            lot_number=receipt.lot_number,
            expiry=receipt.expiry,
            received_at=now,
            supplier=receipt.supplier.strip(),
            unit_cost_cents=receipt.unit_cost_cents,
        )
        session.add(lot)
        session.flush()
    session.execute(
        sa.update(LotRow)
        .where(col(LotRow.id) == lot.id)
        .values(on_hand_ul=LotRow.on_hand_ul + quantity)
    )
    movement = MovementRow(
        lot_id=lot.id or 0,
        kind="receive",
        quantity_ul=quantity,
        reason=reason,
        actor_id=actor_id,
        at=now,
    )
    session.add(movement)
    session.flush()
    return Booked(lot.id or 0, movement.id or 0, quantity)
