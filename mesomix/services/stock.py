"""Stock: what is on hand by product and lot, receiving, and the ledger's own reconciliation."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func, select

from mesomix.clock import Clock
from mesomix.db.tables import LotRow, MovementRow, ProductRow, UserRow
from mesomix.domain.allocation import LotState, usable_ul
from mesomix.domain.catalog import Catalog, ContainerKind
from mesomix.domain.imports import Receipt, check_receipt_form
from mesomix.domain.inventory import booked_open_ul, price_cents
from mesomix.domain.ledger import listed
from mesomix.domain.matcher import ProductChoice
from mesomix.domain.permissions import Action
from mesomix.domain.text import storable
from mesomix.services.audit import Entry, append
from mesomix.services.base import Service
from mesomix.services.catalog import CatalogService
from mesomix.services.errors import NotFound, Refusals, ServiceError
from mesomix.services.uow import unit_of_work


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
class ReceivedLot:
    lot_id: int
    product_code: str
    product_name: str
    lot_number: str
    containers: int
    expiry_read: str = ""  # "2028-05 → 2028-05-31" when the box gives a month


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


_LOT = LotRow.__table__


@functools.lru_cache(maxsize=64)
def _lots_of(count: int, lock: bool) -> sa.Select[Any]:
    """The query for `count` products, built once per count: an expanding IN list would be
    rendered again on every dispense (the hot path, benchmarks/bench_dispense.py)."""
    codes = [sa.bindparam(f"code_{at}") for at in range(count)]
    query = (
        sa.select(_LOT)
        .where(_LOT.c.product_code.in_(codes), _LOT.c.on_hand_ul > 0)
        .order_by(_LOT.c.id)
    )
    return query.with_for_update() if lock else query


def lots_of(
    connection: sa.Connection, codes: Iterable[str], *, lock: bool = False
) -> dict[str, list[LotState]]:
    """The lots with stock of these products; `lock` takes row locks on PostgreSQL."""
    wanted = sorted(code for code in codes if storable(code))  # no product has another code
    lots: dict[str, list[LotState]] = {code: [] for code in wanted}
    if not wanted:
        return lots
    given = {f"code_{at}": code for at, code in enumerate(wanted)}
    for row in connection.execute(_lots_of(len(wanted), lock), given):
        lots[row.product_code].append(lot_state(row))
    return lots


def usable_by_product(
    catalog: Catalog, lots: Mapping[str, list[LotState]], now: datetime, today: date
) -> dict[str, int]:
    """Microlitres each product can still give: whole sealed containers and live open vials."""
    return {
        code: usable_ul(catalog.products[code], states, now, today)
        for code, states in lots.items()
        if code in catalog.products
    }


class StockService(Service):
    def __init__(
        self, engine: sa.Engine, clock: Clock, catalog: CatalogService | None = None
    ) -> None:
        super().__init__(engine, clock)
        self._catalog = catalog  # for products typed by name; without it, codes only

    def lots(self, user: str, product_code: str | None = None) -> list[LotLine]:
        """Every lot with stock, by product name then expiry."""
        query = (
            select(LotRow, ProductRow)
            .join(ProductRow, ProductRow.code == LotRow.product_code)
            .where(LotRow.on_hand_ul > 0)
            .order_by(ProductRow.name, LotRow.expiry, LotRow.id)
        )
        if product_code:
            query = query.where(LotRow.product_code == product_code)
            if not storable(product_code):
                return []  # no product has such a code
        with self.reading(user, Action.VIEW_STOCK) as (session, _):
            rows = list(session.exec(query))
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
            lot_id, entry = book_receipt(
                session, actor, product, lot_number, expiry, containers, reason, supplier,
                cost_cents, now,
            )  # fmt: skip
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
        problems as sentences (one about the product may run over several lines)."""
        typed = cells.get("product", "")
        choice = self.which_product(typed) if typed.strip() else None
        code = choice.code if choice is not None else ""
        with unit_of_work(self._engine) as session:
            product = session.get(ProductRow, code) if code else None
            volumes = {code: product.container_volume_ul} if product and product.active else {}
            lots = {
                (lot.product_code, lot.lot_number): lot.expiry
                for lot in session.exec(select(LotRow).where(LotRow.product_code == code))
            }
        receipt, problems = check_receipt_form(
            {**cells, "product": code or typed}, volumes, lots, self._clock.today()
        )
        said = [f"{p.column.replace('_', ' ')}: {p.message}" for p in problems]
        if choice is not None and not choice.code:  # what the product search found says more
            said = [f"product: {choice.problem}"] + [
                line for line, p in zip(said, problems, strict=True) if p.column != "product"
            ]
        return receipt, said

    def receive_typed(self, user: str, cells: Mapping[str, str]) -> ReceivedLot:
        """Receive what a form holds, or refuse with every problem, one a line."""
        receipt, problems = self.check_receipt(cells)
        if receipt is None:
            raise Refusals(
                [line for problem in problems for line in problem.splitlines()]
                or ["the receipt is not complete"]
            )
        lot_id = self.receive(
            user, receipt.product_code, receipt.lot_number, receipt.expiry, receipt.containers,
            supplier=receipt.supplier,
            unit_cost=f"{receipt.unit_cost_cents / 100:.2f}" if receipt.unit_cost_cents is not None else "",
        )  # fmt: skip
        with unit_of_work(self._engine) as session:
            product = session.get(ProductRow, receipt.product_code)
            name = product.name if product is not None else receipt.product_code
        return ReceivedLot(
            lot_id, receipt.product_code, name, receipt.lot_number, receipt.containers,
            receipt.expiry_read,
        )  # fmt: skip

    def discrepancies(self) -> list[tuple[int, int, int]]:
        """Lots whose on-hand differs from the sum of their movements: (lot id, on hand, ledger)."""
        ledger = (
            select(MovementRow.lot_id, func.sum(MovementRow.quantity_ul).label("total"))
            .group_by(MovementRow.lot_id)
            .subquery()
        )
        query = select(LotRow.id, LotRow.on_hand_ul, func.coalesce(ledger.c.total, 0)).outerjoin(
            ledger, ledger.c.lot_id == LotRow.id
        )
        with unit_of_work(self._engine) as session:
            return [
                (lot_id, on_hand, int(total))
                for lot_id, on_hand, total in session.exec(query)
                if on_hand != int(total)
            ]


def _cents(typed: str) -> int:
    try:
        return price_cents(typed)
    except ValueError as exc:
        raise ServiceError(str(exc)) from None


def book_receipt(
    session: Session,
    actor: UserRow,
    product: ProductRow,
    lot_number: str,
    expiry: date,
    containers: int,
    reason: str,
    supplier: str,
    cost_cents: int | None,
    now: datetime,
) -> tuple[int, Entry]:
    """Sealed containers onto the shelf inside the caller's transaction: the lot (new, or the one
    on record with the same expiry), its movement, and the audit entry for the caller to append."""
    lot = session.exec(
        select(LotRow).where(LotRow.product_code == product.code, LotRow.lot_number == lot_number)
    ).first()
    if lot is not None and lot.expiry != expiry:
        raise ServiceError(
            f"lot {lot_number} of {product.name} is on record with expiry "
            f"{lot.expiry.isoformat()}, not {expiry.isoformat()}: check the label"
        )
    quantity = containers * product.container_volume_ul
    if lot is None:
        lot = LotRow(
            product_code=product.code,
            lot_number=lot_number,
            expiry=expiry,
            received_at=now,
            supplier=supplier.strip(),
            unit_cost_cents=cost_cents,
        )
        session.add(lot)
        session.flush()
    session.execute(
        sa.update(LotRow).where(LotRow.id == lot.id).values(on_hand_ul=LotRow.on_hand_ul + quantity)
    )
    movement = MovementRow(
        lot_id=lot.id, kind="receive", quantity_ul=quantity, reason=reason, actor_id=actor.id,
        at=now,
    )  # fmt: skip
    session.add(movement)
    session.flush()
    entry = Entry(
        "stock.receive", user_id=actor.id, user_name=actor.name, record_type="lot",
        record_id=str(lot.id), lot_id=lot.id, reason=reason,
        new={"product": product.code, "lot_number": lot_number, "expiry": expiry.isoformat(),
             "containers": containers, "quantity_ul": quantity,
             "movements": [listed(movement.id or 0, lot.id or 0, "receive", quantity)]},
    )  # fmt: skip
    return lot.id or 0, entry
