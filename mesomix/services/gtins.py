"""The GTINs a product's boxes and vials carry: how a scan at receiving or at the bench names
the product. A manager links each code the clinic meets to its product, on the trail (no
public source of the shelf's codes could be checked, so none is shipped with the catalogue)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from mesomix.db.tables import ProductGtinRow, ProductRow, UserRow
from mesomix.domain.permissions import Action
from mesomix.domain.scan import ScanError, gtin_in
from mesomix.domain.text import storable
from mesomix.services.base import Service
from mesomix.services.errors import NotFound, ServiceError
from mesomix.services.uow import unit_of_work

PACKAGING = ("box", "vial", "ampoule", "syringe", "")


@dataclass(frozen=True)
class GtinLink:
    gtin: str
    product_code: str
    product_name: str
    packaging: str
    linked_by: str  # the manager who linked it
    linked_at: datetime


def linked_product(session: Session, gtin: str) -> ProductRow | None:
    """The product a scanned GTIN (14 digits) names, in the caller's transaction."""
    row = session.get(ProductGtinRow, gtin)
    return session.get(ProductRow, row.product_code) if row is not None else None


def unknown_gtin(gtin: str) -> str:
    """What is said of a scanned GTIN no product carries: who may link it, and how."""
    return (
        f"the scanned GTIN {gtin} is linked to no product: a manager links it to its product "
        "(Inventory, K; or `mesomix product link-gtin`) — nothing is taken from the scan"
    )


class GtinService(Service):
    def product_of(self, gtin: str) -> GtinLink | None:
        """The product a GTIN names, or None. Reads the catalogue only (everyone may)."""
        with unit_of_work(self._engine) as session:
            row = session.get(ProductGtinRow, gtin)
            return _link(session, row) if row is not None else None

    def of_product(self, product_code: str) -> list[GtinLink]:
        """The GTINs a product is known by, in order of the code."""
        with unit_of_work(self._engine) as session:
            rows = session.exec(
                select(ProductGtinRow)
                .where(ProductGtinRow.product_code == product_code)
                .order_by(col(ProductGtinRow.gtin))
            ).all()
            return [_link(session, row) for row in rows]

    def link(
        self, user: str, typed: str, product_code: str, packaging: str = "", reason: str = ""
    ) -> GtinLink:
        """Link a GTIN (typed, or a whole scan of the box) to a product: a manager's change to
        the catalogue, on the trail. A GTIN already linked to another product is refused — a
        scan must name one product — and one linked to this product is left as it is."""
        return self.link_many(user, [(typed, product_code, packaging)], reason)[0]

    def link_many(
        self, user: str, links: Sequence[tuple[str, str, str]], reason: str = ""
    ) -> list[GtinLink]:
        """Several (GTIN, product, packaging) links in one transaction, each on the trail; one
        refused refuses them all, naming it."""
        wanted = [(_gtin(typed), code, _packaging(packaging)) for typed, code, packaging in links]
        if len(reason) > 200 or not reason.isprintable():
            raise ServiceError("a reason is at most 200 printable characters")
        with self.writing(user, Action.EDIT_CATALOGUE, denied_as="catalogue.link_gtin") as (
            session,
            actor,
        ):
            now = self._clock.now()
            linked = []
            for gtin, product_code, packaging in wanted:
                product = session.get(ProductRow, product_code) if storable(product_code) else None
                if product is None:
                    raise NotFound(f"unknown product '{product_code}'")
                if not product.active:
                    raise ServiceError(f"{product.name} ({product.code}) is withdrawn: not linked")
                row = session.get(ProductGtinRow, gtin)
                if row is not None and row.product_code != product.code:
                    other = session.get(ProductRow, row.product_code)
                    raise ServiceError(
                        f"GTIN {gtin} is already linked to "
                        f"{other.name if other else row.product_code} ({row.product_code}): "
                        "a code names one product"
                    )
                if row is None:
                    row = ProductGtinRow(
                        gtin=gtin,
                        product_code=product.code,
                        packaging=packaging,
                        linked_by=actor.id or 0,
                        linked_at=now,
                    )
                    session.add(row)
                    session.flush()
                    self.audit(
                        session,
                        actor,
                        "catalogue.link_gtin",
                        ("product", product.code),
                        new={"gtin": gtin, "product": product.code, "packaging": packaging},
                        reason=reason or "a box's code not yet known",
                        at=now,
                    )
                linked.append(_link(session, row))
            return linked


def _gtin(typed: str) -> str:
    try:
        return gtin_in(typed)
    except ScanError as unread:
        raise ServiceError(str(unread)) from None


def _packaging(packaging: str) -> str:
    if packaging not in PACKAGING:
        raise ServiceError(
            f"packaging '{packaging}' is none of {', '.join(p for p in PACKAGING if p)}"
        )
    return packaging


def _link(session: Session, row: ProductGtinRow) -> GtinLink:
    product = session.get(ProductRow, row.product_code)
    by = session.get(UserRow, row.linked_by)
    return GtinLink(
        row.gtin,
        row.product_code,
        product.name if product is not None else row.product_code,
        row.packaging,
        by.name if by is not None else str(row.linked_by),
        row.linked_at,
    )
