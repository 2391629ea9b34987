"""Catalogue search through the service: the shipped catalogue as the database holds it, products
added or withdrawn later, hostile text, many threads at once, and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from benchmarks.bench_search import MISSPELT
from mesomix.bootstrap import Settings, build
from mesomix.db.tables import ProductRow
from mesomix.domain.search import Hit
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
