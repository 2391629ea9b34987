"""A count that differs from the books is booked with a coded reason that fits the way it
differs; the waste report says the reason in words, and keeps the code beside them. On
PostgreSQL too, with the admin's role change and a recalled lot's flag."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mesomix.bootstrap import Settings, build
from mesomix.db.tables import AuditRow, MovementRow
from mesomix.services.errors import ServiceError
from mesomix.services.uow import unit_of_work
from tests.factories import assert_ledger_exact, mixture, receive, seed_people, snapshot

B12 = "cyanocobalamin_1000mcg_1ml_vial"  # 1 mL single-dose


def counts_of(services, lot: int) -> list[MovementRow]:
    with unit_of_work(services.engine) as session:
        query = sa.select(MovementRow).where(MovementRow.lot_id == lot, MovementRow.kind == "count")
        return list(session.scalars(query))


@pytest.mark.parametrize(
    ("sealed", "reason", "note", "says"),
    [
        (8, "", "", "reason: the shelf holds 2 mL less than the books: choose why it differs"),
        (12, "", "", "reason: the shelf holds 2 mL more than the books"),
        (8, "found_stock", "", "which 'found stock, not booked in' does not explain"),
        (12, "breakage", "", "does not explain"),
        (8, "other", "", "note: reason 'other' needs a note saying why"),
        (8, "count_correction", "", "'count_correction' is not a count reason"),
    ],
)
def test_a_count_that_differs_is_refused_without_a_reason_that_fits(
    clinic, sealed, reason, note, says
):
    lot = receive(clinic, B12, "B1", 10)
    before = snapshot(clinic)
    with pytest.raises(ServiceError, match=says.replace("(", r"\(").replace(")", r"\)")):
        clinic.inventory.count("nadia", lot, sealed, "", reason, note)
    assert snapshot(clinic) == before


def test_a_count_that_matches_needs_no_reason(clinic):
    lot = receive(clinic, B12, "B1", 10)
    assert clinic.inventory.count("nadia", lot, 10) is None
    assert counts_of(clinic, lot) == []


def test_the_reason_is_kept_on_the_movement_and_the_trail_and_said_in_words(clinic):
    lot = receive(clinic, B12, "B1", 10)
    counted = clinic.inventory.count_lot("nadia", lot, 7, "", "theft_loss_suspected", "box open")
    assert counted.said() == "−3 mL booked: theft or loss suspected"
    (movement,) = counts_of(clinic, lot)
    assert movement.reason == "theft_loss_suspected" and movement.quantity_ul == -3_000
    assert movement.note.startswith("box open (counted 7 sealed")
    with unit_of_work(clinic.engine) as session:
        row = session.scalars(sa.select(AuditRow).where(AuditRow.action == "stock.count")).one()
    assert row.reason.startswith("theft_loss_suspected: box open")
    assert clinic.inventory.count_difference("nadia", lot, 9) == 2_000
    clinic.inventory.count("nadia", lot, 9, "", "found_stock")
    assert [m.reason for m in counts_of(clinic, lot)] == ["theft_loss_suspected", "found_stock"]
    assert_ledger_exact(clinic)


def test_the_waste_report_says_the_reason_in_words_and_keeps_the_code(clinic):
    lot = receive(clinic, B12, "B1", 10)
    clinic.inventory.count("nadia", lot, 8, "", "breakage")
    clinic.inventory.adjust("nadia", lot, -1_000, "count_correction", "as booked before 2026-12")
    waste = clinic.reports.report("nadia", "waste")
    rows = {r["reason_code"]: r for r in waste.to_dict("records")}
    assert rows["breakage"]["reason"] == "breakage: broken or spoilt, not booked as waste"
    assert rows["breakage"]["wasted_ml"] == 2
    assert rows["count_correction"]["reason"] == "count correction"


def test_roles_counts_and_recalls_on_postgresql(postgres, clock):
    """The same on PostgreSQL: a role changed and refused, a count asked why, a recall flagged."""
    services = build(Settings(database_url=postgres.create_database("roles"), clock=clock))
    try:
        seed_people(services)
        services.accounts.set_role("root", "sam", "manager")
        with pytest.raises(ServiceError, match="cannot take the admin role"):
            services.accounts.set_role("root", "root", "staff")
        assert {a.name: a.role for a in services.accounts.users("root")}["sam"] == "manager"
        lot = receive(services, B12, "B1", 10)
        assert services.inventory.count_difference("nadia", lot, 8) == -2_000
        with pytest.raises(ServiceError, match="choose why"):
            services.inventory.count("nadia", lot, 8)
        services.inventory.count("nadia", lot, 8, "", "breakage")
        waste = services.reports.report("nadia", "waste")
        assert list(waste["reason_code"]) == ["breakage"]
        batch = services.mixtures.dispense(mixture(("cyanocobalamin", "500 mcg")), "drchen")
        services.inventory.set_status("nadia", lot, "recalled", "supplier recall")
        assert services.labels.label("drchen", batch.batch_id).text.startswith(
            f"RECALLED lot B1 — recalled on {clock.today().isoformat()}"
        )
        (summary,) = services.people.history("drchen", "P-1")
        assert [r.lot_number for r in summary.recalled] == ["B1"]
    finally:
        services.close()
