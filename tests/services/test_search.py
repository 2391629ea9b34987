"""Catalogue search through the service: the shipped catalogue as the database holds it, products
added or withdrawn later, hostile text, many threads at once, and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from benchmarks.bench_search import MISSPELT
from mesomix.bootstrap import Settings, build
from mesomix.db.tables import ProductRow
from mesomix.domain.search import Hit
from mesomix.services import catalog as catalog_service
from mesomix.services.catalog import CatalogService
from mesomix.services.uow import unit_of_work

# What a person types, and the substance meant: the hit may be it or a product carrying it.
MEANT = {
    **MISSPELT,  # the benchmark's misspellings and abbreviations
    "lido": "lidocaine_hcl",
    "hyal": "sodium_hyaluronate",
    "lignocaine": "lidocaine_hcl",  # synonyms
    "adrenaline": "epinephrine",
    "txa": "tranexamic_acid",
    "vitamin c": "ascorbic_acid",
    "Novocaine": "procaine_hcl",
    "glutathion 600": "glutathione",
    "cyklokapron_500mg_5ml_amp": "tranexamic_acid",  # codes
    "folic_acid": "folic_acid",
}
HOSTILE = [
    "",
    "   ",
    "%",
    "_%",
    "'; DROP TABLE product; --",
    "[bold]x[/]",
    "x" * 10_000,
    "a\x00b",
    "\x1b[2J",
    "💉",
    "١٢٣",
    "\ud800",
]
NEW = "zyxorbin_500mg_5ml_amp"


def means(services, hit: Hit) -> set[str]:
    catalog = services.catalog.catalog()
    if hit.kind == "substance":
        return {hit.code}
    return {s.substance for s in catalog.product(hit.code).strengths}


def test_misspellings_synonyms_prefixes_and_codes_find_the_right_entry(services):
    missed = {}
    for query, substance in MEANT.items():
        hits = services.catalog.search(query)
        if not any(substance in means(services, h) for h in hits):
            missed[query] = [h.code for h in hits]
    assert missed == {}
    assert services.catalog.search("cyklokapron_500mg_5ml_amp")[0].code == (
        "cyklokapron_500mg_5ml_amp"
    )


def test_hostile_queries_return_quietly(services):
    for query in HOSTILE:
        hits = services.catalog.search(query)
        assert len(hits) <= 5 and all(isinstance(h, Hit) for h in hits), query
    assert services.catalog.search("") == services.catalog.search("%") == []


def _add_product(services) -> None:
    record = {
        "code": NEW,
        "name": "Zyxorbin 500 mg/5 mL ampoule",
        "container": "single_dose",
        "container_volume": "5 mL",
        "strength": [{"substance": "ascorbic_acid", "per_ml": "100 mg/mL"}],
    }
    with unit_of_work(services.engine, write=True) as session:
        session.add(
            ProductRow(
                code=NEW,
                name=record["name"],
                container="single_dose",
                container_volume_ul=5000,
                record=record,
            )
        )


def test_products_added_later_are_found_once_the_index_is_invalidated(services):
    assert services.catalog.search("zyxorbin") == []
    _add_product(services)
    assert services.catalog.search("zyxorbin") == []  # the index is kept until told
    services.catalog.invalidate_search()
    assert services.catalog.search("zyxorbn")[0].code == NEW  # a typo of its brand
    assert NEW in [h.code for h in services.catalog.search("vit c zyx")]  # what it carries


def test_withdrawn_products_are_not_found(services):
    code = "cyklokapron_500mg_5ml_amp"
    with unit_of_work(services.engine, write=True) as session:
        session.execute(sa.update(ProductRow).where(ProductRow.code == code).values(active=False))
    services.catalog.invalidate_search()
    assert code not in [h.code for h in services.catalog.search("cyklokapron", 50)]


def test_one_index_for_many_threads(services):
    catalog = services.catalog
    queries = [*MEANT, *HOSTILE] * 4
    with ThreadPoolExecutor(8) as pool:
        indexes = list(pool.map(lambda _: catalog.search_index(), range(16)))
        assert all(index is indexes[0] for index in indexes)
        together = list(pool.map(catalog.search, queries))
    assert together == [catalog.search(q) for q in queries]


def test_searching_while_the_index_is_invalidated(services):
    catalog = services.catalog

    def invalidate(_: int) -> None:
        catalog.invalidate_search()

    with ThreadPoolExecutor(6) as pool:
        searches = [pool.submit(catalog.search, "vit c") for _ in range(20)]
        list(pool.map(invalidate, range(5)))
        found = [future.result() for future in searches]
    assert all(hits and hits[0].code == "ascorbic_acid" for hits in found)


def test_search_on_postgresql(postgres, clock, services):
    on_postgres = build(Settings(database_url=postgres.create_database("search"), clock=clock))
    try:
        for query in ["vit c", "hyaluronc acid", "b12", "cyklokapron_500mg_5ml_amp", "5ml"]:
            assert on_postgres.catalog.search(query) == services.catalog.search(query), query
    finally:
        on_postgres.close()


def _kept(engine: sa.Engine) -> tuple[int, int] | None:
    """The catalogue version, and that of the index kept (None: none kept)."""
    with engine.connect() as connection:
        serial = connection.execute(sa.text("SELECT serial FROM catalogue_version")).scalar_one()
        kept = connection.execute(sa.text("SELECT serial FROM search_snapshot")).scalar()
    return None if kept is None else (serial, kept)


def _started(services) -> CatalogService:
    """Another terminal's catalogue service on the same database, not yet searched."""
    return CatalogService(services.engine)


def test_the_index_built_is_kept_and_the_next_terminal_loads_it(services, monkeypatch):
    index = services.catalog.search_index()
    serial, kept = _kept(services.engine)
    assert kept == serial
    built = []
    monkeypatch.setattr(
        catalog_service, "CatalogueIndex", _Counting(built, catalog_service.CatalogueIndex)
    )
    loaded = _started(services).search_index()
    assert built == [] and loaded is not index
    for query in [*MEANT, *HOSTILE, "5ml", "vit c zyx"]:
        assert loaded.search(query, 20) == index.search(query, 20), query


class _Counting:
    """CatalogueIndex, counting the indexes built (not those loaded from a snapshot)."""

    def __init__(self, built: list[int], real: type) -> None:
        self._built, self._real = built, real

    def __call__(self, entries):
        self._built.append(1)
        return self._real(entries)

    def from_snapshot(self, data: bytes):
        return self._real.from_snapshot(data)


def test_any_change_to_the_catalogue_outdates_the_kept_index(services):
    services.catalog.search_index()
    serial, _ = _kept(services.engine)
    _add_product(services)  # through the ORM
    assert _kept(services.engine) == (serial + 1, serial)
    assert _started(services).search("zyxorbn")[0].code == NEW
    assert _kept(services.engine) == (serial + 1, serial + 1)  # kept again, as it is now
    with services.engine.begin() as connection:  # by hand, as a script would
        connection.execute(
            sa.text("UPDATE product SET name = 'Qwertzon 1 mL' WHERE code = :c"), {"c": NEW}
        )
        connection.execute(
            sa.text("UPDATE substance SET record = :r WHERE code = 'biotin'"),
            {"r": '{"code": "biotin", "name": "Biotin", "synonyms": ["hairvit"]}'},
        )
    fresh = _started(services)
    assert fresh.search("qwertzon")[0].code == NEW
    assert fresh.search("zyxorbin")[0].name == "Qwertzon 1 mL"  # by its code, newly named
    assert fresh.search("hairvit")[0].code == "biotin"


def test_a_damaged_or_foreign_snapshot_is_built_again(services):
    index = services.catalog.search_index()
    for damage in ("data = substr(data, 1, 1000)", "data = X'00'", "format = 'pickle 5'"):
        with services.engine.begin() as connection:
            connection.execute(sa.text(f"UPDATE search_snapshot SET {damage}"))
        again = _started(services)
        assert again.search("hyaluronc acid") == index.search("hyaluronc acid"), damage
        assert again.search("b12") == index.search("b12"), damage


def test_a_read_only_database_still_searches_without_keeping_the_index(tmp_path, clock):
    path = tmp_path / "clinic.sqlite"
    build(Settings(database_url=f"sqlite:///{path}", clock=clock)).close()
    with sa.create_engine(f"sqlite:///{path}").begin() as connection:
        connection.execute(sa.text("DELETE FROM search_snapshot"))
    reader = build(Settings(database_url=f"sqlite:///{path}", clock=clock, read_only=True))
    try:
        assert reader.catalog.search("lido")[0].code == "lidocaine_hcl"
    finally:
        reader.close()
    assert _kept(sa.create_engine(f"sqlite:///{path}")) is None


def test_the_kept_index_on_postgresql(postgres, clock, services):
    url = postgres.create_database("search_kept")
    first = build(Settings(database_url=url, clock=clock))
    try:
        index = first.catalog.search_index()
        serial, kept = _kept(first.engine)
        assert kept == serial
        _add_product(first)
        assert _kept(first.engine) == (serial + 1, serial)  # one statement, one change
        second = _started(first)
        assert second.search("zyxorbn")[0].code == NEW
        assert second.search("hyaluronc acid") == index.search("hyaluronc acid")
        with first.engine.begin() as connection:
            connection.execute(sa.text("UPDATE search_snapshot SET data = '\\x00'"))
        assert _started(first).search("zyxorbn")[0].code == NEW
    finally:
        first.close()
