"""The catalogue as the database holds it: seeded from data/, read once, shared read-only."""

from __future__ import annotations

import difflib
import json
import marshal
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from mesomix.db.blobs import read_blob
from mesomix.db.tables import (
    AllergenGroupRow,
    CatalogueVersionRow,
    ProductRow,
    SearchSnapshotRow,
    SubstanceRow,
)
from mesomix.domain.catalog import Catalog, Product, Substance
from mesomix.domain.matcher import Matcher
from mesomix.domain.search import (
    SNAPSHOT_FORMAT,
    CatalogueIndex,
    Hit,
    SearchEntry,
    carried_words,
    substance_entry,
)
from mesomix.reference import (
    allergy_code_records,
    catalog_from_records,
    load_records,
    product_from_record,
)
from mesomix.services.errors import DatabaseFault, NotFound, ServiceError
from mesomix.services.uow import transaction, unit_of_work


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
        self._search_index: CatalogueIndex | None = None
        self._search_lock = threading.Lock()

    def catalog(self) -> Catalog:
        if self._catalog is None:
            with self._lock:
                if self._catalog is None:
                    self._catalog = self._load()
        return self._catalog

    def invalidate(self) -> None:
        """Forget the catalogue and its search index: products were added, the next reader
        rebuilds both."""
        with self._lock:
            self._catalog = None
        self.invalidate_search()

    def _load(self) -> Catalog:
        with unit_of_work(self._engine) as session:
            records = {
                "group": [r.record for r in session.exec(select(AllergenGroupRow))],
                "substance": [r.record for r in session.exec(select(SubstanceRow))],
                "product": [
                    r.record for r in session.exec(select(ProductRow).where(ProductRow.active))
                ],
                **allergy_code_records(),  # shipped, not edited: read from data/ as it is
            }
        return catalog_from_records(records)

    def search(self, query: str, limit: int = 5) -> list[Hit]:
        """Substances and products by a few letters, a synonym, an abbreviation or a misspelling,
        best first. Reading the catalogue is open to every role, so nothing is checked; safe to
        call from worker threads, on every keystroke."""
        return self.search_index().search(query, limit)

    def matcher(self) -> Matcher:
        """The one matcher of names, strengths and sizes over the catalogue and its index
        (Compose, Receive, Inventory's find, `search`, `mix check`)."""
        return Matcher(self.catalog(), self.search_index())

    def search_typed(self, query: str, limit: int = 5) -> tuple[list[Hit], str]:
        """The search with a strength or size typed matched whole (`Matcher.search`): the
        hits, or why none has the numbers typed."""
        return self.matcher().search(query, limit)

    def substance_named(self, name: str) -> Substance:
        """The substance a name, synonym or code means; NotFound for anything else (a product
        too)."""
        catalog = self.catalog()
        found = catalog.resolve(name)
        if found is None or found.code not in catalog.substances:
            raise NotFound(f"unknown substance '{name}'")
        return catalog.substances[found.code]

    def product_and_strength(self, name: str) -> tuple[Product, Substance]:
        """A product by its code or name, and the substance its strength is of (its first
        active): what a volume of it is converted through. A diluent has none."""
        catalog = self.catalog()
        product = catalog.products.get(name) or catalog.resolve(name)
        if product is None or product.code not in catalog.products:
            raise NotFound(f"unknown product '{name}'")
        product = catalog.products[product.code]
        if not product.strengths:
            raise ServiceError(
                f"{product.name} is a diluent: it has no strength to convert through"
            )
        return product, catalog.substance(product.strengths[0].substance)

    def product_coded(self, typed: str) -> Product:
        """The product a code names; an unknown code is refused with the codes it is close to
        (spelling) and those whose names it matches."""
        products = self.catalog().products
        if typed in products:
            return products[typed]
        close = difflib.get_close_matches(typed.strip().casefold(), list(products), n=3, cutoff=0.6)
        named = [h.code for h in self.search(typed, 10) if h.kind == "product"]
        guesses = list(dict.fromkeys([*close, *named]))[:5]
        if not guesses:
            raise NotFound(
                f"no product has the code '{typed}': find it with mesomix search NAME, "
                "then give its code to --product"
            )
        shown = " · ".join(
            f"{code} ({products[code].name})" for code in guesses if code in products
        )
        raise NotFound(f"no product has the code '{typed}': did you mean {shown}")

    def search_index(self) -> CatalogueIndex:
        """The search index: the one kept in the database for the catalogue as it is, or built
        from the database's active products (and then kept for the next terminal to start)."""
        index = self._search_index
        if index is None:
            with self._search_lock:
                index = self._search_index
                if index is None:
                    index = self._search_index = self._load_or_build()
        return index

    def invalidate_search(self) -> None:
        """Forget the search index (products were added or changed); the next search rebuilds
        it. Waits for a build under way, so what that build read is not kept."""
        with self._search_lock:
            self._search_index = None

    def _load_or_build(self) -> CatalogueIndex:
        """The catalogue's version and what the index is built from, read in one transaction,
        so the index kept is the one of that version."""
        with transaction(self._engine) as connection:
            serial = connection.execute(_CATALOGUE_VERSION).scalar_one()
            if connection.execute(_KEPT_INDEX, {"serial": serial}).first() is not None:
                kept = read_blob(connection, _SNAPSHOT, "data", 1)
                index = CatalogueIndex.from_snapshot(kept)
                if index is not None:
                    return index
            substances = connection.execute(_SUBSTANCE_RECORDS).scalars().all()
            products = connection.execute(_PRODUCT_WORDS).all()
        index = CatalogueIndex(_search_entries(substances, products))
        self._keep(index, serial)
        return index

    def _keep(self, index: CatalogueIndex, serial: int) -> None:
        """The index written for the next terminal, unless one of this version or later is
        already there. A cache: a database that cannot be written now only means the next
        terminal builds the index too."""
        snapshot = _SNAPSHOT.c
        try:
            with transaction(self._engine, write=True) as connection:
                kept = connection.execute(
                    sa.select(snapshot.serial, snapshot.format).where(snapshot.id == 1)
                ).one_or_none()
                row = {"serial": serial, "format": _FORMAT, "data": index.snapshot()}
                if kept is None:
                    connection.execute(sa.insert(_SNAPSHOT).values(id=1, **row))
                elif kept.serial < serial or kept.format != _FORMAT:
                    connection.execute(sa.update(_SNAPSHOT).where(snapshot.id == 1).values(row))
        except DatabaseFault:
            return


_SNAPSHOT = SearchSnapshotRow.__table__
_FORMAT = f"marshal {marshal.version} index {SNAPSHOT_FORMAT}"
_CATALOGUE_VERSION = sa.select(CatalogueVersionRow.__table__.c.serial).where(
    CatalogueVersionRow.__table__.c.id == 1
)
_KEPT_INDEX = sa.select(_SNAPSHOT.c.id).where(
    _SNAPSHOT.c.id == 1,
    _SNAPSHOT.c.serial == sa.bindparam("serial"),
    _SNAPSHOT.c.format == _FORMAT,
)
_SUBSTANCE_RECORDS = sa.select(SubstanceRow.__table__.c.record)
_PRODUCT_WORDS = sa.select(
    ProductRow.__table__.c.code,
    ProductRow.__table__.c.name,
    ProductRow.record["strength"].as_string(),
).where(ProductRow.__table__.c.active)


def _search_entries(
    substances: Sequence[dict[str, Any]], products: Sequence[sa.Row[str, str, str | None]]
) -> Iterator[SearchEntry]:
    """Substances whole (a few dozen rows); of each product only its code, name and the JSON
    text of its strengths, so 100 000 products load in one light query. A generator: the index
    reads it while the garbage collector is paused for the build."""
    by_code = {
        raw["code"]: Substance(raw["code"], raw["name"], tuple(raw.get("synonyms", ())))
        for raw in substances
    }
    yield from map(substance_entry, by_code.values())
    words: dict[str | None, tuple[str, ...]] = {}  # products of the same substances share
    for code, name, text in products:
        carried = words.get(text)
        if carried is None:
            carried = words[text] = carried_words(by_code[c] for c in _carried(text, by_code))
        yield SearchEntry(code, "product", name, carried)


def _carried(text: str | None, known: dict[str, Substance]) -> list[str]:
    """The known substance codes of a product's strengths, from their JSON text."""
    try:
        strengths = json.loads(text) if text else []
    except ValueError:
        return []
    if not isinstance(strengths, list):
        return []
    return [
        s["substance"] for s in strengths if isinstance(s, dict) and s.get("substance") in known
    ]
