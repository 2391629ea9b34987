"""Allergies from other systems checked by their code: a code mesomix holds is matched as that
substance; a code known to relate to nothing mesomix holds is a note; anything else keeps the
cautious 'not coded' warning."""

from __future__ import annotations

from tests.domain.test_fhir_examples import example
from tests.factories import mixture, receive


def for_p1(name: str, **changes) -> dict:
    return example(name) | {"patient": {"reference": "Patient/P-1"}} | changes


def allergy_findings(clinic):
    receive(clinic, "lidocaine_2pct_5ml_amp", "LID1", 5)
    plan = clinic.mixtures.check(mixture(("lidocaine", "20 mg")), "sam")
    return [(f.code, f.severity.value) for f in plan.findings if f.code.startswith("allergy.")]


def test_penicillin_and_cashew_on_plain_lidocaine_are_notes_not_warnings(clinic):
    clinic.allergies.import_fhir("P-1", "drchen", for_p1("medication"))
    clinic.allergies.import_fhir("P-1", "drchen", for_p1("example"))
    assert allergy_findings(clinic) == [
        ("allergy.unrelated_code", "info"),
        ("allergy.unrelated_code", "info"),
    ]


def test_fish_whose_code_mesomix_does_not_know_still_warns(clinic):
    clinic.allergies.import_fhir("P-1", "drchen", for_p1("fishallergy"))
    assert allergy_findings(clinic) == [("allergy.not_coded", "warn")]


def test_an_allergy_coded_in_rxnorm_is_matched_by_its_code(clinic):
    coded = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "6387"}]}
    (allergy_id,) = clinic.allergies.import_fhir("P-1", "drchen", for_p1("nka", code=coded))
    assert allergy_findings(clinic) == [("allergy.direct_match", "block")]  # confirmed, unassessed
    (patient,) = [p for p in clinic.people.patients("sam") if p.ref == "P-1"]
    assert (
        patient.allergies[0].substance == "lidocaine_hcl" and patient.allergies[0].id == allergy_id
    )
