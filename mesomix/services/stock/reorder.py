"""Reorder levels and what is low: each product's level and order quantity, in containers, and
the products at or below their level counting sealed containers in usable lots."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, func, select

from mesomix.db.sites import site_of
from mesomix.db.tables import LotRow, ProductRow
from mesomix.domain.allocation import LotStatus
from mesomix.domain.inventory import MAX_CONTAINERS
from mesomix.domain.permissions import Action
from mesomix.domain.text import storable
from mesomix.services.base import Service
from mesomix.services.errors import NotFound, Refusals, ServiceError


@dataclass(frozen=True)
class LowStock:
    product_code: str
    product_name: str
    containers: int  # sealed containers in usable lots
    reorder_level: int
    suggested_order: int


class Reorder(Service):
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
            self.audit(
                session,
                actor,
                "product.reorder",
                ("product", product_code),
                old=old,
                new={"reorder_level": level, "reorder_quantity": quantity},
            )

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
        """Products at or below their reorder level, counting sealed containers in usable lots
        on this site's shelves (each site orders for its own)."""
        today = self._clock.today()
        with self.reading(user, Action.VIEW_STOCK) as (session, _):
            usable = (
                select(
                    LotRow.product_code,
                    func.sum(LotRow.on_hand_ul - LotRow.open_ul).label("sealed_ul"),
                )
                .where(
                    LotRow.site_id == site_of(session.connection()),
                    LotRow.status == LotStatus.AVAILABLE,
                    LotRow.expiry >= today,
                )
                .group_by(LotRow.product_code)
                .subquery()
            )
            query = (
                select(ProductRow, func.coalesce(usable.c.sealed_ul, 0))
                .outerjoin(usable, usable.c.product_code == ProductRow.code)
                .where(col(ProductRow.reorder_level).is_not(None))
                .order_by(ProductRow.name)
            )
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
