"""Stock moved by hand: adjust, waste, return, count and correct — each a ledger movement with a
reason, in one transaction with its audit row.

Movements are never edited: a mistake is corrected by a new movement pointing at the one it
corrects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mesomix.db.tables import LotRow, MovementRow, ProductRow, UserRow
from mesomix.domain.catalog import ContainerKind
from mesomix.domain.inventory import (
    CORRECTABLE,
    MAX_CONTAINERS,
    LotBalance,
    Shelved,
    StockChangeError,
    apply_change,
    booked_open_ul,
    check_count_reason,
    check_reason,
    check_whole_containers,
    open_volume_ul,
    reason_words,
    stock_volume_ul,
)
from mesomix.domain.ledger import listed
from mesomix.domain.permissions import Action
from mesomix.domain.text import fits_bigint, plain_text
from mesomix.services.base import Service
from mesomix.services.errors import NotFound, ServiceError
from mesomix.services.stock.lots import MAX_NOTE, lot_and_product


@dataclass(frozen=True)
class Counted:
    movement_id: int | None  # None: the count matched the books
    difference_ul: int  # counted less booked
    reason: str = ""  # the coded reason of a difference (COUNT_REASONS)

    def said(self) -> str:
        if self.movement_id is None:
            return "matches the books"
        sign = "+" if self.difference_ul > 0 else "−"
        return f"{sign}{abs(self.difference_ul) / 1000:g} mL booked: {reason_words(self.reason)}"


class Movements(Service):
    def adjust(self, user: str, lot_id: int, delta_ul: int, reason: str, note: str = "") -> int:
        """Put stock on or take it off a lot with a coded reason; returns the movement id."""
        return self._move(user, lot_id, "adjust", delta_ul, reason, note)

    def waste(self, user: str, lot_id: int, quantity_ul: int, reason: str, note: str = "") -> int:
        if quantity_ul <= 0:
            raise ServiceError("waste is a positive quantity taken off the lot")
        return self._move(user, lot_id, "waste", -quantity_ul, reason, note)

    def adjust_typed(
        self, user: str, lot_id: int, typed: str, direction: str, reason: str, note: str = ""
    ) -> int:
        """An adjustment as typed — a volume ("2 mL") or whole containers ("1 vial") — put on
        the lot (`direction` "add") or taken off it ("remove")."""
        if direction not in ("add", "remove"):
            raise ServiceError(f"direction '{direction}' is not add or remove")
        sign = 1 if direction == "add" else -1
        return self._move(
            user,
            lot_id,
            "adjust",
            lambda product: sign * stock_volume_ul(typed, product),
            reason,
            note,
        )

    def waste_typed(self, user: str, lot_id: int, typed: str, reason: str, note: str = "") -> int:
        """Waste as typed, a volume or whole containers, taken off the lot."""
        return self._move(
            user, lot_id, "waste", lambda product: -stock_volume_ul(typed, product), reason, note
        )

    def return_to_supplier(self, user: str, lot_id: int, containers: int, note: str = "") -> int:
        if containers <= 0:
            raise ServiceError("return at least one container")
        _check_note(note)
        with self.writing(user, Action.ADJUST_STOCK) as (session, actor):
            lot, product = lot_and_product(session, lot_id)
            return self._book(
                session,
                actor,
                lot,
                product.container_volume_ul,
                "return",
                -containers * product.container_volume_ul,
                "other",
                note or "returned to supplier",
            )

    def count(
        self,
        user: str,
        lot_id: int,
        sealed_containers: int,
        open_ml: str = "",
        reason: str = "",
        note: str = "",
    ) -> int | None:
        """What is on the shelf; the difference from the books becomes a 'count' movement
        (its id) with its coded reason, or None when the count matches the books."""
        return self.count_lot(user, lot_id, sealed_containers, open_ml, reason, note).movement_id

    def count_difference(
        self, user: str, lot_id: int, sealed_containers: int, open_ml: str = ""
    ) -> int:
        """How far a count as typed is from the books, in µL (counted less booked); writes
        nothing: for the form to ask why before the count is booked."""
        with self.reading(user, Action.ADJUST_STOCK) as (session, _):
            lot, product = lot_and_product(session, lot_id, lock=False)
            return _counted_ul(lot, product, sealed_containers, open_ml) - lot.on_hand_ul

    def count_lot(
        self,
        user: str,
        lot_id: int,
        sealed_containers: int,
        open_ml: str = "",
        reason: str = "",
        note: str = "",
    ) -> Counted:
        """A count, and by how much it differed from the books. An open volume left blank is
        the one booked: what the lot holds beyond its whole sealed containers. A count that
        differs needs a coded reason (COUNT_REASONS) that fits the way it differs."""
        with self.writing(user, Action.ADJUST_STOCK) as (session, actor):
            lot, product = lot_and_product(session, lot_id)
            volume = product.container_volume_ul
            counted = _counted_ul(lot, product, sealed_containers, open_ml)
            open_ul = counted - sealed_containers * volume
            delta = counted - lot.on_hand_ul
            if delta == 0:
                self.audit(
                    session,
                    actor,
                    "stock.count",
                    ("lot", lot.id),
                    lot_id=lot.id,
                    old={"on_hand_ul": lot.on_hand_ul},
                    new={"on_hand_ul": counted},
                    reason="count matches the books",
                )
                return Counted(None, 0)
            try:
                check_count_reason(reason, note, delta)
            except StockChangeError as exc:
                raise ServiceError(str(exc)) from None
            said = f"counted {sealed_containers} sealed + {open_ul / 1000:g} mL open; books said {lot.on_hand_ul / 1000:g} mL"
            moved = self._book(
                session,
                actor,
                lot,
                volume,
                "count",
                delta,
                reason,
                f"{note.strip()} ({said})" if note.strip() else said,
                open_after=open_ul,
            )
            return Counted(moved, delta, reason)

    def correct(self, user: str, movement_id: int, note: str) -> int:
        """Undo a mistaken movement with a new one pointing at it."""
        if len(note.strip()) < 3:
            raise ServiceError("say why the movement is corrected")
        _check_note(note)
        with self.writing(user, Action.ADJUST_STOCK) as (session, actor):
            original = session.get(MovementRow, movement_id) if fits_bigint(movement_id) else None
            if original is None:
                raise NotFound(f"no movement {movement_id}")
            if original.kind not in CORRECTABLE:
                raise ServiceError(
                    f"a {original.kind} movement is not corrected this way: record a return instead"
                )
            already = session.exec(
                select(MovementRow).where(MovementRow.corrects_id == movement_id)
            ).first()
            if already is not None:
                raise ServiceError(
                    f"movement {movement_id} was already corrected by movement {already.id}"
                )
            lot, product = lot_and_product(session, original.lot_id)
            return self._book(
                session,
                actor,
                lot,
                product.container_volume_ul,
                original.kind,
                -original.quantity_ul,
                "data_entry_error",
                note,
                corrects=movement_id,
            )

    def _move(
        self,
        user: str,
        lot_id: int,
        kind: str,
        delta_ul: int | Callable[[Shelved], int],
        reason: str,
        note: str,
    ) -> int:
        """One movement on a lot; a `delta_ul` given as a function of the product on the shelf
        reads what was typed against the lot's own product, in the same transaction."""
        try:
            check_reason(reason, note)
        except StockChangeError as exc:
            raise ServiceError(str(exc)) from None
        with self.writing(user, Action.ADJUST_STOCK) as (session, actor):
            lot, product = lot_and_product(session, lot_id)
            volume = product.container_volume_ul
            try:
                shelved = Shelved(product.name, volume)
                delta = delta_ul if isinstance(delta_ul, int) else delta_ul(shelved)
                if product.container == ContainerKind.SINGLE_DOSE.value:
                    check_whole_containers(delta, volume, lot.lot_number)
            except StockChangeError as exc:
                raise ServiceError(str(exc)) from None
            return self._book(session, actor, lot, volume, kind, delta, reason, note)

    def _book(
        self,
        session: Session,
        actor: UserRow,
        lot: LotRow,
        container_ul: int,
        kind: str,
        delta_ul: int,
        reason: str,
        note: str,
        corrects: int | None = None,
        open_after: int | None = None,
    ) -> int:
        """Book one movement on a locked lot: the guarded update, the movement, its audit row."""
        try:
            after = apply_change(
                LotBalance(lot.on_hand_ul, lot.open_ul), delta_ul, lot.lot_number, container_ul
            )
        except StockChangeError as exc:
            raise ServiceError(str(exc)) from None
        now = self._clock.now()
        open_ul = after.open_ul if open_after is None else min(open_after, after.on_hand_ul)
        if not open_ul:
            opened_at = None
        elif (after.opened and open_after is None) or lot.opened_at is None:
            opened_at = now  # a sealed container opened to take part of it
        else:
            opened_at = lot.opened_at
        # Read before the update: the ORM brings `lot` up to date with it (audit rows before
        # revision 0008 recorded the new on-hand as the old one for that reason).
        before: dict[str, object] = {"on_hand_ul": lot.on_hand_ul, "open_ul": lot.open_ul}
        guarded = session.exec(
            sa.update(LotRow)
            .where(
                col(LotRow.id) == lot.id,
                col(LotRow.on_hand_ul) == lot.on_hand_ul,
                col(LotRow.open_ul) == lot.open_ul,
            )
            .values(
                on_hand_ul=after.on_hand_ul,
                open_ul=open_ul,
                opened_at=opened_at,
            )
        )
        if guarded.rowcount != 1:
            raise ServiceError(
                f"lot {lot.lot_number} changed meanwhile: nothing was written — try again"
            )
        movement = MovementRow(
            lot_id=lot.id or 0,
            kind=kind,
            quantity_ul=delta_ul,
            reason=reason,
            note=note.strip(),
            actor_id=actor.id or 0,
            corrects_id=corrects,
            at=now,
        )
        session.add(movement)
        session.flush()
        self.audit(
            session,
            actor,
            f"stock.{kind}",
            ("lot", lot.id),
            lot_id=lot.id,
            at=now,
            old=before,
            new={
                "on_hand_ul": after.on_hand_ul,
                "open_ul": open_ul,
                "movement": movement.id,
                "corrects": corrects,
                "movements": [listed(movement.id or 0, lot.id or 0, kind, delta_ul)],
            },
            reason=f"{reason}: {note}".strip(": "),
        )
        return movement.id or 0


def _check_note(note: str) -> None:
    if not plain_text(note, MAX_NOTE):
        raise ServiceError(f"a note is at most {MAX_NOTE} printable characters")


def _counted_ul(lot: LotRow, product: ProductRow, sealed_containers: int, open_ml: str) -> int:
    """What a count as typed finds on the shelf, in µL: the sealed containers, and what is left
    in the opened one (left blank: as booked). Refused when it cannot be so."""
    if sealed_containers < 0:
        raise ServiceError("a count cannot be negative")
    if sealed_containers > MAX_CONTAINERS:
        raise ServiceError(f"a count is at most {MAX_CONTAINERS:,} sealed containers")
    volume = product.container_volume_ul
    try:
        open_ul = (
            open_volume_ul(open_ml, volume)
            if open_ml.strip()
            else booked_open_ul(lot.on_hand_ul, lot.open_ul, volume)
        )
    except StockChangeError as exc:
        raise ServiceError(str(exc)) from None
    if open_ul and product.container == ContainerKind.SINGLE_DOSE.value and open_ml.strip():
        raise ServiceError(
            f"open vial: lot {lot.lot_number} is of single-dose containers, which are not "
            "kept open: count the sealed ones, and the open one as 0"
        )
    return sealed_containers * volume + open_ul
