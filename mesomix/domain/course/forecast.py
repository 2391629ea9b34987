"""What the booked sessions will need of each product, day by day, against the stock that will
still be usable on that day: the shortfalls, and what to order.

A lot counts for a session only up to its expiry date; the lots are drawn first-expiry-first
among those still in date, as the dispense does, so a lot that expires before the session
does not hide a shortfall. A single-dose container is used for one session: what a session
needs of it is rounded up to whole containers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Need:
    """What the sessions of one day need of one product, in microlitres."""

    day: date
    product: str
    microlitres: int
    sessions: int = 1


@dataclass(frozen=True)
class StockLot:
    product: str
    expiry: date  # the last day it may be used
    microlitres: int  # usable now: sealed containers of an available lot


@dataclass(frozen=True)
class DayLine:
    """One day of one product: what it needs, what is left usable after it, what is short."""

    day: date
    need_ul: int
    left_ul: int
    short_ul: int


@dataclass(frozen=True)
class ProductForecast:
    product: str
    container_ul: int
    need_ul: int
    sessions: int
    usable_ul: int  # in lots still in date on the first day that needs the product
    days: tuple[DayLine, ...] = field(default=())
    reorder_quantity: int | None = None  # containers per order, as the reorder rules say

    @property
    def short_ul(self) -> int:
        return sum(d.short_ul for d in self.days)

    @property
    def first_short(self) -> date | None:
        return next((d.day for d in self.days if d.short_ul), None)

    @property
    def short_containers(self) -> int:
        return -(-self.short_ul // self.container_ul) if self.container_ul else 0

    @property
    def order_containers(self) -> int:
        """The shortfall in containers, rounded up to whole orders where the product has a
        reorder quantity."""
        short = self.short_containers
        step = self.reorder_quantity or 0
        if not short or step <= 1:
            return short
        return -(-short // step) * step


def per_session_ul(need_ul: int, container_ul: int, single_dose: bool) -> int:
    """What one session takes of a product: whole containers when each is used once."""
    if not single_dose or container_ul <= 0:
        return need_ul
    return -(-need_ul // container_ul) * container_ul


def forecast(
    needs: Sequence[Need],
    lots: Sequence[StockLot],
    container_ul: Mapping[str, int],
    reorder_quantity: Mapping[str, int | None] | None = None,
) -> list[ProductForecast]:
    """Each product needed: day by day, drawn from the lots in date first-expiry-first, with
    what is short; the products short first (soonest first), then by name."""
    by_product: dict[str, dict[date, tuple[int, int]]] = {}
    for need in needs:
        days = by_product.setdefault(need.product, {})
        ul, sessions = days.get(need.day, (0, 0))
        days[need.day] = (ul + need.microlitres, sessions + need.sessions)
    shelf = Shelf(lots)
    found: list[ProductForecast] = []
    for product, days in by_product.items():
        usable = shelf.usable(product, min(days))
        lines: list[DayLine] = []
        for day in sorted(days):
            day_ul, _ = days[day]
            short = shelf.draw(product, day, day_ul)
            lines.append(DayLine(day, day_ul, shelf.usable(product, day), short))
        found.append(
            ProductForecast(
                product,
                container_ul.get(product, 0),
                sum(ul for ul, _ in days.values()),
                sum(n for _, n in days.values()),
                usable,
                tuple(lines),
                (reorder_quantity or {}).get(product),
            )
        )
    return sorted(
        found, key=lambda f: (f.first_short is None, f.first_short or date.max, f.product)
    )


class Shelf:
    """The lots in date as the days draw on them, first expiry first, as a dispense draws. The
    days of a product are drawn in order (each no earlier than the one before), so a lot past
    its expiry, or emptied, leaves the shelf for good."""

    def __init__(self, lots: Sequence[StockLot]) -> None:
        self._lots: dict[str, deque[_Left]] = {}
        self._total: dict[str, int] = {}
        for lot in sorted(lots, key=lambda lot: lot.expiry):
            if lot.microlitres > 0:
                self._lots.setdefault(lot.product, deque()).append(
                    _Left(lot.expiry, lot.microlitres)
                )
                self._total[lot.product] = self._total.get(lot.product, 0) + lot.microlitres

    def usable(self, product: str, day: date) -> int:
        """What is left of the product in lots still in date on `day`."""
        self._expire(product, day)
        return self._total.get(product, 0)

    def draw(self, product: str, day: date, microlitres: int) -> int:
        """Take what a day needs from the lots still in date on it; what could not be taken."""
        self._expire(product, day)
        lots = self._lots.get(product)
        wanted = microlitres
        while lots and wanted:
            left = lots[0]
            taken = min(left.ul, wanted)
            left.ul, wanted = left.ul - taken, wanted - taken
            self._total[product] -= taken
            if not left.ul:
                lots.popleft()
        return wanted

    def _expire(self, product: str, day: date) -> None:
        lots = self._lots.get(product)
        while lots and lots[0].expiry < day:
            self._total[product] -= lots.popleft().ul


@dataclass
class _Left:
    """What is left of one lot as the days draw on it."""

    expiry: date
    ul: int
