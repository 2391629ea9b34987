"""Reactions on SQLite and PostgreSQL: recorded by staff for a practitioner to confirm, corrected
by new versions (nothing deleted), refused with words and nothing written, traced through the
batch to its lots; two infections from one lot raise a signal naming the lot and the patients."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mesomix.db.tables import AllergyRow, AuditRow, ReactionRow, ReactionVersionRow
from mesomix.domain.course.plan import ZoneVolume
from mesomix.domain.reactions import ReactionError, ReactionKind, ReactionWords, Severity
from mesomix.services.errors import NotFound, PermissionDenied, ServiceError
from mesomix.services.reactions import ReactionRefused
from mesomix.services.uow import unit_of_work
from tests.factories import mixture, receive

B12 = "cyanocobalamin_1000mcg_1ml_vial"
NODULE = ReactionWords(
    kind="nodule",
    what="tender red nodule, 5 mm",
    onset="2 days after",
    zone="scalp",
    severity="moderate",
    serious="",
    treatment="warm compresses",
    outcome="recovering",
)
INFECTION = replace(NODULE, kind="infection", what="abscess at an injection point")


@pytest.fixture
def clinic(clinic_on_both):
    receive(clinic_on_both, B12, "B1", 10)
    receive(clinic_on_both, B12, "B2", 10, expires_in_days=400)
    return clinic_on_both


def dispensed(services, patient: str = "P-1") -> int:
    draft = mixture(("cyanocobalamin", "1000 mcg"), patient=patient)
    return services.mixtures.dispense(draft, "sam", acknowledge_all=True).batch_id


def counts(services) -> tuple[int, int]:
    with unit_of_work(services.engine) as session:
        return tuple(  # type: ignore[return-value]
            session.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for table in (ReactionRow, ReactionVersionRow)
        )


def test_staff_record_a_reaction_a_practitioner_confirms_it_and_nothing_is_lost(clinic):
    batch = dispensed(clinic)
    clinic.clock.advance(timedelta(days=3))
    recorded = clinic.reactions.record("sam", "P-1", batch, NODULE)
    assert (recorded.version, recorded.confirmed_by, recorded.recorded_by) == (1, "", "Sam Ortega")
    assert recorded.reaction.onset == clinic.clock.now() - timedelta(days=1)
    assert recorded.lots == (f"{B12} B1",)
    assert "NOT CONFIRMED" in recorded.said
    confirmed = clinic.reactions.confirm("drchen", recorded.id)
    assert (confirmed.version, confirmed.confirmed_by) == (2, "Dr Mei Chen")
    with pytest.raises(ReactionRefused, match="confirmed already"):
        clinic.reactions.confirm("drchen", recorded.id)
    corrected = clinic.reactions.correct(
        "sam", recorded.id, replace(NODULE, outcome="resolved"), "seen again: gone"
    )
    assert (corrected.version, corrected.confirmed_by, corrected.reason) == (
        3,
        "",
        "seen again: gone",
    )
    assert counts(clinic) == (1, 3)
    (listed,) = clinic.reactions.reactions("drchen", "P-1")
    assert listed.version == 3 and listed.reaction.outcome.value == "resolved"
    with unit_of_work(clinic.engine) as session:
        actions = (
            session.execute(sa.select(AuditRow.action).where(AuditRow.record_type == "reaction"))
            .scalars()
            .all()
        )
    assert actions == ["reaction.record", "reaction.version", "reaction.version"]


def test_a_practitioners_record_is_confirmed_and_a_correction_needs_its_reason(clinic):
    batch = dispensed(clinic)
    clinic.clock.advance(timedelta(days=3))
    recorded = clinic.reactions.record(
        "drchen", "P-1", batch, replace(NODULE, serious="medically important", severity="severe")
    )
    assert recorded.confirmed_by == "Dr Mei Chen"
    assert recorded.reaction.severity is Severity.SEVERE
    with pytest.raises(ReactionRefused, match="needs its reason"):
        clinic.reactions.correct("drchen", recorded.id, NODULE, "  ")
    assert counts(clinic) == (1, 1)


@pytest.mark.parametrize(
    ("batch_of", "patient", "words", "refusal", "said"),
    [
        (None, "P-1", NODULE, NotFound, "batch 999 does not exist"),
        ("P-2", "P-1", NODULE, ReactionRefused, "was not made for P-1"),
        ("P-1", "P-9", NODULE, NotFound, "no patient with reference 'P-9'"),
        ("P-1", "P-1", replace(NODULE, onset="2026-01-01"), ReactionError, "before the session"),
        ("P-1", "P-1", replace(NODULE, severity="awful"), ReactionError, "not one of: mild"),
        ("P-1", "P-1", replace(NODULE, onset="9 days after"), ReactionError, "in the future"),
    ],
)
def test_a_reaction_that_cannot_be_recorded_is_refused_and_nothing_written(
    clinic, batch_of, patient, words, refusal, said
):
    batch = dispensed(clinic, batch_of) if batch_of else 999
    clinic.clock.advance(timedelta(days=3))
    with pytest.raises(refusal) as refused:
        clinic.reactions.record("sam", patient, batch, words)
    assert said in str(refused.value)
    assert counts(clinic) == (0, 0)


def test_who_may_record_confirm_and_see_signals(clinic):
    batch = dispensed(clinic)
    clinic.clock.advance(timedelta(days=3))
    with pytest.raises(PermissionDenied):
        clinic.reactions.record("nadia", "P-1", batch, NODULE)
    recorded = clinic.reactions.record("sam", "P-1", batch, NODULE)
    with pytest.raises(PermissionDenied):
        clinic.reactions.confirm("sam", recorded.id)
    with pytest.raises(PermissionDenied):
        clinic.reactions.signals("sam")
    assert clinic.reactions.signals("nadia") == []


def test_two_infections_from_one_lot_raise_a_signal_naming_the_lot_and_the_patients(clinic):
    first, second = dispensed(clinic, "P-1"), dispensed(clinic, "P-2")
    clinic.clock.advance(timedelta(days=3))
    assert clinic.reactions.record("drchen", "P-1", first, INFECTION).signals == ()
    assert clinic.reactions.signals("nadia") == []
    completing = clinic.reactions.record("drchen", "P-2", second, replace(INFECTION, kind="nodule"))
    (said,) = completing.signals
    assert said.startswith("SIGNAL infections or nodules from one lot: 2 reactions")
    assert said.endswith("quarantine lot B1 and call its 2 patient(s)")
    (view,) = clinic.reactions.signals("nadia")
    signal = view.signal
    assert signal.product == B12
    assert {r.patient for r in signal.reactions} == {"P-1", "P-2"}
    assert {r.kind for r in signal.reactions} == {ReactionKind.INFECTION, ReactionKind.NODULE}
    assert "from lot B1 within 30 days" in signal.said
    assert view.proposal == "quarantine lot B1 and call its 2 patient(s)"
    assert view.patients == ("Amélie Laurent (P-1)", "[bold]Test[/] Markup (P-2)")
    assert [line.reactions for line in view.received] == [
        ("moderate infection",),
        ("moderate nodule",),
    ]
    clinic.inventory.set_status("nadia", signal.lot_id, "quarantined", "signal: two infections")
    (view,) = clinic.reactions.signals("drchen")
    assert view.proposal == "lot B1 is quarantined already"


PROCAINE = "procain_steigerwald_1pct_5ml_amp"
ALLERGIC = replace(NODULE, kind="allergic reaction", what="urticaria and itching", zone="")


def allergy_blocks(services, *ingredients: tuple[str, str]) -> bool:
    plan = services.mixtures.check(mixture(*ingredients, patient="P-1"), "sam")
    return any(f.severity.value == "block" and f.code.startswith("allergy") for f in plan.findings)


def test_an_allergic_reaction_becomes_a_confirmed_allergy_that_blocks_the_next_mixture(clinic):
    batch = dispensed(clinic)
    clinic.clock.advance(timedelta(days=3))
    assert not allergy_blocks(clinic, ("cyanocobalamin", "1000 mcg"))
    recorded = clinic.reactions.record("sam", "P-1", batch, ALLERGIC)
    assert recorded.proposed == ("cyanocobalamin",)
    with pytest.raises(PermissionDenied):
        clinic.allergies.decide_reaction("sam", recorded.id)
    (allergy,) = clinic.allergies.decide_reaction("drchen", recorded.id)
    assert allergy_blocks(clinic, ("cyanocobalamin", "1000 mcg"))
    (listed,) = clinic.reactions.reactions("drchen", "P-1")
    assert (listed.proposed, listed.allergy) == ((), "confirmed: cyanocobalamin")
    with unit_of_work(clinic.engine) as session:
        kept = session.get(AllergyRow, allergy)
        assert kept is not None and kept.substance_code == "cyanocobalamin"
        assert (kept.verification, kept.criticality) == ("confirmed", "high")
        assert kept.reactions[0]["manifestation"] == "urticaria and itching"
    with pytest.raises(ServiceError, match="decided already"):
        clinic.allergies.decide_reaction("drchen", recorded.id)


def test_the_allergy_is_narrowed_to_one_substance_or_declined_with_a_reason(clinic):
    receive(clinic, PROCAINE, "P1", 10)
    two = mixture(("cyanocobalamin", "1000 mcg"), ("procaine", "20 mg"), patient="P-1")
    batch = clinic.mixtures.dispense(two, "sam", acknowledge_all=True).batch_id
    clinic.clock.advance(timedelta(days=3))
    first = clinic.reactions.record("drchen", "P-1", batch, ALLERGIC)
    assert set(first.proposed) == {"cyanocobalamin", "procaine_hcl"}
    with pytest.raises(ServiceError, match="'lidocaine_hcl' is not in the batch"):
        clinic.allergies.decide_reaction("drchen", first.id, "lidocaine_hcl")
    clinic.allergies.decide_reaction("drchen", first.id, "procaine_hcl")
    assert allergy_blocks(clinic, ("procaine", "20 mg"))
    assert not allergy_blocks(clinic, ("cyanocobalamin", "1000 mcg"))
    second = clinic.reactions.record("drchen", "P-1", batch, ALLERGIC)
    assert (
        clinic.allergies.decide_reaction("drchen", second.id, decline="vasovagal, not allergy")
        == []
    )
    (latest, _) = clinic.reactions.reactions("drchen", "P-1")
    assert latest.allergy == "declined: vasovagal, not allergy"
    assert not allergy_blocks(clinic, ("cyanocobalamin", "1000 mcg"))


def test_a_reaction_that_is_not_allergic_proposes_no_allergy(clinic):
    batch = dispensed(clinic)
    clinic.clock.advance(timedelta(days=3))
    recorded = clinic.reactions.record("drchen", "P-1", batch, NODULE)
    assert recorded.proposed == ()
    with pytest.raises(ServiceError, match="proposes no allergy"):
        clinic.allergies.decide_reaction("drchen", recorded.id)


def _session_one(services) -> tuple[int, int]:
    """A consented hair course for P-1 with session 1 dispensed: (course, batch)."""
    receive(services, "sodium_chloride_09_10ml_vial", "NS1", 5)
    services.formulas.save(
        "drchen", "Hair B12", mixture(("cyanocobalamin", "1000 mcg"), final="2 mL"), "hair loss"
    )
    course = services.courses.plan(
        "drchen", "P-1", "hair", "hair_b12", (ZoneVolume("scalp", 2000),), services.clock.today()
    )
    text = services.courses.consent_text("drchen", course.id)
    services.courses.sign_consent("drchen", course.id, text, "explained; agreed")
    draft = services.courses.session_draft("sam", course.id)
    batch = services.mixtures.dispense(draft, "sam", acknowledge_all=True).batch_id
    return course.id, batch


def test_a_severe_reaction_after_a_session_pauses_its_course_until_a_practitioner_decides(clinic):
    course, batch = _session_one(clinic)
    clinic.clock.advance(timedelta(days=3))
    mild = clinic.reactions.record("sam", "P-1", batch, replace(NODULE, severity="mild"))
    assert mild.course == f"course {course}, session 1 (active)"
    severe = clinic.reactions.record("sam", "P-1", batch, replace(INFECTION, severity="severe"))
    assert severe.course == f"course {course}, session 1 (paused)"
    seen = clinic.courses.course("drchen", course)
    assert seen.status == "paused"
    assert f"paused by reaction {severe.id} (severe infection, recovering)" in seen.status_reason
    assert seen.reactions == (
        f"reaction {mild.id} after session 1: mild nodule, recovering (not confirmed)",
        f"reaction {severe.id} after session 1: severe infection, recovering (not confirmed)",
    )
    clinic.courses.resume("drchen", course, "infection treated; the patient wishes to go on")
    assert clinic.courses.course("drchen", course).status == "active"
    # Confirmed or reworded after the practitioner resumed it: the course stays as decided.
    clinic.reactions.confirm("drchen", severe.id)
    clinic.reactions.correct(
        "drchen", severe.id, replace(INFECTION, severity="severe", outcome="resolved"), "seen"
    )
    assert clinic.courses.course("drchen", course).status == "active"
    # A mild one that turns out severe pauses it again.
    clinic.reactions.correct("drchen", mild.id, replace(NODULE, severity="severe"), "it grew")
    assert clinic.courses.course("drchen", course).status == "paused"


def test_the_reactions_report_counts_them_by_kind_severity_product_lot_and_indication(clinic):
    first, second = dispensed(clinic, "P-1"), dispensed(clinic, "P-2")
    clinic.clock.advance(timedelta(days=3))
    clinic.reactions.record("drchen", "P-1", first, INFECTION)
    clinic.reactions.record("sam", "P-2", second, replace(INFECTION, severity="severe"))
    frame = clinic.reports.report("nadia", "reactions")
    rows = {
        (r.kind, r.severity, r.lot_number): (r.reactions, r.not_confirmed)
        for r in frame.itertuples()
    }
    assert rows == {("infection", "moderate", "B1"): (1, 0), ("infection", "severe", "B1"): (1, 1)}
    assert set(frame["indication"]) == {"(not said)"}
    clinic.clock.advance(timedelta(days=400))
    assert clinic.reports.report("nadia", "reactions").empty  # onsets before the 12 months
    with pytest.raises(PermissionDenied):
        clinic.reports.report("drchen", "reactions")


def test_the_vigilance_view_puts_each_lots_rate_beside_its_products_other_lots(clinic):
    first, second = dispensed(clinic, "P-1"), dispensed(clinic, "P-2")
    clinic.inventory.set_status("nadia", 1, "quarantined", "to draw from B2")
    for _ in range(4):
        dispensed(clinic, "P-1")
    clinic.clock.advance(timedelta(days=3))
    clinic.reactions.record("drchen", "P-1", first, INFECTION)
    clinic.reactions.record("drchen", "P-2", second, replace(INFECTION, kind="nodule"))
    frame = clinic.reports.report("nadia", "vigilance", product=B12)
    rows = {r.lot_number: r for r in frame.itertuples()}
    assert set(rows) == {"B1", "B2"} and frame["lot_number"].iloc[0] == "B1"
    b1, b2 = rows["B1"], rows["B2"]
    assert (b1.sessions, b1.reactions, b1.infection, b1.nodule) == (2, 2, 1, 1)
    assert (b1.rate_per_100, b1.other_lots_rate_per_100) == (100.0, 0.0)
    assert (b2.sessions, b2.reactions, b2.rate_per_100, b2.other_lots_rate_per_100) == (
        4,
        0,
        0,
        100,
    )
    assert clinic.reports.report("nadia", "vigilance", product="nothing_of_that_name").empty


def test_reactions_export_as_adverse_events_each_suspecting_its_lots(clinic):
    batch = dispensed(clinic)
    clinic.clock.advance(timedelta(days=3))
    clinic.reactions.record("drchen", "P-1", batch, replace(NODULE, outcome="not resolved"))
    (entry,) = clinic.reactions.export_fhir("sam", "P-1")["entry"]
    event = entry["resource"]
    assert event["seriousness"]["coding"][0]["code"] == "Non-serious"
    assert event["outcome"]["coding"][0]["code"] == "ongoing"
    assert event["location"] == {"display": "scalp"}
    (medication,) = event["contained"]
    assert medication["batch"]["lotNumber"] == "B1"
    assert event["suspectEntity"] == [{"instance": {"reference": f"#{medication['id']}"}}]
    with pytest.raises(PermissionDenied):
        clinic.reactions.export_fhir("nadia", "P-1")
