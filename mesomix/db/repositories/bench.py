"""What the books say of the vials scanned at the bench: the product each GTIN names, the lots
the scans name (whatever their stock or status), and whether the clinic requires every draw
verified by scan."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from mesomix.db.tables import LotRow, MetaRow, ProductGtinRow
from mesomix.domain.bench import Books, ShelfLot
from mesomix.domain.scan import Scan

BENCH_SCAN_KEY = "bench_scan"  # meta: "required" or "optional" (the default)

_GTIN = ProductGtinRow.__table__
_LOT = LotRow.__table__
_META = MetaRow.__table__
_REQUIRED = sa.select(_META.c.value).where(_META.c.key == BENCH_SCAN_KEY)


def scans_required(connection: sa.Connection) -> bool:
    return connection.execute(_REQUIRED).scalar() == "required"


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
                sa.tuple_(_LOT.c.product_code, _LOT.c.lot_number).in_(sorted(pairs))
            )
        )
        for row in rows:
            lots[(row.product_code, row.lot_number)] = ShelfLot(
                row.id, row.product_code, row.lot_number, row.expiry, row.status
            )
    return Books(products, lots)
