"""A product whose label advises against diluting or mixing it (Kybella) drawn with anything
else is a BLOCK a practitioner may sign off; its dose limit is the label's per treatment. A real
SQLite file; the batch and its override read back."""

from __future__ import annotations

import pytest
from sqlmodel import select

from mesomix.db.tables import BatchLineRow, OverrideRow
from mesomix.domain.findings import Severity
from mesomix.services.mixtures import DispenseRefused, Signature
from mesomix.services.uow import unit_of_work
from tests.factories import PASSWORD, assert_ledger_exact, mixture, receive

KYBELLA = "kybella_2ml_vial"
AMPOULE = "lidocaine_2pct_2ml_amp"
SALINE = "sodium_chloride_09_10ml_vial"


@pytest.fixture
def shelf(clinic):
    receive(clinic, KYBELLA, "KB0001", 8)
    receive(clinic, AMPOULE, "LID001", 5)
    receive(clinic, SALINE, "NS0001", 2)
    return clinic


def admixture(plan):
    return [f for f in plan.findings if f.code == "product.not_for_admixture"]


def test_kybella_alone_raises_nothing_about_admixture(shelf):
    plan = shelf.mixtures.check(mixture(("deoxycholic acid", "20 mg")), "sam")
    assert admixture(plan) == [] and not plan.blocked, plan.findings


@pytest.mark.parametrize(
    "ingredients, final",
    [
        ((("deoxycholic acid", "20 mg"), ("lidocaine", "10 mg")), ""),  # mixed with lidocaine
        ((("deoxycholic acid", "20 mg"),), "4 mL"),  # diluted: the q.s. is another compound
    ],
)
def test_kybella_mixed_or_diluted_is_a_block_a_practitioner_may_sign(shelf, ingredients, final):
    plan = shelf.mixtures.check(mixture(*ingredients, final=final), "sam")
    (finding,) = admixture(plan)
    assert finding.severity is Severity.BLOCK and finding.overridable
    assert "Dilution or admixture with other compounds is not recommended" in finding.message
    assert finding.ingredient == 0


def test_a_signed_off_admixture_is_dispensed_and_the_override_kept(shelf):
    draft = mixture(("deoxycholic acid", "20 mg"), ("lidocaine", "10 mg"))
    with pytest.raises(DispenseRefused):
        shelf.mixtures.dispense(draft, "sam")
    (block,) = admixture(shelf.mixtures.check(draft, "sam"))
    signature = Signature(block.key, "drchen", PASSWORD, "benefit_outweighs_risk", "comfort")
    result = shelf.mixtures.dispense(draft, "sam", [signature])
    with unit_of_work(shelf.engine) as session:
        (kept,) = session.exec(select(OverrideRow).where(OverrideRow.batch_id == result.batch_id))
        codes = {
            line.product_code
            for line in session.exec(
                select(BatchLineRow).where(BatchLineRow.batch_id == result.batch_id)
            )
        }
    assert kept.finding_code == "product.not_for_admixture" and {KYBELLA, AMPOULE} <= codes
    assert "OVERRIDDEN" in result.label
    assert_ledger_exact(shelf)


def test_the_deoxycholic_acid_limit_is_the_label_s_10_mL_per_treatment_not_per_kg(shelf):
    """No weight is needed (1.7 mg/kg is not a dosing limit): 100 mg (10 mL) passes, 120 mg does not."""
    within = shelf.mixtures.check(mixture(("deoxycholic acid", "100 mg")), "sam")
    assert not [f for f in within.findings if f.code.startswith("dose.")], within.findings
    over = shelf.mixtures.check(mixture(("deoxycholic acid", "120 mg")), "sam")
    (dose,) = [f for f in over.findings if f.code.startswith("dose.")]
    assert dose.severity is Severity.BLOCK and "100 mg" in dose.message
