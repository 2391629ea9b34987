"""The shelf by lot: what is on hand, a lot found by the number on its box, its status
(quarantine, release, recall) and the recall's trace of every batch and patient it reached."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, func, select

from mesomix.db.repositories.lots import (
    RecallLine as RecallLine,  # the trace's line, for the screens
)
from mesomix.db.repositories.lots import received
from mesomix.db.sites import site_of
from mesomix.db.tables import LotRow, MovementRow, ProductRow
from mesomix.domain.allocation import LotStatus
from mesomix.domain.catalog import ContainerKind, fold
from mesomix.domain.inventory import booked_open_ul, status_refusal
from mesomix.domain.label import read_batch_code
from mesomix.domain.matcher import product_line
from mesomix.domain.permissions import Action
from mesomix.domain.text import fits_bigint, plain_text, storable
from mesomix.services.base import Service
from mesomix.services.catalog import CatalogService
from mesomix.services.errors import NotFound, ServiceError

_WORD = re.compile(r"[^\W_]+")
STATUSES = (LotStatus.AVAILABLE, LotStatus.QUARANTINED, LotStatus.RECALLED)
MAX_NOTE = 500


@dataclass(frozen=True)
class LotLine:
    product_code: str
    product_name: str
    lot_id: int
    lot_number: str
    expiry: date
    status: str
    on_hand_ul: int
    open_ul: int
    opened_at: datetime | None
    container_volume_ul: int
    reorder_level: int | None = None  # the product's, in containers
    reorder_quantity: int | None = None
    single_dose: bool = False  # its containers move whole: none is kept open
    actives: tuple[str, ...] = ()  # the names of what it holds, to find "lidocaine" by

    @property
    def sealed_containers(self) -> int:
        return (self.on_hand_ul - self.open_ul) // self.container_volume_ul

    @property
    def booked_open_ul(self) -> int:
        """What the books hold in the opened container (beyond the whole sealed ones)."""
        return booked_open_ul(self.on_hand_ul, self.open_ul, self.container_volume_ul)


@dataclass(frozen=True)
class LotRef:
    """A lot as a person names it: the number printed on the box, and whose product it is."""

    lot_id: int
    lot_number: str
    product_code: str
    product_name: str
    status: str


class Lots(Service):
    _catalog: CatalogService | None  # for the actives of each product listed; None: not listed

    def lots(self, user: str, product_code: str | None = None) -> list[LotLine]:
        """Every lot with stock on this site's shelves, by product name then expiry."""
        query = (
            select(LotRow, ProductRow)
            .join(ProductRow, col(ProductRow.code) == col(LotRow.product_code))
            .where(LotRow.on_hand_ul > 0)
            .order_by(col(ProductRow.name), col(LotRow.expiry), col(LotRow.id))
        )
        if product_code:
            query = query.where(LotRow.product_code == product_code)
            if not storable(product_code):
                return []  # no product has such a code
        with self.reading(user, Action.VIEW_STOCK) as (session, _):
            here = LotRow.site_id == site_of(session.connection())
            rows = list(session.exec(query.where(here)))
            actives = self._actives({product.code for _, product in rows})
            return [
                LotLine(
                    product.code,
                    product.name,
                    lot.id or 0,
                    lot.lot_number,
                    lot.expiry,
                    lot.status,
                    lot.on_hand_ul,
                    lot.open_ul,
                    lot.opened_at,
                    product.container_volume_ul,
                    product.reorder_level,
                    product.reorder_quantity,
                    product.container == ContainerKind.SINGLE_DOSE.value,
                    actives.get(product.code, ()),
                )
                for lot, product in rows
            ]

    def _actives(self, codes: set[str]) -> dict[str, tuple[str, ...]]:
        """Each product's active substances by name and synonyms ("Xylocaine 2% with
        epinephrine" holds lidocaine): a find for a substance lists every product of it."""
        if self._catalog is None:
            return {}
        catalog = self._catalog.catalog()
        return {
            code: tuple(
                name
                for substance in product.strength_table
                if substance in catalog.substances
                for name in (
                    catalog.substances[substance].name,
                    *catalog.substances[substance].synonyms,
                )
            )
            for code in codes
            if (product := catalog.products.get(code)) is not None
        }

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
            labelled = read_batch_code(text)
            if labelled is not None:  # a syringe's label scanned: the lots it drew, to choose
                raise ServiceError(_drawn_by(session, labelled))
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
            lot, product = lot_and_product(session, lot_id)
            return LotRef(lot.id or 0, lot.lot_number, product.code, product.name, lot.status)

    def set_status(self, user: str, lot_id: int, status: str, reason: str) -> None:
        """Quarantine, release or recall a lot: quarantined and recalled lots are never used.
        The status is the manufacturer's lot's: said at one site, it holds on every site's
        shelf that has some of it (each named on the trail)."""
        if status not in STATUSES:
            raise ServiceError(f"status '{status}' is not one of {', '.join(STATUSES)}")
        if len(reason.strip()) < 3:
            raise ServiceError("say why the lot's status changes")
        if not plain_text(reason, MAX_NOTE):
            raise ServiceError(f"a reason is at most {MAX_NOTE} printable characters")
        with self.writing(user, Action.SET_LOT_STATUS) as (session, actor):
            lot, _ = lot_and_product(session, lot_id)
            refused = status_refusal(lot.lot_number, lot.status, status)
            if refused:
                raise ServiceError(refused)
            old: dict[str, object] = {"status": lot.status, "reason": lot.status_reason}
            elsewhere = session.exec(
                select(LotRow).where(
                    LotRow.product_code == lot.product_code,
                    LotRow.lot_number == lot.lot_number,
                    LotRow.id != lot.id,
                )
            ).all()
            for shelved in (lot, *elsewhere):
                shelved.status, shelved.status_reason = status, reason.strip()
                session.add(shelved)
            new: dict[str, object] = {"status": status}
            if elsewhere:
                new["at_other_sites"] = sorted(other.id or 0 for other in elsewhere)
            self.audit(
                session,
                actor,
                f"lot.{status}",
                ("lot", lot.id),
                lot_id=lot.id,
                old=old,
                new=new,
                reason=reason.strip(),
            )

    def recall_trace(self, user: str, lot_id: int) -> list[RecallLine]:
        """Every batch and patient that received stock from the lot: a read, the recall report,
        so whoever may see reports may trace (no status is changed)."""
        with self.reading(user, Action.VIEW_REPORTS) as (session, _):
            lot_and_product(session, lot_id)
            return received(session, lot_id)


def lot_and_product(session: Session, lot_id: int, lock: bool = True) -> tuple[LotRow, ProductRow]:
    """The lot on this site's shelves and its product; locked for the change about to be
    written, unless only read. Another site's lot is that site's to change."""
    if not fits_bigint(lot_id):
        raise NotFound(f"no lot {lot_id}")
    query = (
        select(LotRow, ProductRow)
        .join(ProductRow, col(ProductRow.code) == col(LotRow.product_code))
        .where(LotRow.id == lot_id)
    )
    found = session.exec(query.with_for_update() if lock else query).first()
    if found is None:
        raise NotFound(f"no lot {lot_id}")
    if found[0].site_id != site_of(session.connection()):
        raise NotFound(
            f"lot {lot_id} is on another site's shelves: that site's terminals change it"
        )
    return found


def _drawn_by(session: Session, batch_id: int) -> str:
    """What a scanned label says at a recall: the lots its batch drew, each to be traced."""
    drawn = session.exec(
        select(LotRow.lot_number, ProductRow.name)
        .join(MovementRow, col(MovementRow.lot_id) == col(LotRow.id))
        .join(ProductRow, col(ProductRow.code) == col(LotRow.product_code))
        .where(MovementRow.batch_id == batch_id, MovementRow.kind == "dispense")
        .distinct()
        .order_by(LotRow.lot_number)
    ).all()
    if not drawn:
        return f"that is the label of batch {batch_id}, which is not on record"
    lots = "; ".join(f"lot {number} ({name})" for number, name in drawn)
    return f"that is the label of batch {batch_id}, which drew {lots}: trace one of those lots"


def _numbered(session: Session, typed: str) -> list[LotRef]:
    """The lots on this site's shelves with this lot number: as typed if any, else ignoring
    case."""
    query = (
        select(LotRow.id, LotRow.lot_number, ProductRow.code, ProductRow.name, LotRow.status)  # type: ignore[call-overload]  # sqlmodel's select() is typed for up to four columns
        .join(ProductRow, col(ProductRow.code) == col(LotRow.product_code))
        .where(LotRow.site_id == site_of(session.connection()))
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
