"""The catalogue as the database holds it: seeded from data/, read once, shared read-only."""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from mesomix.db.tables import AllergenGroupRow, ProductRow, SubstanceRow
from mesomix.domain.catalog import Catalog
from mesomix.reference import catalog_from_records, load_records, product_from_record
from mesomix.services.uow import unit_of_work


def sync_reference(
    engine: sa.Engine, records: dict[str, list[dict[str, Any]]] | None = None
) -> int:
    """Insert or update the shipped groups, substances and products; returns rows changed."""
    records = records or load_records()
    catalog_from_records(records)  # refuse inconsistent data before writing any of it
    changed = 0
    with unit_of_work(engine, write=True) as session:
        for raw in records["group"]:
            changed += _upsert(session, AllergenGroupRow, raw["code"], name=raw["name"], record=raw)
        for raw in records["substance"]:
            changed += _upsert(
                session,
                SubstanceRow,
                raw["code"],
                name=raw["name"],
                role=raw.get("role", "active"),
                category=raw.get("category", ""),
                record=raw,
            )
        for raw in records["product"]:
            product = product_from_record(raw)
            changed += _upsert(
                session,
                ProductRow,
                raw["code"],
                name=raw["name"],
                container=product.container.value,
                container_volume_ul=product.container_volume_ul,
                diluent=product.diluent,
                record=raw,
            )
    return changed


def _upsert(session: Session, table: type[Any], code: str, **values: Any) -> int:
    row = session.get(table, code)
    if row is None:
        session.add(table(code=code, **values))
        return 1
    if all(getattr(row, k) == v for k, v in values.items()):
        return 0
    for key, value in values.items():
        setattr(row, key, value)
    return 1


class CatalogService:
    """Builds the domain catalogue from the database once and hands out the same object."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._catalog: Catalog | None = None
        self._lock = threading.Lock()

    def catalog(self) -> Catalog:
        if self._catalog is None:
            with self._lock:
                if self._catalog is None:
                    self._catalog = self._load()
        return self._catalog

    def invalidate(self) -> None:
        """Forget the catalogue built so far: products were added, the next reader rebuilds."""
        with self._lock:
            self._catalog = None

    def _load(self) -> Catalog:
        with unit_of_work(self._engine) as session:
            records = {
                "group": [r.record for r in session.exec(select(AllergenGroupRow))],
                "substance": [r.record for r in session.exec(select(SubstanceRow))],
                "product": [
                    r.record for r in session.exec(select(ProductRow).where(ProductRow.active))
                ],
            }
        return catalog_from_records(records)
