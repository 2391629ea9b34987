"""An element is planned and dispensed through the salt a product states its strength in, as
the label reads it ("Copper 0.4 mg/mL" is cupric chloride dihydrate 1.07 mg/mL): a real SQLite
file, the stock taken from the salt's lot, the ledger exact."""

from __future__ import annotations

from sqlmodel import select

from mesomix.db.tables import BatchLineRow, MovementRow
from mesomix.domain.findings import Severity
from mesomix.services.uow import unit_of_work
from tests.factories import assert_ledger_exact, lot_row, mixture, receive

COPPER = "cupric_chloride_04mgml_10ml_vial"
SALINE = "sodium_chloride_09_10ml_vial"


def test_copper_is_planned_through_cupric_chloride(clinic):
    receive(clinic, COPPER, "CU0001", 2)
    plan = clinic.mixtures.check(mixture(("copper", "0.4 mg")), "sam")
    assert not plan.blocked, plan.findings
    (draw,) = plan.draws
    assert (draw.product.code, draw.volume_ul) == (COPPER, 1_000)
    said = {f.code: f for f in plan.findings}
    assert said["amount.as_salt"].severity is Severity.INFO
    assert "drawn as cupric chloride dihydrate" in said["amount.as_salt"].message


def test_a_dispense_of_copper_takes_stock_from_the_cupric_chloride_lot(clinic):
    lot = receive(clinic, COPPER, "CU0002", 2)
    receive(clinic, SALINE, "NS0001", 2)
    before = lot_row(clinic, lot).on_hand_ul
    result = clinic.mixtures.dispense(mixture(("copper", "0.4 mg"), final="5 mL"), "sam")
    assert lot_row(clinic, lot).on_hand_ul == before - 10_000  # one single-dose vial opened
    with unit_of_work(clinic.engine) as session:
        lines = session.exec(
            select(BatchLineRow).where(BatchLineRow.batch_id == result.batch_id)
        ).all()
        taken = session.exec(
            select(MovementRow).where(MovementRow.lot_id == lot, MovementRow.batch_id.is_not(None))
        ).all()
    copper = next(line for line in lines if line.product_code == COPPER)
    assert copper.volume_ul == 1_000 and copper.delivered == {
        "cupric_chloride_dihydrate": "1.07 mg"
    }
    assert sorted((m.kind, m.quantity_ul) for m in taken) == [
        ("dispense", -1_000),
        ("waste", -9_000),
    ]
    assert_ledger_exact(clinic)


def test_the_element_s_dose_counts_what_the_salt_carries(clinic):
    """Magnesium typed by the element is drawn as magnesium sulfate; its total is the
    element's, not the salt's."""
    receive(clinic, "magnesium_sulfate_50pct_20ml_vial", "MG0001", 1)
    plan = clinic.mixtures.check(mixture(("magnesium", "49.3 mg")), "sam")
    (draw,) = plan.draws
    assert draw.product.code == "magnesium_sulfate_50pct_20ml_vial" and draw.volume_ul == 1_000
