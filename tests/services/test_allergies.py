"""Recording, coding and verifying allergies: practitioners only, nothing half-written."""

from __future__ import annotations

import pytest

from mesomix.domain.allergy import Allergy
from mesomix.services.errors import NotFound, PermissionDenied, ServiceError
from tests.factories import mixture, receive


def test_record_then_code_free_text_so_it_is_checked(clinic):
    allergy_id = clinic.allergies.record(
        "P-1", "drchen", Allergy(text="novocaine", verification="confirmed", criticality="high")
    )
    receive(clinic, "procain_steigerwald_1pct_5ml_amp", "PRO1", 5)
    plan = clinic.mixtures.check(mixture(("procaine", "20 mg")), "sam")
    assert {f.code for f in plan.findings} >= {"allergy.free_text_match"}
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
    clinic.allergies.set_verification(allergy_id, "drchen", "refuted")
    plan = clinic.mixtures.check(mixture(("procaine", "20 mg")), "sam")
    assert not [f for f in plan.findings if f.code.startswith("allergy.")]


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
        ("sulfite", "did you mean: Sulfites", ""),  # the group holding the word comes first
        ("sulphites", "did you mean: ", "Sulfites"),  # a word close to the group's name
        ("amide", "did you mean: Amide local anaesthetics", ""),
        ("xyzzy", "no substance or allergen group by that name", ""),
        ("   ", "", ""),
    ],
)
def test_what_a_typed_allergen_means_is_said_before_it_is_saved(clinic, typed, starts, holds):
    said = clinic.allergies.meaning(typed)
    assert said.startswith(starts) and holds in said
    assert (said == "") == (typed.strip() == "")
