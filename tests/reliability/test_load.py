"""Load: many terminals dispensing a three-product mixture at once, against lots too small for all.

SQLite: 8 processes × 50 dispenses; PostgreSQL: 16 processes (16 connections) × 50. The
cyanocobalamin lots hold 100 vials between them, so exactly 100 dispenses succeed and every other
is refused for stock; dexpanthenol comes from two lots, the first to expire drained first. Afterwards:
exactly the stock there was is dispensed, no lot below zero, every lot equal to the sum of its
movements, no "database is locked" (the busy timeout waits it out), the audit chain whole. The
throughput is printed (`pytest -s`, or -rP); benchmarks/bench_load.py compares it with one terminal.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mesomix.bootstrap import Services, Settings, build
from mesomix.db.tables import LotRow, MovementRow
from mesomix.services.audit import verify
from mesomix.services.uow import unit_of_work
from tests.factories import assert_ledger_exact, audit_rows, counts, receive, seed_people
from tests.reliability.dispense_worker import B12, DEXPANTHENOL, SALINE, UL_PER_MIXTURE, Load, race

ATTEMPTS = 50
SCARCE = (("B12-EARLY", 60, 200), ("B12-LATE", 40, 400))  # lot, vials, days to expiry
DEXPANTHENOL_LOTS = (("DEX-EARLY", 70, 200), ("DEX-LATE", 1_000, 400))
SALINE_LOTS = (("SALINE", 1_000, 300),)
DISPENSABLE = sum(vials for _, vials, _ in SCARCE)
AMPOULE_UL, VIAL_UL = 2_000, 10_000  # dexpanthenol's and the saline's containers


def stock_up(services: Services) -> dict[str, int]:
    """The lots of the race; their ids by lot number."""
    seed_people(services)
    lots = {}
    for code, batches in ((B12, SCARCE), (DEXPANTHENOL, DEXPANTHENOL_LOTS), (SALINE, SALINE_LOTS)):
        for number, containers, days in batches:
            lots[number] = receive(services, code, number, containers, expires_in_days=days)
    return lots


def on_hand(services: Services) -> dict[str, int]:
    with unit_of_work(services.engine) as session:
        return {row.lot_number: row.on_hand_ul for row in session.exec(sa.select(LotRow)).scalars()}  # fmt: skip


def dispensed_by_lot(services: Services) -> dict[int, int]:
    """Microlitres that left each lot through dispensing (drawn and wasted), from the ledger."""
    query = (
        sa.select(MovementRow.lot_id, sa.func.sum(MovementRow.quantity_ul))
        .where(MovementRow.batch_id.is_not(None))
        .group_by(MovementRow.lot_id)
    )
    with unit_of_work(services.engine) as session:
        return {lot: -int(total) for lot, total in session.execute(query)}


def check_the_aftermath(services: Services, lots: dict[str, int], load: Load, processes: int) -> None:  # fmt: skip
    outcomes, succeeded = load.outcomes, load.succeeded
    assert len(outcomes) == processes * ATTEMPTS
    # exactly the scarce stock is dispensed, each dispense a batch of its own
    assert len(succeeded) == DISPENSABLE
    assert len({o["batch"] for o in succeeded}) == DISPENSABLE
    assert counts(services)["batches"] == DISPENSABLE
    # every refusal is a clean "not enough stock": no database-is-locked, nothing else
    refused = [o for o in outcomes if not o["ok"]]
    assert [o for o in refused if o["busy"]] == []
    assert {o["error"] for o in refused} <= {"DispenseRefused", "StockError"}, {o["error"] for o in refused}  # fmt: skip
    assert all("not enough stock" in o["message"] for o in refused), {o["message"] for o in refused}
    # 0 oversold: the stock there was, less exactly what 100 mixtures take, first expiry first
    left = on_hand(services)
    assert min(left.values()) >= 0
    assert left["B12-EARLY"] == left["B12-LATE"] == 0
    assert left["DEX-EARLY"] == 0
    dexpanthenol = sum(n for _, n, _ in DEXPANTHENOL_LOTS) * AMPOULE_UL
    assert left["DEX-LATE"] == dexpanthenol - DISPENSABLE * UL_PER_MIXTURE[DEXPANTHENOL]
    saline = sum(n for _, n, _ in SALINE_LOTS) * VIAL_UL
    assert left["SALINE"] == saline - DISPENSABLE * UL_PER_MIXTURE[SALINE]
    taken = dispensed_by_lot(services)
    assert sum(taken[lots[n]] for n, _, _ in SCARCE) == DISPENSABLE * UL_PER_MIXTURE[B12]
    assert_ledger_exact(services)  # every lot equals the sum of its movements
    verdict = verify(services.engine)  # the chain survived every writer at once
    assert verdict.intact, verdict.problem
    assert [row.action for row in audit_rows(services)].count("dispense") == DISPENSABLE


def run_load(url: str, processes: int, name: str) -> None:
    services = build(Settings(database_url=url))
    lots = stock_up(services)
    load = race(url, processes, ATTEMPTS)
    check_the_aftermath(services, lots, load, processes)
    figures = load.figures()
    print(
        f"\n{name}: {processes} terminals × {ATTEMPTS} dispenses of a 3-product mixture, "
        f"{DISPENSABLE} possible: {figures['attempts_per_s']:.0f} attempts/s, "
        f"{figures['dispenses_per_s']:.0f} dispenses/s until the stock ran out "
        f"(p50 {figures['p50_ms']:.1f} ms, slowest {figures['max_ms']:.0f} ms); "
        "0 oversold, 0 database-is-locked, ledger exact, audit chain intact"
    )
    services.close()


@pytest.mark.slow
def test_load_on_sqlite(tmp_path):
    run_load(f"sqlite:///{tmp_path / 'load.sqlite'}", 8, "SQLite")


@pytest.mark.slow
def test_load_on_postgresql(postgres):
    run_load(postgres.create_database("load"), 16, "PostgreSQL")
