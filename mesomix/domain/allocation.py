"""Lot allocation: which lots a draw comes out of, first expiry first out.

Already-open multi-dose containers go first (their time is running), then sealed containers by
expiry. Expired, quarantined and recalled lots are never used, nor an opened vial past its in-use
limit. What is left in an opened single-dose container is waste, recorded as such.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from mesomix.domain.catalog import Product
from mesomix.domain.units import Q, format_quantity
from mesomix.errors import Refused

DEFAULT_IN_USE_DAYS = 28  # opened multi-dose vial, unless the product says otherwise
WASTE_SINGLE_DOSE = "remainder of an opened single-dose container"
WASTE_IN_USE_LIMIT = "opened multi-dose container past its in-use limit"


class LotStatus:
    AVAILABLE = "available"
    QUARANTINED = "quarantined"
    RECALLED = "recalled"


@dataclass(frozen=True)
class LotState:
    """A lot as the allocator needs it; `open_ul` is what remains in its one opened container."""

    lot_id: int
    lot_number: str
    expiry: date
    status: str
    on_hand_ul: int
    open_ul: int = 0
    opened_at: datetime | None = None

    @property
    def sealed_ul(self) -> int:
        return self.on_hand_ul - self.open_ul


@dataclass(frozen=True)
class Pick:
    """What one lot gives to one draw."""

    lot_id: int
    lot_number: str
    expiry: date
    drawn_ul: int
    wasted_ul: int  # remainder of opened single-dose containers, or a stale open vial
    containers_opened: int
    waste_reason: str
    open_ul_before: int
    open_ul_after: int
    opened_at_after: datetime | None
    vial_opened_at: datetime | None = None  # first puncture of an already-open vial drawn from

    @property
    def taken_ul(self) -> int:
        return self.drawn_ul + self.wasted_ul


class NotEnoughStock(Refused):
    """The usable lots cannot cover a draw; the message says how much is missing."""

    def __init__(self, product: Product, needed_ul: int, usable_ul: int) -> None:
        self.product = product
        self.needed_ul = needed_ul
        self.usable_ul = usable_ul
        super().__init__(
            f"not enough stock of {product.name}: {_ml(needed_ul)} needed, "
            f"{_ml(usable_ul)} in usable lots (not expired, quarantined or recalled)"
        )


def _ml(microlitres: int) -> str:
    return format_quantity(Q(Decimal(microlitres) / 1000, "milliliter"))


def usable(lot: LotState, today: date) -> bool:
    return lot.status == LotStatus.AVAILABLE and lot.expiry >= today and lot.on_hand_ul > 0


def open_container_usable(lot: LotState, product: Product, now: datetime) -> bool:
    """An opened multi-dose container may be drawn from until its in-use limit."""
    if lot.open_ul <= 0 or not product.is_multi_dose:
        return False
    if lot.opened_at is None:
        return True
    days = DEFAULT_IN_USE_DAYS if product.in_use_days is None else product.in_use_days
    limit = timedelta(days=days)
    return now < lot.opened_at + limit


def usable_ul(product: Product, lots: Sequence[LotState], now: datetime, today: date) -> int:
    """What a product's lots can still give, in microlitres, on the clinic's date `today`."""
    total = 0
    for lot in lots:
        if not usable(lot, today):
            continue
        sealed = (lot.sealed_ul // product.container_volume_ul) * product.container_volume_ul
        opened = lot.open_ul if open_container_usable(lot, product, now) else 0
        total += sealed + opened
    return total


def allocate(
    product: Product,
    needed_ul: int,
    lots: Sequence[LotState],
    now: datetime,
    today: date,
    first: Collection[int] = (),
) -> tuple[list[Pick], list[LotState]]:
    """Picks covering `needed_ul`, and the lots as they are afterwards; or NotEnoughStock.

    `now` times the opened vials; `today` is the clinic's calendar date, which expiry dates
    (printed as local dates) are compared with. The lots in `first` (the vials scanned at the
    bench) are drawn from before every other, an opened one among them before a sealed one: the
    vial in the person's hand is the one drawn from.
    """
    if needed_ul <= 0:
        raise ValueError("a draw must be more than zero")
    state = {lot.lot_id: lot for lot in lots}
    candidates = [lot for lot in lots if usable(lot, today)]
    picks: dict[int, Pick] = {}
    remaining = needed_ul
    # The vials in hand first (opened, then sealed), then the rest in the usual order.
    groups = [[lot for lot in candidates if lot.lot_id in first]] if first else []
    groups.append([lot for lot in candidates if lot.lot_id not in first])
    for group in groups:
        opened = sorted(
            (lot for lot in group if open_container_usable(lot, product, now)),
            key=lambda lot: (lot.expiry, lot.opened_at or now, lot.lot_id),
        )
        sealed = sorted(group, key=lambda lot: (lot.expiry, lot.lot_id))
        for lot in opened:
            if remaining == 0:
                break
            take = min(remaining, lot.open_ul)
            remaining -= take
            left = lot.open_ul - take
            after = replace(
                lot,
                on_hand_ul=lot.on_hand_ul - take,
                open_ul=left,
                opened_at=lot.opened_at if left else None,
            )
            state[lot.lot_id] = after
            picks[lot.lot_id] = Pick(
                lot.lot_id,
                lot.lot_number,
                lot.expiry,
                take,
                0,
                0,
                "",
                lot.open_ul,
                left,
                after.opened_at,
                lot.opened_at,
            )
        volume = product.container_volume_ul
        for original in sealed:
            if remaining == 0:
                break
            lot = state[original.lot_id]
            containers_left = lot.sealed_ul // volume
            if containers_left == 0:
                continue
            containers = min(containers_left, -(-remaining // volume))
            take = min(remaining, containers * volume)
            remainder = containers * volume - take
            remaining -= take
            if product.is_multi_dose:
                # An open container still here was past its in-use limit (usable ones were drained
                # first): opening a new one from the lot discards it, as a pharmacist would.
                wasted, reason = lot.open_ul, WASTE_IN_USE_LIMIT
                open_after, opened_at = remainder, (now if remainder else None)
            else:
                wasted, reason = remainder, WASTE_SINGLE_DOSE
                open_after, opened_at = 0, None
            taken = take + wasted
            after = replace(
                lot, on_hand_ul=lot.on_hand_ul - taken, open_ul=open_after, opened_at=opened_at
            )
            state[lot.lot_id] = after
            earlier = picks.get(lot.lot_id)
            picks[lot.lot_id] = Pick(
                lot.lot_id,
                lot.lot_number,
                lot.expiry,
                take + (earlier.drawn_ul if earlier else 0),
                wasted,
                containers,
                reason if wasted else "",
                earlier.open_ul_before if earlier else lot.open_ul,
                open_after,
                opened_at,
                earlier.vial_opened_at if earlier else None,
            )
    if remaining:
        raise NotEnoughStock(product, needed_ul, usable_ul(product, lots, now, today))
    return list(picks.values()), [state[lot.lot_id] for lot in lots]
