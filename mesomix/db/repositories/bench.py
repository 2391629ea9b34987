"""What the books say of the vials scanned at the bench: the product each GTIN names, the lots
the scans name on this site's shelves (whatever their stock or status), and whether the site
requires every draw verified by scan."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from mesomix.db.sites import FIRST_SITE_ID, site_of
from mesomix.db.tables import LotRow, MetaRow, ProductGtinRow
from mesomix.domain.bench import Books, ShelfLot
from mesomix.domain.scan import Scan

_GTIN = ProductGtinRow.__table__
_LOT = LotRow.__table__
_META = MetaRow.__table__


def bench_scan_key(site: int) -> str:
    """The meta key of a site's rule, "required" or "optional" (the default): the first site
    keeps the key the whole clinic's rule had before there were sites."""
    return "bench_scan" if site == FIRST_SITE_ID else f"bench_scan:{site}"


def scans_required(connection: sa.Connection) -> bool:
    """Whether the connection's site requires every draw verified by scan."""
    key = bench_scan_key(site_of(connection))
    return connection.execute(sa.select(_META.c.value).where(_META.c.key == key)).scalar() == (
        "required"
    )


def books_of(connection: sa.Connection, scans: Sequence[Scan]) -> Books:
    """The books for these scans."""
    gtins = sorted({scan.gtin for scan in scans})
    products = (
        dict(
            connection.execute(
                sa.select(_GTIN.c.gtin, _GTIN.c.product_code).where(_GTIN.c.gtin.in_(gtins))
            ).all()
        )
        if gtins
        else {}
    )
    pairs = {(products[s.gtin], s.lot) for s in scans if s.gtin in products and s.lot}
    lots: dict[tuple[str, str], ShelfLot] = {}
    if pairs:
        rows = connection.execute(
            sa.select(_LOT).where(
                _LOT.c.site_id == site_of(connection),
                sa.tuple_(_LOT.c.product_code, _LOT.c.lot_number).in_(sorted(pairs)),
            )
        )
        for row in rows:
            lots[(row.product_code, row.lot_number)] = ShelfLot(
                row.id, row.product_code, row.lot_number, row.expiry, row.status
            )
    return Books(products, lots)
