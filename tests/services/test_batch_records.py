"""What a patient's history and a label say of a batch: the ingredients typed (no blank rows) and
every block signed off to make it — which finding, who signed, the coded reason and why."""

from __future__ import annotations

import sqlalchemy as sa

from mesomix.db.tables import BatchRow
from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.services.labels import OVERRIDDEN, SignedOff, with_overrides
from mesomix.services.mixtures import Signature
from mesomix.services.people import contents
from mesomix.services.uow import unit_of_work
from tests.factories import PASSWORD, add_allergy, mixture, receive

PROCAINE = "procain_steigerwald_1pct_5ml_amp"
B12 = "cyanocobalamin_1000mcg_1ml_vial"
WHY = "had procaine in 2024 without any reaction at all, says the referral letter of Dr Okafor"


def overridden_batch(clinic) -> int:
    """A procaine mixture for P-1, whose confirmed high-criticality procaine allergy blocks it,
    dispensed on Dr Chen's signature."""
    add_allergy(
        clinic, "P-1", substance_code="procaine_hcl", verification="confirmed", criticality="high"
    )
    receive(clinic, PROCAINE, "PRO1", 10)
    plan = clinic.mixtures.check(mixture(("procaine", "20 mg")), "sam")
    (block,) = [f for f in plan.findings if f.severity.value == "block"]
    signature = Signature(block.key, "drchen", PASSWORD, "tolerated_before", WHY)
    return clinic.mixtures.dispense(mixture(("procaine", "20 mg")), "sam", [signature]).batch_id


def test_the_label_names_the_block_signed_off_who_signed_and_why(clinic):
    batch_id = overridden_batch(clinic)
    text = clinic.labels.label("sam", batch_id).text
    lines = text.splitlines()
    at = lines.index(f"{OVERRIDDEN}: allergy to Procaine hydrochloride")
    said = " ".join(line.strip() for line in lines[at + 1 : at + 3])
    assert said == f"signed by Dr Mei Chen (tolerated before): {WHY}"
    assert lines[at + 3].startswith("USE BY")  # above the date, below the contents
    assert all(len(line) <= 80 for line in lines[at : at + 3])  # wrapped at 80 columns
    with unit_of_work(clinic.engine) as session:
        assert session.get(BatchRow, batch_id).label == text  # printed so when dispensed


def test_the_history_says_the_same(clinic):
    batch_id = overridden_batch(clinic)
    (batch,) = clinic.people.history("drchen", "P-1")
    (signed,) = batch.overridden
    assert batch.batch_id == batch_id
    assert (signed.head, signed.signed_by, signed.reason, signed.why) == (
        "allergy to Procaine hydrochloride",
        "Dr Mei Chen",
        "tolerated before",
        WHY,
    )
    assert f"{OVERRIDDEN}: allergy to Procaine hydrochloride" in batch.label


def test_a_label_kept_from_before_gets_its_overrides_from_the_record(clinic):
    batch_id = overridden_batch(clinic)
    lines = clinic.labels.label("sam", batch_id).text.splitlines()
    start = lines.index(f"{OVERRIDDEN}: allergy to Procaine hydrochloride")
    end = next(i for i, line in enumerate(lines) if line.startswith("USE BY"))
    before = [*lines[:start], *lines[end:]]  # as labels were printed before they named overrides
    with unit_of_work(clinic.engine, write=True) as session:
        session.execute(
            sa.update(BatchRow).where(BatchRow.id == batch_id).values(label="\n".join(before))
        )
    assert clinic.labels.label("sam", batch_id).text.splitlines() == lines
    (history,) = clinic.people.history("sam", "P-1")
    assert history.label.splitlines() == lines


def test_a_batch_without_overrides_says_none(clinic):
    receive(clinic, B12, "B1", 5)
    result = clinic.mixtures.dispense(mixture(("cyanocobalamin", "500 mcg")), "sam")
    (batch,) = clinic.people.history("sam", "P-1")
    assert batch.overridden == () and batch.label == result.label
    assert OVERRIDDEN not in result.label


def test_blank_ingredient_rows_are_not_in_the_history(clinic):
    """Compose sends the rows left empty too; the history lists what was typed."""
    receive(clinic, B12, "B1", 5)
    draft = DraftMixture(
        ingredients=(
            DraftIngredient("", ""),
            DraftIngredient("cyanocobalamin", "500 mcg"),
            DraftIngredient("  ", " "),
        ),
        final_volume="",
        patient="P-1",
    )
    clinic.mixtures.dispense(draft, "sam")
    (batch,) = clinic.people.history("sam", "P-1")
    assert batch.contents == "cyanocobalamin 500 mcg"


def test_contents_of_a_draft_as_stored():
    assert contents({"ingredients": []}) == ""
    assert contents({}) == ""
    stored = [
        {"what": "lidocaine", "amount": "20 mg"},
        {"what": "", "amount": ""},
        {"what": None, "amount": None},
        {"what": "biotin", "amount": ""},
    ]
    assert contents({"ingredients": stored}) == "lidocaine 20 mg + biotin"


def test_a_label_that_names_its_overrides_is_left_as_printed():
    signed = [SignedOff("dose of X: too much", "Dr A", "dose_clinically_justified", "weighed")]
    printed = f"P (P-1)\n{OVERRIDDEN}: dose of X\n  signed by Dr A\nUSE BY 2026\nMade by S"
    assert with_overrides(printed, signed) == printed
    assert with_overrides("P (P-1)\nUSE BY 2026", []) == "P (P-1)\nUSE BY 2026"
    assert with_overrides("P (P-1)\nUSE BY 2026", signed).splitlines() == [
        "P (P-1)",
        f"{OVERRIDDEN}: dose of X",
        "  signed by Dr A (dose clinically justified): weighed",
        "USE BY 2026",
    ]
