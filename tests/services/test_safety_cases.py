"""Safety in the dispense service, table-driven: lots that must never be used, beyond-use dates,
and overrides signed (or not) by each role. Real SQLite files; nothing mocked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from mesomix.db.tables import BatchRow, OverrideRow
from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.services.errors import PermissionDenied, ServiceError
from mesomix.services.mixtures import DispenseRefused, Signature
from mesomix.services.uow import unit_of_work
from tests.factories import PASSWORD, add_allergy, counts, mixture, receive, set_lot

B12 = "cyanocobalamin_1000mcg_1ml_vial"
B12_MDV = "cyanocobalamin_1000mcg_10ml_mdv"
PROCAINE = "procain_steigerwald_1pct_5ml_amp"
SALINE = "sodium_chloride_09_10ml_vial"


def draft(*items, final="", storage="room", category="category_1"):
    return DraftMixture(
        ingredients=tuple(DraftIngredient(w, a) for w, a in items),
        final_volume=final,
        patient="P-1",
        storage=storage,
        category=category,
    )


def codes(plan):
    return {(f.code, f.severity.value) for f in plan.findings}


# --- lots that must never be used -------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        ({"status": "recalled"}, "stock.insufficient"),
        ({"status": "quarantined"}, "stock.insufficient"),
        ({"expiry": datetime(2026, 11, 23).date()}, "stock.insufficient"),
    ],
)
def test_unusable_lots_are_refused_in_the_service(clinic, change, expect):
    lot = receive(clinic, B12, "L1", 5)
    set_lot(clinic, lot, **change)
    plan = clinic.mixtures.check(mixture(("cyanocobalamin", "500 mcg")), "sam")
    assert (expect, "block") in codes(plan)
    before = counts(clinic)
    with pytest.raises(DispenseRefused):
        clinic.mixtures.dispense(mixture(("cyanocobalamin", "500 mcg")), "sam")
    assert counts(clinic) == before


# --- beyond-use dates -------------------------------------------------------------------

BUD_CASES = [
    # (name, clock, storage, category, lot expiry in days, expected hours, rule words, warn)
    (
        "category 1 at room temperature: 12 h",
        datetime(2026, 11, 24, 9, tzinfo=UTC),
        "room",
        "category_1",
        300,
        12,
        "category 1 at room temperature: 12 h",
        False,
    ),
    (
        "category 1 refrigerated: 24 h",
        datetime(2026, 11, 24, 9, tzinfo=UTC),
        "refrigerated",
        "category_1",
        300,
        24,
        "category 1 refrigerated: 24 h",
        False,
    ),
    (
        "immediate use: 4 h",
        datetime(2026, 11, 24, 9, tzinfo=UTC),
        "room",
        "immediate_use",
        300,
        4,
        "immediate use at room temperature: 4 h",
        False,
    ),
    (
        "a lot expiring tonight shortens it and warns",
        datetime(2026, 11, 24, 20, tzinfo=UTC),
        "room",
        "category_1",
        0,
        None,
        "expires 2026-11-24",
        True,
    ),
]


@pytest.mark.parametrize("case", BUD_CASES, ids=lambda c: c[0])
def test_beyond_use_dates(clinic, case):
    _, now, storage, category, expiry_days, hours, words, warns = case
    clinic.clock.current = now
    receive(clinic, B12, "L1", 5, expires_in_days=expiry_days)
    result = clinic.mixtures.dispense(
        draft(("cyanocobalamin", "500 mcg"), storage=storage, category=category),
        "sam",
        acknowledge_all=True,  # the lot's warning, read by the person dispensing
    )
    if hours is not None:
        assert result.beyond_use.at == now + timedelta(hours=hours)
    else:
        assert result.beyond_use.at == datetime(2026, 11, 24, 23, 59, 59, 999999, tzinfo=UTC)
    assert words in result.beyond_use.rule
    assert ("lot.expires_before_beyond_use", "warn") in codes(result.plan) if warns else True
    assert [f.code for f in result.acknowledged] == (
        ["lot.expires_before_beyond_use"] if warns else []
    )
    assert "USE BY" in result.label
    with unit_of_work(clinic.engine) as session:
        batch = session.exec(select(BatchRow)).one()
        assert (batch.beyond_use_at, batch.storage) == (result.beyond_use.at, storage)


def test_an_opened_vial_near_its_in_use_limit_sets_the_date(clinic):
    receive(clinic, B12_MDV, "MDV1", 1)
    clinic.mixtures.dispense(mixture(("cyanocobalamin", "500 mcg")), "sam")  # punctures the vial
    opened = clinic.clock.now()
    clinic.clock.advance(timedelta(days=27, hours=20))
    result = clinic.mixtures.dispense(mixture(("cyanocobalamin", "500 mcg")), "sam")
    assert result.beyond_use.at == opened + timedelta(days=28)
    assert "in use for 28 days" in result.beyond_use.binding().reason
    # The finding names the limit that set the date and counts the others (it is read on a
    # 24-row screen); the batch keeps every limit.
    (note,) = [f.message for f in result.plan.findings if f.code == "beyond_use.date"]
    assert "set by vial of lot MDV1 opened" in note and "+ 28 d (2 other limits are later)" in note
    rule = result.beyond_use.rule
    assert "category 1 at room temperature: 12 h" in rule and "lot MDV1 of" in rule


def test_unknown_category_or_storage_blocks(clinic):
    receive(clinic, B12, "L1", 5)
    plan = clinic.mixtures.check(draft(("cyanocobalamin", "500 mcg"), category="category_9"), "sam")
    assert ("beyond_use.unknown_category", "block") in codes(plan)
    plan = clinic.mixtures.check(draft(("cyanocobalamin", "500 mcg"), storage="freezer"), "sam")
    assert ("beyond_use.unknown_storage", "block") in codes(plan)


def test_check_shows_the_date_before_dispensing(clinic):
    receive(clinic, B12, "L1", 5)
    plan = clinic.mixtures.check(mixture(("cyanocobalamin", "500 mcg")), "sam")
    (shown,) = [f.message for f in plan.findings if f.code == "beyond_use.date"]
    assert "set by category 1 at room temperature: 12 h (1 other limit is later)" in shown


# --- overrides --------------------------------------------------------------------------


@pytest.fixture
def allergic(clinic):
    """P-1 has a confirmed, high-criticality procaine allergy; procaine is on the shelf."""
    add_allergy(
        clinic, "P-1", substance_code="procaine_hcl", verification="confirmed", criticality="high"
    )
    receive(clinic, PROCAINE, "PRO1", 10)
    return clinic


def blocking_key(services, item=("procaine", "20 mg")):
    plan = services.mixtures.check(mixture(item), "sam")
    (block,) = [f for f in plan.findings if f.severity.value == "block"]
    return block.key


def signature(
    key,
    who="drchen",
    password=PASSWORD,
    reason="tolerated_before",
    text="had procaine in 2024 without reaction",
):
    return Signature(key, who, password, reason, text)


def test_a_practitioner_signs_and_the_override_is_stored(allergic):
    key = blocking_key(allergic)
    result = allergic.mixtures.dispense(mixture(("procaine", "20 mg")), "sam", [signature(key)])
    with unit_of_work(allergic.engine) as session:
        (stored,) = session.exec(select(OverrideRow)).all()
    assert (stored.batch_id, stored.finding_key, stored.reason_code) == (
        result.batch_id,
        key,
        "tolerated_before",
    )
    assert (
        stored.finding_code == "allergy.direct_match"
        and "procaine" in stored.finding_message.lower()
    )
    assert stored.reason_text == "had procaine in 2024 without reaction"


@pytest.mark.parametrize(
    ("who", "password", "reason", "error", "says"),
    [
        (
            "sam",
            PASSWORD,
            "tolerated_before",
            PermissionDenied,
            "sam (staff) may not sign an override",
        ),
        (
            "nadia",
            PASSWORD,
            "tolerated_before",
            PermissionDenied,
            "nadia (manager) may not sign an override",
        ),
        (
            "drchen",
            "wrong password!",
            "tolerated_before",
            PermissionDenied,
            "signature of drchen was refused",
        ),
        ("nobody", PASSWORD, "tolerated_before", ServiceError, "no user named 'nobody'"),
        ("drchen", PASSWORD, "because", ServiceError, "unknown override reason 'because'"),
    ],
)
def test_overrides_by_each_role_and_bad_signatures_write_nothing(
    allergic, who, password, reason, error, says
):
    key = blocking_key(allergic)
    before = counts(allergic)
    with pytest.raises(error, match=says.replace("(", r"\(").replace(")", r"\)")):
        allergic.mixtures.dispense(
            mixture(("procaine", "20 mg")), "sam", [signature(key, who, password, reason)]
        )
    assert counts(allergic) == before


def test_an_override_does_not_carry_over_to_the_next_mixture(allergic):
    key = blocking_key(allergic)
    allergic.mixtures.dispense(mixture(("procaine", "20 mg")), "sam", [signature(key)])
    with pytest.raises(DispenseRefused, match="allergy to Procaine"):
        allergic.mixtures.dispense(mixture(("procaine", "20 mg")), "sam")


def test_some_findings_can_never_be_overridden(clinic):
    receive(clinic, B12, "L1", 1)
    plan = clinic.mixtures.check(mixture(("cyanocobalamin", "2000 mcg")), "sam")
    (block,) = [f for f in plan.findings if f.severity.value == "block"]
    assert block.code == "stock.insufficient" and not block.overridable
    with pytest.raises(ServiceError, match="can never be overridden"):
        clinic.mixtures.dispense(
            mixture(("cyanocobalamin", "2000 mcg")),
            "sam",
            [signature(block.key, reason="benefit_outweighs_risk")],
        )


def test_a_dose_over_the_limit_can_be_signed_off(clinic):
    receive(clinic, "lidocaine_2pct_5ml_amp", "LID1", 20)
    receive(clinic, SALINE, "NS1", 5)
    plan = clinic.mixtures.check(mixture(("lidocaine", "250 mg"), final="15 mL"), "sam")
    (block,) = [f for f in plan.findings if f.severity.value == "block"]
    assert block.code == "dose.over_maximum" and block.overridable
    result = clinic.mixtures.dispense(
        mixture(("lidocaine", "250 mg"), final="15 mL"),
        "sam",
        [
            signature(
                block.key,
                reason="dose_clinically_justified",
                text="large area, split over two sessions",
            )
        ],
    )
    assert result.batch_id


def test_a_signature_for_a_finding_that_is_not_there_is_refused(allergic):
    with pytest.raises(ServiceError, match=r"no blocking finding 'dose\.over_maximum/mix/x'"):
        allergic.mixtures.dispense(
            mixture(("procaine", "20 mg")), "sam", [signature("dose.over_maximum/mix/x")]
        )


def test_a_dose_signature_does_not_cover_a_larger_dose(clinic):
    receive(clinic, "lidocaine_2pct_5ml_amp", "LID1", 40)
    receive(clinic, SALINE, "NS1", 5)
    small = clinic.mixtures.check(mixture(("lidocaine", "210 mg"), final="15 mL"), "sam")
    (block,) = [f for f in small.findings if f.severity.value == "block"]
    before = counts(clinic)
    with pytest.raises(ServiceError, match="no blocking finding"):
        clinic.mixtures.dispense(
            mixture(("lidocaine", "1000 mg"), final="60 mL"),
            "sam",
            [signature(block.key, reason="dose_clinically_justified", text="signed for 210 mg")],
        )
    assert counts(clinic) == before


def test_the_label_shows_local_time_across_the_autumn_clock_change(clinic):
    from zoneinfo import ZoneInfo

    clinic.clock.zone = ZoneInfo("Europe/Paris")
    clinic.clock.current = datetime(2026, 10, 24, 18, 0, tzinfo=UTC)  # 20:00 summer time in Paris
    receive(clinic, B12, "L1", 5)
    result = clinic.mixtures.dispense(
        draft(("cyanocobalamin", "500 mcg"), storage="refrigerated"), "sam"
    )
    assert result.beyond_use.at == datetime(2026, 10, 25, 18, 0, tzinfo=UTC)
    assert "USE BY 2026-10-25 19:00" in result.label  # winter time again by then


# --- a misspelt free-text allergy (an outside reviewer's case) ---------------------------

DEMO_PRACTITIONER = ("drchen", "demo-practitioner-2026")  # data/demo/people.toml
LIKELY = "allergy.free_text_likely_match"


def test_a_misspelt_free_text_allergy_blocks_until_a_practitioner_signs(demo):
    """P-0019: "lidocain" recorded through the allergy form as the reviewer did (free text,
    confirmed, high, anaphylaxis), then lidocaine 20 mg, which was dispensed on a warning. Now
    the check blocks, dispensing is refused writing nothing, and a practitioner's signature lets
    it through, kept on the batch and named on its label."""
    from mesomix.domain.findings import Severity
    from tests.factories import snapshot

    hint = demo.allergies.meaning("lidocain")
    assert hint.startswith("did you mean: Lidocaine hydrochloride")
    demo.allergies.record_typed(
        "P-0019", "drchen", "lidocain", "confirmed", "high", "anaphylaxis", "severe"
    )
    (patient,) = [p for p in demo.people.patients("sam") if p.ref == "P-0019"]
    (allergy,) = patient.allergies
    assert (allergy.substance, allergy.group, allergy.text) == (None, None, "lidocain")

    draft_ = mixture(("lidocaine", "20 mg"), patient="P-0019")
    plan = demo.mixtures.check(draft_, "sam")
    (block,) = [f for f in plan.findings if f.severity is Severity.BLOCK]
    assert block.code == LIKELY and block.overridable
    assert (
        "allergy recorded as 'lidocain' (not coded) is probably lidocaine, which this mixture "
        "contains: Lidocaine hydrochloride in " in block.message
    )
    assert "code the allergy, or a practitioner overrides" in block.message

    before = snapshot(demo)
    with pytest.raises(DispenseRefused, match="is probably lidocaine") as refused:
        demo.mixtures.dispense(draft_, "sam")
    # The block, and the WARNING every free-text allergy gives, which the person dispensing
    # must acknowledge.
    (warning,) = [f for f in plan.findings if f.severity is Severity.WARN]
    assert [f.key for f in refused.value.unsigned] == [block.key, warning.key]
    assert snapshot(demo) == before
    with pytest.raises(PermissionDenied, match=r"sam \(staff\) may not sign an override"):
        demo.mixtures.dispense(
            draft_, "sam", [Signature(block.key, "sam", "demo-staff-2026", "x", "y")]
        )
    assert snapshot(demo) == before

    who, password = DEMO_PRACTITIONER
    why = "test dose given with resuscitation ready; no reaction"
    signed = Signature(block.key, who, password, "benefit_outweighs_risk", why)
    result = demo.mixtures.dispense(draft_, "sam", [signed], acknowledged=[warning.key])
    with unit_of_work(demo.engine) as session:
        (stored,) = session.exec(select(OverrideRow)).all()
    assert (stored.batch_id, stored.finding_key, stored.finding_code) == (
        result.batch_id,
        block.key,
        LIKELY,
    )
    assert (stored.finding_message, stored.reason_text) == (block.message, why)
    label = " ".join(result.label.split())
    assert (
        "OVERRIDDEN: allergy recorded as 'lidocain' (not coded) is probably lidocaine, which "
        "this mixture contains signed by Dr Mei Chen (benefit outweighs risk)" in label
    )


def test_a_refuted_free_text_allergy_no_longer_blocks_and_a_coded_one_still_does(clinic):
    receive(clinic, "lidocaine_2pct_5ml_amp", "LID1", 5)
    allergy_id = clinic.allergies.record_typed("P-1", "drchen", "lidocain", "confirmed", "high")
    item = ("lidocaine", "20 mg")
    assert (LIKELY, "block") in codes(clinic.mixtures.check(mixture(item), "sam"))
    clinic.allergies.set_verification(allergy_id, "drchen", "refuted", "challenge test negative")
    plan = clinic.mixtures.check(mixture(item), "sam")
    assert not [f for f in plan.findings if f.code.startswith("allergy.")]
    clinic.allergies.set_verification(allergy_id, "drchen", "confirmed", "reaction on re-test")
    clinic.allergies.code_typed(allergy_id, "drchen", "lidocaine")
    assert ("allergy.direct_match", "block") in codes(clinic.mixtures.check(mixture(item), "sam"))
    assert LIKELY not in {code for code, _ in codes(clinic.mixtures.check(mixture(item), "sam"))}
