"""The manager's stock work: adjust, waste, return, count, quarantine and recall, reorder levels,
and corrections — each a ledger movement with a reason, in one transaction with its audit row.

Movements are never edited: a mistake is corrected by a new movement pointing at the one it
corrects.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, func, select

from mesomix.db.tables import (
    BatchRow,
    LotRow,
    MovementRow,
    PatientRow,
    ProductRow,
    UserRow,
)
from mesomix.domain.allocation import LotStatus
from mesomix.domain.catalog import ContainerKind, fold
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
from mesomix.domain.matcher import product_line
from mesomix.domain.permissions import Action
from mesomix.domain.text import fits_bigint, plain_text, storable
from mesomix.services.audit import Entry, append
from mesomix.services.base import Service
from mesomix.services.errors import NotFound, Refusals, ServiceError

_WORD = re.compile(r"[^\W_]+")
STATUSES = (LotStatus.AVAILABLE, LotStatus.QUARANTINED, LotStatus.RECALLED)


@dataclass(frozen=True)
class RecallLine:
    batch_id: int
    made_at: datetime
    patient_ref: str
    patient_name: str
    volume_ul: int  # drawn from the lot into that batch
    made_by: str


@dataclass(frozen=True)
class LotRef:
    """A lot as a person names it: the number printed on the box, and whose product it is."""

    lot_id: int
    lot_number: str
    product_code: str
    product_name: str
    status: str


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


@dataclass(frozen=True)
class LowStock:
    product_code: str
    product_name: str
    containers: int  # sealed containers in usable lots
    reorder_level: int
    suggested_order: int


class InventoryService(Service):
    # --- movements ------------------------------------------------------------------------

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
            user, lot_id, "adjust", lambda product: sign * stock_volume_ul(typed, product),
            reason, note,
        )  # fmt: skip

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
            lot, product = self._lot(session, lot_id)
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
            lot, product = self._lot(session, lot_id, lock=False)
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
            lot, product = self._lot(session, lot_id)
            volume = product.container_volume_ul
            counted = _counted_ul(lot, product, sealed_containers, open_ml)
            open_ul = counted - sealed_containers * volume
            delta = counted - lot.on_hand_ul
            if delta == 0:
                self._audit(
                    session,
                    actor,
                    "stock.count",
                    lot,
                    {"on_hand_ul": lot.on_hand_ul},
                    {"on_hand_ul": counted},
                    "count matches the books",
                )
                return Counted(None, 0)
            try:
                check_count_reason(reason, note, delta)
            except StockChangeError as exc:
                raise ServiceError(str(exc)) from None
            said = f"counted {sealed_containers} sealed + {open_ul / 1000:g} mL open; books said {lot.on_hand_ul / 1000:g} mL"
            moved = self._book(
                session, actor, lot, volume, "count", delta, reason,
                f"{note.strip()} ({said})" if note.strip() else said, open_after=open_ul,
            )  # fmt: skip
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
            lot, product = self._lot(session, original.lot_id)
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
            lot, product = self._lot(session, lot_id)
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
        before = {"on_hand_ul": lot.on_hand_ul, "open_ul": lot.open_ul}
        guarded = session.execute(
            sa.update(LotRow)
            .where(
                LotRow.id == lot.id,
                LotRow.on_hand_ul == lot.on_hand_ul,
                LotRow.open_ul == lot.open_ul,
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
            lot_id=lot.id or 0, kind=kind, quantity_ul=delta_ul, reason=reason, note=note.strip(),
            actor_id=actor.id or 0, corrects_id=corrects, at=now,
        )  # fmt: skip
        session.add(movement)
        session.flush()
        self._audit(
            session, actor, f"stock.{kind}", lot, before,
            {"on_hand_ul": after.on_hand_ul, "open_ul": open_ul, "movement": movement.id, "corrects": corrects,
             "movements": [listed(movement.id or 0, lot.id or 0, kind, delta_ul)]},
            f"{reason}: {note}".strip(": "),
        )  # fmt: skip
        return movement.id or 0

    # --- lot status -----------------------------------------------------------------------

    def set_status(self, user: str, lot_id: int, status: str, reason: str) -> None:
        """Quarantine, release or recall a lot: quarantined and recalled lots are never used."""
        if status not in STATUSES:
            raise ServiceError(f"status '{status}' is not one of {', '.join(STATUSES)}")
        if len(reason.strip()) < 3:
            raise ServiceError("say why the lot's status changes")
        if not plain_text(reason, MAX_NOTE):
            raise ServiceError(f"a reason is at most {MAX_NOTE} printable characters")
        with self.writing(user, Action.SET_LOT_STATUS) as (session, actor):
            lot, _ = self._lot(session, lot_id)
            refused = status_refusal(lot.lot_number, lot.status, status)
            if refused:
                raise ServiceError(refused)
            old = {"status": lot.status, "reason": lot.status_reason}
            lot.status, lot.status_reason = status, reason.strip()
            session.add(lot)
            self._audit(
                session, actor, f"lot.{status}", lot, old, {"status": status}, reason.strip()
            )

    def recall_trace(self, user: str, lot_id: int) -> list[RecallLine]:
        """Every batch and patient that received stock from the lot: a read, the recall report,
        so whoever may see reports may trace (no status is changed)."""
        with self.reading(user, Action.VIEW_REPORTS) as (session, _):
            self._lot(session, lot_id)
            query = (
                select(BatchRow.id, BatchRow.created_at, PatientRow.ref, PatientRow.name, func.sum(-MovementRow.quantity_ul), UserRow.name)
                .join(MovementRow, MovementRow.batch_id == BatchRow.id)
                .join(PatientRow, PatientRow.id == BatchRow.patient_id)
                .join(UserRow, UserRow.id == BatchRow.actor_id)
                .where(MovementRow.lot_id == lot_id, MovementRow.kind == "dispense")
                .group_by(BatchRow.id, BatchRow.created_at, PatientRow.ref, PatientRow.name, UserRow.name)
                .order_by(BatchRow.created_at)
            )  # fmt: skip
            return [
                RecallLine(b, at, ref, name, int(volume), maker)
                for b, at, ref, name, volume, maker in session.exec(query)
            ]

    # --- reorder levels -------------------------------------------------------------------

    def set_reorder(self, user: str, product_code: str, level: int, quantity: int) -> None:
        if level < 0 or quantity <= 0 or level > MAX_CONTAINERS or quantity > MAX_CONTAINERS:
            raise ServiceError(
                f"a reorder level is 0 to {MAX_CONTAINERS:,} containers, the quantity 1 to {MAX_CONTAINERS:,}"
            )
        with self.writing(user, Action.SET_REORDER) as (session, actor):
            product = session.get(ProductRow, product_code) if storable(product_code) else None
            if product is None:
                raise NotFound(f"unknown product '{product_code}'")
            old = {
                "reorder_level": product.reorder_level,
                "reorder_quantity": product.reorder_quantity,
            }
            product.reorder_level, product.reorder_quantity = level, quantity
            session.add(product)
            append(session.connection(), self._clock.now(), Entry(
                "product.reorder", user_id=actor.id, user_name=actor.name, record_type="product",
                record_id=product_code, old=old, new={"reorder_level": level, "reorder_quantity": quantity},
            ))  # fmt: skip

    def set_reorder_typed(self, user: str, product_code: str, level: str, quantity: str) -> None:
        """The reorder level and quantity as typed into a form: each checked with its own
        message (text, a negative number, too many), nothing written unless both are right."""
        problems: list[str] = []
        numbers = [
            _containers_typed(typed, what, smallest, problems)
            for typed, what, smallest in (
                (level, "reorder level", 0),
                (quantity, "order quantity", 1),
            )
        ]
        if problems:
            raise Refusals(problems)
        self.set_reorder(user, product_code, numbers[0] or 0, numbers[1] or 0)

    def low_stock(self, user: str) -> list[LowStock]:
        """Products at or below their reorder level, counting sealed containers in usable lots."""
        today = self._clock.today()
        usable = (
            select(
                LotRow.product_code, func.sum(LotRow.on_hand_ul - LotRow.open_ul).label("sealed_ul")
            )
            .where(LotRow.status == LotStatus.AVAILABLE, LotRow.expiry >= today)
            .group_by(LotRow.product_code)
            .subquery()
        )
        query = (
            select(ProductRow, func.coalesce(usable.c.sealed_ul, 0))
            .outerjoin(usable, usable.c.product_code == ProductRow.code)
            .where(ProductRow.reorder_level.is_not(None))  # type: ignore[union-attr]
            .order_by(ProductRow.name)
        )
        with self.reading(user, Action.VIEW_STOCK) as (session, _):
            found = []
            for product, sealed_ul in session.exec(query):
                containers = int(sealed_ul) // product.container_volume_ul
                if containers <= (product.reorder_level or 0):
                    short = (product.reorder_level or 0) - containers
                    found.append(
                        LowStock(
                            product.code,
                            product.name,
                            containers,
                            product.reorder_level or 0,
                            max(product.reorder_quantity or 0, short),
                        )
                    )
            return found

    # --- lots by the number on the box ----------------------------------------------------

    def find_lot(self, user: str, typed: str, product: str = "") -> LotRef:
        """The lot a person means by the lot number printed on the box, and the product when
        the same number is on record for several (a name, part of one, or the code).

        With no product given, a text that is no lot number whole is read as a lot number
        followed by the product ("LD2301 lidocaine 2 mL"). Lots used up are found too: a
        recall concerns them most. The number is matched as typed, then ignoring case."""
        text, wanted = typed.strip(), product.strip()
        if not text:
            raise ServiceError("type the lot number as printed on the box")
        if not plain_text(text, 200) or not plain_text(wanted, 200) or not storable(text + wanted):
            raise ServiceError("a lot number and a product are a line of printable characters")
        with self.reading(user, Action.VIEW_STOCK) as (session, _):
            lots = _numbered(session, text)
            if not lots and not wanted and " " in text:
                text, wanted = (part.strip() for part in text.split(" ", 1))
                lots = _numbered(session, text)
        if not lots:
            raise NotFound(f"no lot numbered '{text}' is on record: check the number on the box")
        mine = [ref for ref in lots if _names(wanted, ref)] if wanted else lots
        if len(mine) == 1:
            return mine[0]
        if len({ref.product_code for ref in mine}) == 1:  # "ab1" and "AB1" of one product
            numbers = " or ".join(ref.lot_number for ref in mine)
            raise ServiceError(f"{mine[0].product_name} has lots {numbers}: type it as on the box")
        if not mine:
            raise NotFound(f"lot {text} is on record for {_listed(lots)} — not for '{wanted}'")
        raise ServiceError(
            f"lot number {text} is on record for {len(mine)} products — add the product after "
            f"the number, e.g. '{text} {mine[0].product_code}': {_listed(mine)}"
        )

    def lot_ref(self, user: str, lot_id: int) -> LotRef:
        """A lot by its id (the screens' selected row, a script), named as find_lot names it."""
        with self.reading(user, Action.VIEW_STOCK) as (session, _):
            lot, product = self._lot(session, lot_id)
            return LotRef(lot.id or 0, lot.lot_number, product.code, product.name, lot.status)

    # --- helpers --------------------------------------------------------------------------

    @staticmethod
    def _lot(session: Session, lot_id: int, lock: bool = True) -> tuple[LotRow, ProductRow]:
        """The lot and its product; locked for the change about to be written, unless only read."""
        if not fits_bigint(lot_id):
            raise NotFound(f"no lot {lot_id}")
        query = (
            select(LotRow, ProductRow)
            .join(ProductRow, ProductRow.code == LotRow.product_code)
            .where(LotRow.id == lot_id)
        )
        found = session.exec(query.with_for_update() if lock else query).first()  # fmt: skip
        if found is None:
            raise NotFound(f"no lot {lot_id}")
        return found

    def _audit(
        self,
        session: Session,
        actor: UserRow,
        action: str,
        lot: LotRow,
        old: dict[str, object],
        new: dict[str, object],
        reason: str,
    ) -> None:
        append(session.connection(), self._clock.now(), Entry(
            action, user_id=actor.id, user_name=actor.name, record_type="lot",
            record_id=str(lot.id), lot_id=lot.id, old=old, new=new, reason=reason,
        ))  # fmt: skip


def status_refusal(lot_number: str, now: str, wanted: str) -> str:
    """Why a lot's status may not go from `now` to `wanted`, or "" when it may."""
    if now == wanted:
        return f"lot {lot_number} is {now} already"
    if now == LotStatus.RECALLED:
        verb = "released" if wanted == LotStatus.AVAILABLE else "quarantined"
        return f"lot {lot_number} was recalled: a recalled lot cannot be {verb} (a recall is not undone)"
    return ""


MAX_NOTE = 500


def _containers_typed(typed: str, what: str, smallest: int, problems: list[str]) -> int | None:
    """A number of containers typed into a form, or None with the reason added to `problems`."""
    text = typed.strip()
    if not text:
        problems.append(f"{what}: type a number of containers, e.g. 10")
        return None
    digits = text[1:] if text[0] in "-−" else text
    if not digits.isascii() or not digits.isdigit():
        problems.append(f"{what}: '{text}' is not a whole number of containers")
        return None
    if digits != text:
        problems.append(f"{what}: {text} is below zero: a number of containers cannot be")
        return None
    value = int(digits)
    if value < smallest:
        problems.append(f"{what}: at least {smallest} container")
        return None
    if value > MAX_CONTAINERS:
        problems.append(f"{what}: {value:,} is more than {MAX_CONTAINERS:,} containers")
        return None
    return value


def _numbered(session: Session, typed: str) -> list[LotRef]:
    """The lots on record with this lot number: as typed if any, else ignoring case."""
    query = (
        select(LotRow.id, LotRow.lot_number, ProductRow.code, ProductRow.name, LotRow.status)
        .join(ProductRow, ProductRow.code == LotRow.product_code)
        .order_by(ProductRow.name, LotRow.id)
    )
    for matching in (LotRow.lot_number == typed, func.upper(LotRow.lot_number) == typed.upper()):
        found = [LotRef(*row) for row in session.exec(query.where(matching))]
        if found:
            return found
    return []


def _names(typed: str, lot: LotRef) -> bool:
    """Whether a typed product names the lot's product: its code, or every typed word the
    start of a word of its name or code ("lido 2 ml" names lidocaine 2 mL ampoules)."""
    if typed.strip().casefold() == lot.product_code.casefold():
        return True
    words = _WORD.findall(fold(f"{lot.product_name} {lot.product_code}"))
    return all(any(word.startswith(part) for word in words) for part in _WORD.findall(fold(typed)))


def _listed(lots: list[LotRef]) -> str:
    return "; ".join(
        f"{product_line(ref.product_name, ref.product_code, 72)} (lot {ref.lot_number})"
        for ref in lots
    )


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
