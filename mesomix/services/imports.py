"""Importing products and stock receipts from CSV: the whole file is checked, then written in one
transaction with its audit rows — or nothing is written at all."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import col, select

from mesomix.clock import Clock
from mesomix.db.tables import AuditRow, LotRow, ProductRow
from mesomix.domain.imports import (
    PRODUCT_COLUMNS,
    STOCK_COLUMNS,
    ImportRefused,
    RowProblem,
    check_products,
    check_receipts,
    read_rows,
)
from mesomix.domain.permissions import Action
from mesomix.domain.text import readable, storable
from mesomix.reference import product_from_record
from mesomix.services.audit import Entry, append_many
from mesomix.services.base import Service
from mesomix.services.catalog import CatalogService
from mesomix.services.errors import ServiceError
from mesomix.services.stock.receiving import book_receipt

__all__ = ["ImportRefused", "ImportResult", "ImportService", "Progress", "read_import_file"]

# (phase, done, total): "checking" every row first, then "writing" them
Progress = Callable[[str, int, int], None]
_LOOKUP_CHUNK = 500  # codes per IN (...) list, well under every database's limit
MAX_IMPORT_BYTES = 100_000_000


def read_import_file(path: Path) -> str:
    """The text of a file a person named to import, or a refusal saying why it cannot be read.
    Read no further than the limit (a pipe or a device too): a larger file is refused with its
    size, before a row is checked."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_IMPORT_BYTES + 1)
            size = os.fstat(file.fileno()).st_size
        if len(data) > MAX_IMPORT_BYTES:
            said = f"is {size:,} bytes:" if size > MAX_IMPORT_BYTES else "goes on past"
            raise ServiceError(
                readable(
                    f"{path} {said} an import may be at most {MAX_IMPORT_BYTES:,} bytes "
                    f"({MAX_IMPORT_BYTES // 1_000_000} MB) — split it into several files; "
                    "nothing was done"
                )
            )
        return data.decode("utf-8")
    except FileNotFoundError:
        raise ServiceError(readable(f"{path}: no such file")) from None
    except IsADirectoryError:
        raise ServiceError(readable(f"{path}: is a folder, not a file")) from None
    except UnicodeDecodeError as exc:
        raise ServiceError(
            readable(
                f"{path}: byte {exc.start} is not UTF-8 text: save the file as UTF-8 (CSV UTF-8)"
            )
        ) from None
    except OSError as exc:
        raise ServiceError(readable(f"{path}: cannot be read ({exc.strerror or exc})")) from None


@dataclass(frozen=True)
class ImportResult:
    written: int  # products added, or receipts booked
    unchanged: int = 0  # product rows already on record exactly as given

    def __str__(self) -> str:
        return f"{self.written} written, {self.unchanged} already on record unchanged"


class ImportService(Service):
    def __init__(self, engine: sa.Engine, catalog: CatalogService, clock: Clock) -> None:
        super().__init__(engine, clock)
        self._catalog = catalog

    def products(self, user: str, text: str, progress: Progress | None = None) -> ImportResult:
        """Add the file's products to the catalogue; a row equal to a product on record is
        skipped, a row that differs from one is refused."""
        catalog = self._catalog.catalog()
        with self.writing(user, Action.EDIT_CATALOGUE) as (session, actor):
            rows = read_rows(text, PRODUCT_COLUMNS, "products")
            codes = {cells.get("code", "").strip() for _, cells in rows.rows}
            on_record = {
                code: record
                for chunk in _chunks(sorted(codes))
                for code, record in session.exec(
                    select(col(ProductRow.code), col(ProductRow.record)).where(
                        col(ProductRow.code).in_(chunk)
                    )
                )
            }
            found, unchanged = check_products(
                rows, catalog, on_record, _phase(progress, "checking")
            )
            for product in found:
                product_from_record(product.record)  # loads as the shipped products do
            now = self._clock.now()
            for done, product in enumerate(found, start=1):
                session.add(
                    ProductRow(
                        code=product.record["code"],
                        name=product.record["name"],
                        container=product.record["container"],
                        container_volume_ul=product.container_volume_ul,
                        diluent=bool(product.record.get("diluent", False)),
                        record=product.record,
                        reorder_level=product.reorder_level,
                        reorder_quantity=product.reorder_quantity,
                    )
                )
                if progress:
                    progress("writing", done, len(found))
            session.flush()
            append_many(
                session.connection(),
                now,
                [
                    Entry(
                        "catalogue.import_product",
                        user_id=actor.id,
                        user_name=actor.name,
                        record_type="product",
                        record_id=p.record["code"],
                        new=p.record,
                        reason=f"CSV import, row {p.row}",
                    )
                    for p in found
                ],
            )
        self._catalog.invalidate()
        return ImportResult(len(found), unchanged)

    def stock(self, user: str, text: str, progress: Progress | None = None) -> ImportResult:
        """Book the file's deliveries, each row a receipt of sealed containers of one lot."""
        with self.writing(user, Action.RECEIVE) as (session, actor):
            digest = _digest(text)
            earlier = session.exec(
                select(AuditRow)
                .where(AuditRow.action == "stock.import", AuditRow.record_id == digest)
                .order_by(col(AuditRow.id))
            ).first()
            if earlier is not None:
                raise ImportRefused([RowProblem(0, "", _already(earlier))])
            rows = read_rows(text, STOCK_COLUMNS, "stock")
            codes = sorted({cells.get("product", "").strip() for _, cells in rows.rows})
            products = {
                row.code: row
                for chunk in _chunks(codes)
                for row in session.exec(
                    select(ProductRow).where(col(ProductRow.code).in_(chunk), ProductRow.active)
                )
            }
            lots = {
                (lot.product_code, lot.lot_number): lot.expiry
                for chunk in _chunks(codes)
                for lot in session.exec(select(LotRow).where(col(LotRow.product_code).in_(chunk)))
            }
            volumes = {code: row.container_volume_ul for code, row in products.items()}
            receipts = check_receipts(
                rows, volumes, lots, self._clock.today(), _phase(progress, "checking")
            )
            now = self._clock.now()
            entries = []
            for done, receipt in enumerate(receipts, start=1):
                product, reason = products[receipt.product_code], f"CSV import, row {receipt.row}"
                _, entry = book_receipt(session, actor, product, receipt, reason, now)
                entries.append(entry)
                if progress:
                    progress("writing", done, len(receipts))
            entries.append(
                Entry(
                    "stock.import",
                    user_id=actor.id,
                    user_name=actor.name,
                    record_type="import",
                    record_id=digest,
                    new={"receipts": len(receipts)},
                )
            )
            append_many(session.connection(), now, entries)
        return ImportResult(len(receipts))


def _digest(text: str) -> str:
    """The file's content, whatever its line endings, byte-order mark or trailing blank lines."""
    lines = [line.rstrip() for line in text.lstrip("\ufeff").splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return hashlib.sha256("\n".join(lines).encode("utf-8", "surrogatepass")).hexdigest()


def _already(earlier: AuditRow) -> str:
    receipts = (earlier.new or {}).get("receipts", 0)
    return (
        f"this file was imported already on {earlier.at:%Y-%m-%d %H:%M} by {earlier.user_name} "
        f"({receipts} receipt(s)): importing it again would book the same delivery twice. "
        "A second delivery of the same lots is a new file"
    )


def _chunks(codes: list[str]) -> list[list[str]]:
    """Codes to look up, a chunk at a time; text no code can hold (NUL, a lone surrogate) is left
    out: its row is refused by the checks."""
    codes = [code for code in codes if storable(code)]
    return [codes[n : n + _LOOKUP_CHUNK] for n in range(0, len(codes), _LOOKUP_CHUNK)] or [[]]


def _phase(progress: Progress | None, phase: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(phase, done, total)
