"""Stock belongs to a site: each site lists, receives, dispenses from, counts and reports only
its own shelves; a manufacturer's lot is one wherever it is shelved (its expiry, its recall);
stock sent between sites is two movements, one on each ledger, in one transaction — on SQLite
and on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mesomix.bootstrap import Settings, build
from mesomix.domain.allergy import Allergy
from mesomix.services.audit import verify
from mesomix.services.batches import prior_batches
from mesomix.services.errors import NotFound, PermissionDenied, ServiceError
from mesomix.services.ledger import reconcile_ledger
from mesomix.services.stock.transfers import IN, OUT
from mesomix.services.uow import transaction
from tests.factories import counts, mixture, receive, scan_of, set_lot, snapshot

B12 = "cyanocobalamin_1000mcg_1ml_vial"
ONE_AMPOULE = mixture(("cyanocobalamin", "1000 mcg"))


@pytest.fixture
def sites(clinic_on_both):
    """The clinic at main, and a terminal at north."""
    main = clinic_on_both
    main.sites.add("root", "north", "North clinic")
    for person in ("sam", "drchen", "nadia"):
        main.sites.assign("root", person, add=["north"])
    north = build(Settings(database_url=main.settings.database_url, clock=main.clock, site="north"))
    yield main, north
    north.close()


def numbers(services) -> list[str]:
    return [line.lot_number for line in services.stock.lots("nadia")]


def test_each_site_sees_receives_and_dispenses_from_its_own_shelves(sites):
    main, north = sites
    receive(north, B12, "N-1", 3)
    assert numbers(north) == ["N-1"] and numbers(main) == []
    with pytest.raises(ServiceError):  # north's ampoules are not main's to draw
        main.mixtures.dispense(ONE_AMPOULE, "sam")
    batch = north.mixtures.dispense(ONE_AMPOULE, "sam")
    assert [pick.lot_number for drawn in batch.drawn for pick in drawn.picks] == ["N-1"]
    receive(main, B12, "M-1", 2)
    main.mixtures.dispense(ONE_AMPOULE, "sam")
    assert {line.lot_number: line.on_hand_ul for line in main.stock.lots("nadia")} == {"M-1": 1000}
    assert {line.lot_number: line.on_hand_ul for line in north.stock.lots("nadia")} == {"N-1": 2000}
    assert main.stock.find_lot("nadia", "M-1").lot_number == "M-1"
    with pytest.raises(NotFound):
        main.stock.find_lot("nadia", "N-1")
    with transaction(main.engine) as connection:
        made = dict(connection.execute(sa.text("SELECT id, site_id FROM batch")).all())
    assert sorted(made.values()) == [1, 2]
    report = north.reports.report("nadia", "stock")
    assert list(report["lot_number"]) == ["N-1"]


def test_another_sites_lot_is_that_sites_to_change(sites):
    main, north = sites
    lot = receive(north, B12, "N-1", 3)
    before = snapshot(main)
    for change in (
        lambda: main.stock.waste_typed("nadia", lot, "1 mL", "damaged"),
        lambda: main.stock.count("nadia", lot, 0, "0", "broken"),
        lambda: main.stock.set_status("nadia", lot, "quarantined", "checking"),
    ):
        with pytest.raises(NotFound, match="another site's shelves"):
            change()
    assert snapshot(main) == before


def test_a_manufacturers_lot_is_one_wherever_it_is_shelved(sites):
    main, north = sites
    expiry = main.clock.today() + timedelta(days=365)
    receive(main, B12, "SHARED", 2)
    north_lot = north.stock.receive("nadia", B12, "SHARED", expiry, 1)  # its own row, same lot
    with pytest.raises(ServiceError, match="expiry"):
        north.stock.receive("nadia", B12, "SHARED", expiry + timedelta(days=30), 1)
    north.stock.set_status("nadia", north_lot, "recalled", "the maker recalls it")
    statuses = {line.lot_number: line.status for line in main.stock.lots("nadia")}
    assert statuses == {"SHARED": "recalled"}  # main's shelf too: the same ampoules
    with pytest.raises(ServiceError, match="recalled"):
        receive(main, B12, "SHARED", 1)
    with pytest.raises(ServiceError):
        main.mixtures.dispense(ONE_AMPOULE, "sam")


def test_stock_sent_to_another_site_is_a_movement_on_each_ledger(sites):
    main, north = sites
    lot = receive(main, B12, "M-1", 5)
    sent = main.stock.transfer("nadia", lot, "north", 2, "north ran out")
    assert (sent.to_site, sent.quantity_ul) == ("north", 2000)
    assert {line.lot_number: line.on_hand_ul for line in main.stock.lots("nadia")} == {"M-1": 3000}
    (there,) = north.stock.lots("nadia")
    assert (there.lot_id, there.lot_number, there.on_hand_ul) == (sent.to_lot_id, "M-1", 2000)
    assert north.mixtures.dispense(ONE_AMPOULE, "sam").drawn[0].picks[0].lot_id == sent.to_lot_id
    main.stock.transfer("nadia", lot, "north", 1)  # onto the lot north already has
    assert [line.on_hand_ul for line in north.stock.lots("nadia")] == [2000]
    with transaction(main.engine) as connection:
        kinds = connection.execute(
            sa.text(
                "SELECT kind, quantity_ul FROM movement WHERE kind LIKE 'transfer%' ORDER BY id"
            )
        ).all()
    assert kinds == [(OUT, -2000), (IN, 2000), (OUT, -1000), (IN, 1000)]
    assert main.stock.discrepancies() == []
    reconciled = reconcile_ledger(main.engine)
    assert reconciled.problems == [] and reconciled.reconciled >= 6
    assert verify(main.engine).intact


@pytest.mark.parametrize(
    ("user", "to", "containers", "error", "says"),
    [
        ("nadia", "main", 1, ServiceError, "already on Main clinic's shelves"),
        ("nadia", "south", 1, NotFound, "no open site 'south'"),
        ("nadia", "north", 6, ServiceError, "has 5 sealed containers"),
        ("nadia", "north", 0, ServiceError, "send 1 to"),
        ("sam", "north", 1, PermissionDenied, "send stock to another site"),
    ],
    ids=["same site", "unknown site", "more than sealed", "none", "staff"],
)
def test_stock_that_cannot_be_sent_is_refused_and_nothing_written(
    sites, user, to, containers, error, says
):
    main, _ = sites
    lot = receive(main, B12, "M-1", 5)
    before = counts(main), snapshot(main)
    with pytest.raises(error, match=says):
        main.stock.transfer(user, lot, to, containers)
    assert (counts(main), snapshot(main)) == before


def test_a_recalled_or_expired_lot_is_not_sent_on(sites):
    main, _ = sites
    recalled = receive(main, B12, "R-1", 2)
    main.stock.set_status("nadia", recalled, "recalled", "the maker recalls it")
    with pytest.raises(ServiceError, match="recalled: it is returned to the supplier"):
        main.stock.transfer("nadia", recalled, "north", 1)
    expired = receive(main, B12, "E-1", 2)
    set_lot(main, expired, expiry=main.clock.today() - timedelta(days=1))  # a day on the shelf
    with pytest.raises(ServiceError, match="expired on"):
        main.stock.transfer("nadia", expired, "north", 1)


def test_a_patient_treated_at_both_sites_is_one_patient(sites):
    """An allergy recorded at one site is found by the next check at the other; what the patient
    received at either counts toward the same limits (batches are read across sites)."""
    main, north = sites
    receive(main, B12, "M-1", 3)
    receive(north, B12, "N-1", 3)
    main.mixtures.dispense(ONE_AMPOULE, "sam")
    allergy = north.allergies.record(
        "P-1", "drchen", Allergy(text="vitamin B12 injection", criticality="high")
    )
    north.allergies.code(allergy, "drchen", substance="cyanocobalamin")
    plan = main.mixtures.check(ONE_AMPOULE, "sam")
    assert "allergy.direct_match" in {f.code for f in plan.findings}  # north's record
    with transaction(north.engine) as connection:
        received = prior_batches(connection, north.clock, None, 1)
    assert len(received.batches) == 1  # main's batch, seen from north


def test_a_vial_scanned_at_the_bench_is_read_against_this_sites_shelf_and_rule(sites):
    """The same manufacturer's lot on both shelves: a scan at north names north's lot (the one
    drawn); requiring scans is each site's rule."""
    main, north = sites
    gtin = "09520000000011"  # GS1's prefix for examples, as the demo's codes are
    main.gtins.link("nadia", gtin, B12, "vial")
    expiry = main.clock.today() + timedelta(days=365)
    north.stock.receive("nadia", B12, "SHARED", expiry, 2)
    receive(main, B12, "SHARED", 2)  # main's row after north's: the books must pick north's
    scanned = replace(ONE_AMPOULE, scans=(scan_of(gtin, "SHARED", expiry),))
    done = north.mixtures.dispense(scanned, "sam")
    (north_lot,) = [line.lot_id for line in north.stock.lots("nadia")]
    assert [pick.lot_id for pick in done.drawn[0].picks] == [north_lot]
    with transaction(north.engine) as connection:
        verified = connection.execute(
            sa.text("SELECT verified FROM batch_line WHERE batch_id = :b"), {"b": done.batch_id}
        ).scalar_one()
    assert verified == "scan"
    north.mixtures.require_bench_scan("nadia", True, "north's rule")
    assert north.mixtures.bench_scan_required() and not main.mixtures.bench_scan_required()
    assert "scan.required" in {f.code for f in north.mixtures.check(ONE_AMPOULE, "sam").findings}
    assert "scan.required" not in {f.code for f in main.mixtures.check(ONE_AMPOULE, "sam").findings}
