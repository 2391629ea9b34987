"""Recording, coding and verifying allergies: practitioners only, nothing half-written."""

from __future__ import annotations

import pytest

from mesomix.domain.allergy import Allergy
from mesomix.services.errors import NotFound, PermissionDenied, ServiceError
from tests.factories import audit_rows, mixture, receive


def test_record_then_code_free_text_so_it_is_checked(clinic):
    allergy_id = clinic.allergies.record(
        "P-1", "drchen", Allergy(text="novocaine", verification="confirmed", criticality="high")
    )
    receive(clinic, "procain_steigerwald_1pct_5ml_amp", "PRO1", 5)
    plan = clinic.mixtures.check(mixture(("procaine", "20 mg")), "sam")
    # "novocaine" is a synonym of procaine: checked as procaine, with its tier, until coded
    assert ("allergy.free_text_likely_match", "block") in {
        (f.code, f.severity.value) for f in plan.findings
    }
    clinic.allergies.code(allergy_id, "drchen", substance="procaine_hcl")
    plan = clinic.mixtures.check(mixture(("procaine", "20 mg")), "sam")
    assert ("allergy.direct_match", "block") in {(f.code, f.severity.value) for f in plan.findings}
    (patient,) = [p for p in clinic.people.patients("sam") if p.ref == "P-1"]
    assert "coded from free text 'novocaine'" in patient.allergies[0].note


def test_refuting_stops_the_alert(clinic):
    allergy_id = clinic.allergies.record(
        "P-1",
        "drchen",
        Allergy(substance="procaine_hcl", verification="confirmed", criticality="high"),
    )
    receive(clinic, "procain_steigerwald_1pct_5ml_amp", "PRO1", 5)
    clinic.allergies.set_verification(allergy_id, "drchen", "refuted", "tolerated it in 2026")
    plan = clinic.mixtures.check(mixture(("procaine", "20 mg")), "sam")
    assert not [f for f in plan.findings if f.code.startswith("allergy.")]


def _procaine(clinic, note: str = "") -> int:
    return clinic.allergies.record(
        "P-1",
        "drchen",
        Allergy(substance="procaine_hcl", verification="confirmed", criticality="high", note=note),
    )


def _only_allergy(clinic):
    (patient,) = [p for p in clinic.people.patients("sam") if p.ref == "P-1"]
    (allergy,) = patient.allergies
    return allergy


def test_a_refutal_keeps_its_reason_in_the_note_and_the_audit_row(clinic):
    allergy_id = _procaine(clinic, note="from the referral letter")
    clinic.allergies.set_verification(
        allergy_id, "drchen", "refuted", "  intradermal test negative, 2026-11  "
    )
    allergy = _only_allergy(clinic)
    assert allergy.verification == "refuted"
    assert allergy.note == (
        "from the referral letter\n"
        "refuted on 2026-11-24 by Dr Mei Chen: intradermal test negative, 2026-11"
    )
    (row,) = [row for row in audit_rows(clinic) if row.action == "allergy.verify"]
    assert row.reason == "intradermal test negative, 2026-11" and row.user_name == "drchen"
    assert (row.old, row.new) == ({"verification": "confirmed"}, {"verification": "refuted"})


def test_a_confirmation_may_say_how_and_need_not(clinic):
    allergy_id = clinic.allergies.record("P-1", "drchen", Allergy(substance="procaine_hcl"))
    clinic.allergies.set_verification(allergy_id, "drchen", "confirmed")
    assert _only_allergy(clinic).note == ""
    clinic.allergies.set_verification(allergy_id, "drchen", "unconfirmed", "asked again")
    clinic.allergies.set_verification(allergy_id, "drchen", "confirmed", "patch test positive")
    assert _only_allergy(clinic).note.splitlines() == [
        "unconfirmed on 2026-11-24 by Dr Mei Chen: asked again",
        "confirmed on 2026-11-24 by Dr Mei Chen: patch test positive",
    ]


@pytest.mark.parametrize(
    ("verification", "reason", "says"),
    [
        ("refuted", "", "refuting an allergy needs a few words"),
        ("refuted", "  no ", "refuting an allergy needs a few words"),
        ("refuted", "x" * 501, "at most 500 printable characters"),
        ("refuted", "tested\nnegative", "at most 500 printable characters on one line"),
        ("confirmed", "", "already confirmed: nothing changed"),
        ("refuted", "y" * 500, "note would pass 2000 characters"),
    ],
)
def test_a_verification_refused_writes_nothing(clinic, verification, reason, says):
    allergy_id = _procaine(clinic, note="n" * 1600)
    before = (_only_allergy(clinic), len(audit_rows(clinic)))
    with pytest.raises(ServiceError, match=says):
        clinic.allergies.set_verification(allergy_id, "drchen", verification, reason)
    assert (_only_allergy(clinic), len(audit_rows(clinic))) == before


@pytest.mark.parametrize(
    ("call", "error", "says"),
    [
        (
            lambda s: s.allergies.record("P-1", "sam", Allergy(substance="procaine_hcl")),
            PermissionDenied,
            "may not record allergies",
        ),
        (
            lambda s: s.allergies.record("P-1", "nadia", Allergy(substance="procaine_hcl")),
            PermissionDenied,
            "may not record allergies",
        ),
        (
            lambda s: s.allergies.record("P-404", "drchen", Allergy(substance="procaine_hcl")),
            NotFound,
            "no patient",
        ),
        (
            lambda s: s.allergies.record("P-1", "drchen", Allergy(substance="unobtainium")),
            ServiceError,
            "unknown substance",
        ),
        (
            lambda s: s.allergies.record(
                "P-1", "drchen", Allergy(substance="procaine_hcl", group="parabens")
            ),
            ServiceError,
            "exactly one",
        ),
        (
            lambda s: s.allergies.record("P-1", "drchen", Allergy(text="x" * 201)),
            ServiceError,
            "200 printable",
        ),
        (
            lambda s: s.allergies.record("P-1", "drchen", Allergy(text="nut\x00s")),
            ServiceError,
            "printable",
        ),
        (
            lambda s: s.allergies.record(
                "P-1", "drchen", Allergy(substance="procaine_hcl", criticality="extreme")
            ),
            ServiceError,
            "criticality 'extreme'",
        ),
        (
            lambda s: s.allergies.code(999, "drchen", group="parabens"),
            NotFound,
            "no allergy with id 999",
        ),
        (
            lambda s: s.allergies.set_verification(999, "drchen", "maybe"),
            ServiceError,
            "verification 'maybe'",
        ),
    ],
)
def test_refusals_write_nothing(clinic, call, error, says):
    with pytest.raises(error, match=says):
        call(clinic)
    (patient,) = [p for p in clinic.people.patients("sam") if p.ref == "P-1"]
    assert patient.allergies == ()


@pytest.mark.parametrize(
    ("typed", "starts", "holds"),
    [
        ("procaine", "means the substance Procaine hydrochloride", ""),
        ("parabens", "means the allergen group Parabens", ""),
        ("prokaine", "did you mean: Procaine hydrochloride", ""),  # a typo the search forgives
        ("lidocane", "did you mean: Lidocaine hydrochloride", ""),
        ("lidocain", "did you mean: Lidocaine hydrochloride", ""),  # the reviewer's typo
        ("sulfite", "did you mean: Sulfites", ""),  # the group holding the word comes first
        ("sulphites", "did you mean: ", "Sulfites"),  # a word close to the group's name
        ("amide", "did you mean: Amide local anaesthetics", ""),
        ("xyzzy", "no substance or allergen group by that name", ""),
        # a drug mesomix does not keep is not offered another one ("procaine" for prilocaine)
        (
            "prilocaine",
            "not a substance mesomix keeps; its data lists it with the allergen group "
            "Amide local anaesthetics",
            "",
        ),
        ("Bupivacaine", "not a substance mesomix keeps", "Amide local anaesthetics"),
        ("Articaine", "means the substance Articaine hydrochloride", ""),  # on the shelf now
        ("   ", "", ""),
    ],
)
def test_what_a_typed_allergen_means_is_said_before_it_is_saved(clinic, typed, starts, holds):
    said = clinic.allergies.meaning(typed)
    assert said.startswith(starts) and holds in said
    assert (said == "") == (typed.strip() == "")
