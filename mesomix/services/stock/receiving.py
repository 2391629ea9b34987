"""Receiving: sealed containers of a lot onto the shelf, typed into a form (the product by the
name on its box) or booked row by row by a stock import (services/imports.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from mesomix.db.repositories import lots
from mesomix.db.tables import LotRow, ProductRow, UserRow
from mesomix.domain.imports import Receipt, check_receipt_form
from mesomix.domain.inventory import price_cents
from mesomix.domain.ledger import listed
from mesomix.domain.matcher import ProductChoice
from mesomix.domain.permissions import Action
from mesomix.domain.scan import ScanError, looks_like_scan, read_scan
from mesomix.domain.text import storable
from mesomix.services.audit import Entry, append
from mesomix.services.base import Service
from mesomix.services.catalog import CatalogService
from mesomix.services.errors import NotFound, Refusals, ServiceError
from mesomix.services.gtins import linked_product, unknown_gtin
from mesomix.services.uow import unit_of_work


@dataclass(frozen=True)
class ReceivedLot:
    lot_id: int
    product_code: str
    product_name: str
    lot_number: str
    containers: int
    expiry_read: str = ""  # "2028-05 → 2028-05-31" when the box gives a month


class Receiving(Service):
    _catalog: CatalogService | None  # for products typed by name; None: codes only

    def receive(
        self,
        user: str,
        product_code: str,
        lot_number: str,
        expiry: date,
        containers: int,
        reason: str = "delivery",
        supplier: str = "",
        unit_cost: str = "",
    ) -> int:
        """Put sealed containers of a lot on the shelf; returns the lot id.

        `unit_cost` is the price of one container as typed ("12.50"), kept in cents."""
        lot_number = lot_number.strip()
        if not lot_number or not lot_number.isprintable() or len(lot_number) > 40:
            raise ServiceError("a lot number is 1 to 40 printable characters")
        if not isinstance(containers, int) or containers <= 0 or containers > 100_000:
            raise ServiceError("the number of containers received must be a whole number from 1")
        cost_cents = _cents(unit_cost) if unit_cost.strip() else None
        if len(supplier) > 80 or not supplier.isprintable():
            raise ServiceError("a supplier is at most 80 printable characters")
        now = self._clock.now()
        if expiry < self._clock.today():
            raise ServiceError(f"lot {lot_number} expired on {expiry.isoformat()}: not received")
        with self.writing(user, Action.RECEIVE) as (session, actor):
            product = session.get(ProductRow, product_code) if storable(product_code) else None
            if product is None:
                raise NotFound(f"unknown product '{product_code}'")
            receipt = Receipt(0, product.code, lot_number, expiry, containers, supplier, cost_cents)
            lot_id, entry = book_receipt(session, actor, product, receipt, reason, now)
            append(session.connection(), now, entry)
            return lot_id

    def which_product(self, typed: str) -> ProductChoice:
        """The product a person means by what they typed: its code, or its name as on the box
        with the catalogue search that forgives typos. Only an unambiguous match is chosen — the
        code itself, the product's name (or its name before the bracket) typed whole, or the
        one product that fits better than every other; a text that fits several equally well
        chooses none and names them. A strength or size typed with the name ("Xylocaine 1%
        10 mL") must agree with the product's: then the one product whose numbers agree is
        chosen, and a number no product of that name has is refused saying what there is.
        Where the numbers agree with a product and with one that has an active more (its
        twin with epinephrine), the name decides: without a word for that active (epinephrine,
        adrenaline) it is the product without it; with one, the product with it. A product
        with an active that a plainer product the name finds lacks is never chosen unless
        what is typed says it, even where no plainer product has the numbers ("Xylocaine 1%
        30 mL" is refused naming the MPF vial with epinephrine, not booked as it).
        Substances are never chosen: stock is a product.

        Reads the catalogue only (everyone may), so it may run on every keystroke in a worker."""
        text = typed.strip()
        if not text:
            return ProductChoice(
                typed, problem="type the product's name as on the box, or its code"
            )
        if not storable(text):
            return ProductChoice(typed, problem="holds characters that cannot be stored")
        with unit_of_work(self._engine) as session:
            row = session.get(ProductRow, text)
        if row is not None:
            if not row.active:
                return ProductChoice(
                    typed, problem=f"{row.name} ({row.code}) is withdrawn from the catalogue"
                )
            return ProductChoice(typed, row.code, row.name)
        if self._catalog is None:
            return ProductChoice(
                typed, problem=f"no product matches '{text}': type the name on the box, or the code"
            )
        return self._catalog.matcher().which_product(typed)

    def check_receipt(self, cells: Mapping[str, str]) -> tuple[Receipt | None, list[str]]:
        """A receipt as typed into a form (product by name or code, lot_number, expiry,
        containers or quantity, supplier, unit_cost), checked by the CSV import's rules; the
        problems as sentences (one about the product may run over several lines).

        A scan of the box's code in the product field names the product by its GTIN and gives
        the lot and the expiry it carries; a lot or expiry also typed must agree with it."""
        typed = cells.get("product", "")
        if looks_like_scan(typed):
            return self._check_scanned(cells)
        choice = self.which_product(typed) if typed.strip() else None
        code = choice.code if choice is not None else ""
        receipt, said = self._check_form(cells, code or typed)
        if choice is not None and not choice.code:  # what the product search found says more
            said = [f"product: {choice.problem}"] + [
                line for line in said if not line.startswith("product:")
            ]
        return receipt, said

    def _check_form(self, cells: Mapping[str, str], code: str) -> tuple[Receipt | None, list[str]]:
        """The form's cells with the product `code`, by the import's rules; a recalled lot
        is refused here too, before the receipt is sent."""
        with unit_of_work(self._engine) as session:
            product = session.get(ProductRow, code) if code and storable(code) else None
            volumes = {code: product.container_volume_ul} if product and product.active else {}
            on_record = {
                lot.lot_number: lot
                for lot in session.exec(select(LotRow).where(LotRow.product_code == code))
            }
        receipt, problems = check_receipt_form(
            {**cells, "product": code},
            volumes,
            {(code, number): lot.expiry for number, lot in on_record.items()},
            self._clock.today(),
        )
        said = [f"{p.column.replace('_', ' ')}: {p.message}" for p in problems]
        lot = on_record.get(receipt.lot_number) if receipt is not None else None
        if receipt is not None and product is not None and lot and lot.status == "recalled":
            said.append(
                "lot number: " + recalled_lot(lot.lot_number, product.name, lot.status_reason)
            )
            receipt = None
        return receipt, said

    def _check_scanned(self, cells: Mapping[str, str]) -> tuple[Receipt | None, list[str]]:
        """A receipt whose product field holds a scan of the box."""
        try:
            scan = read_scan(cells["product"])
        except ScanError as unread:
            return None, [f"product: {unread}"]
        with unit_of_work(self._engine) as session:
            product = linked_product(session, scan.gtin)
            if product is None:
                return None, [f"product: {unknown_gtin(scan.gtin)}"]
            if not product.active:
                return None, [f"product: {product.name} ({product.code}) is withdrawn"]
            code = product.code
        merged = dict(cells)
        said: list[str] = []
        for key, carried, words in (
            ("lot_number", scan.lot, "lot"),
            ("expiry", scan.expiry.isoformat() if scan.expiry else "", "expiry"),
        ):
            if not carried and not cells.get(key, "").strip():
                said.append(f"{key.replace('_', ' ')}: the box's code carries no {words}: type it")
            elif not cells.get(key, "").strip():
                merged[key] = carried
        receipt, problems = self._check_form(merged, code)
        # the form's "empty" for a field the code was to fill is said above in those words
        asked = {line.split(":", 1)[0] for line in said}
        problems = [p for p in problems if p.split(":", 1)[0] not in asked]
        typed_lot = cells.get("lot_number", "").strip()
        if scan.lot and typed_lot and typed_lot != scan.lot:
            said.append(f"lot number: the box's code says lot {scan.lot}, not {typed_lot}")
            receipt = None
        if receipt is not None and scan.expiry and receipt.expiry != scan.expiry:
            said.append(
                f"expiry: the box's code says {scan.expiry.isoformat()}, "
                f"not {receipt.expiry.isoformat()}: check the box"
            )
            receipt = None
        return receipt, said + problems

    def scanned(self, typed: str) -> str:
        """What a scan in the product field will receive, as the form's hint says it: the
        product, the lot and expiry the code carries, and the lot's status where it is not
        available; "" for a scan that is refused (the problems say why)."""
        try:
            scan = read_scan(typed)
        except ScanError:
            return ""
        with unit_of_work(self._engine) as session:
            product = linked_product(session, scan.gtin)
            if product is None or not product.active:
                return ""
            lot = session.exec(
                select(LotRow).where(
                    LotRow.product_code == product.code, LotRow.lot_number == scan.lot
                )
            ).first()
        carried = ", ".join(
            part
            for part in (
                f"lot {scan.lot}" if scan.lot else "",
                f"expiry {scan.expiry.isoformat()}" if scan.expiry else "",
            )
            if part
        )
        said = f"Scanned: {product.name} · {product.code}" + (f"\n{carried}" if carried else "")
        if lot is not None and lot.status == "quarantined":
            said += f"\nLot {lot.lot_number} is QUARANTINED: what is received waits with it"
        elif lot is not None and lot.status == "available":
            said += f"\nLot {lot.lot_number} is on the shelf: the boxes join it"
        return said

    def receive_typed(self, user: str, cells: Mapping[str, str]) -> ReceivedLot:
        """Receive what a form holds, or refuse with every problem, one a line."""
        receipt, problems = self.check_receipt(cells)
        if receipt is None:
            raise Refusals(
                [line for problem in problems for line in problem.splitlines()]
                or ["the receipt is not complete"]
            )
        lot_id = self.receive(
            user,
            receipt.product_code,
            receipt.lot_number,
            receipt.expiry,
            receipt.containers,
            supplier=receipt.supplier,
            unit_cost=f"{receipt.unit_cost_cents / 100:.2f}"
            if receipt.unit_cost_cents is not None
            else "",
        )
        with unit_of_work(self._engine) as session:
            product = session.get(ProductRow, receipt.product_code)
            name = product.name if product is not None else receipt.product_code
        return ReceivedLot(
            lot_id,
            receipt.product_code,
            name,
            receipt.lot_number,
            receipt.containers,
            receipt.expiry_read,
        )


def recalled_lot(lot_number: str, product_name: str, reason: str) -> str:
    return (
        f"lot {lot_number} of {product_name} is recalled"
        + (f" ({reason})" if reason else "")
        + ": not received — set the boxes aside for the supplier"
    )


def _cents(typed: str) -> int:
    try:
        return price_cents(typed)
    except ValueError as exc:
        raise ServiceError(str(exc)) from None


def book_receipt(
    session: Session,
    actor: UserRow,
    product: ProductRow,
    receipt: Receipt,
    reason: str,
    now: datetime,
) -> tuple[int, Entry]:
    """A receipt booked in the caller's transaction (a form's, or every row of a stock import):
    the lot and its movement (db/repositories/lots.py), and the audit entry for the caller to
    append; a lot number on record with another expiry is refused."""
    try:
        booked = lots.book_receipt(session, actor.id or 0, product, receipt, reason, now)
    except lots.OtherExpiry as other:
        raise ServiceError(
            f"lot {receipt.lot_number} of {product.name} is on record with expiry "
            f"{other.on_record.isoformat()}, not {receipt.expiry.isoformat()}: check the label"
        ) from None
    except lots.RecalledLot as recalled:
        raise ServiceError(
            recalled_lot(receipt.lot_number, product.name, recalled.reason)
        ) from None
    lot_id, quantity = booked.lot_id, booked.quantity_ul
    entry = Entry(
        "stock.receive",
        user_id=actor.id,
        user_name=actor.name,
        record_type="lot",
        record_id=str(lot_id),
        lot_id=lot_id,
        reason=reason,
        new={
            "product": product.code,
            "lot_number": receipt.lot_number,
            "expiry": receipt.expiry.isoformat(),
            "containers": receipt.containers,
            "quantity_ul": quantity,
            "movements": [listed(booked.movement_id, lot_id, "receive", quantity)],
        },
    )
    return lot_id, entry
