"""'No known allergy', 'no known drug allergy', 'no known latex allergy': statements, not
allergens. Never matched against a mixture; set aside (kept, no longer current, audited) when a
real allergy of that kind is recorded."""

from __future__ import annotations

from sqlmodel import select

from mesomix.db.tables import AllergyRow
from mesomix.services.uow import unit_of_work
from tests.domain.test_fhir_examples import example
from tests.factories import audit_rows, mixture, receive

LATEX_VIAL = "sodium_chloride_09_10ml_vial_latex"


def for_p1(name: str) -> dict:
    return example(name) | {"patient": {"reference": "Patient/P-1"}}


def rows(clinic) -> dict[int, AllergyRow]:
    with unit_of_work(clinic.engine) as session:
        return {row.id: row for row in session.exec(select(AllergyRow))}


def allergy_findings(clinic, *ingredients, **draft):
    plan = clinic.mixtures.check(mixture(*ingredients, **draft), "sam")
    return [(f.code, f.severity.value) for f in plan.findings if f.code.startswith("allergy.")]


def with_latex_vial(clinic):
    receive(clinic, "lidocaine_2pct_5ml_amp", "LID1", 5)
    receive(clinic, LATEX_VIAL, "NACL1", 5)
    return allergy_findings(clinic, ("lidocaine", "20 mg"), final="5 mL", diluent=LATEX_VIAL)


def test_no_known_latex_allergy_never_matches_the_latex_stopper(clinic):
    (statement,) = clinic.allergies.import_fhir("P-1", "drchen", for_p1("nkla"))
    assert with_latex_vial(clinic) == []
    assert rows(clinic)[statement].clinical_status == "active"


def test_a_real_latex_allergy_sets_the_statement_aside_and_is_checked(clinic):
    (statement,) = clinic.allergies.import_fhir("P-1", "drchen", for_p1("nkla"))
    clinic.allergies.record_typed("P-1", "drchen", "penicillin")  # not latex: it stands
    assert rows(clinic)[statement].clinical_status == "active"
    latex = clinic.allergies.record_typed("P-1", "drchen", "latex", "confirmed", "high")
    kept = rows(clinic)[statement]
    assert kept.clinical_status == "inactive"  # set aside, not deleted
    assert "set aside on" in kept.note and "Natural rubber latex" in kept.note
    (aside,) = [r for r in audit_rows(clinic) if r.action == "allergy.set_aside"]
    assert aside.record_id == str(statement) and aside.new == {"clinical_status": "inactive"}
    assert ("allergy.direct_match", "block") in with_latex_vial(clinic)
    (entry,) = [
        e["resource"]
        for e in clinic.allergies.export_fhir("P-1", "drchen")["entry"]
        if e["resource"]["id"] == f"mesomix-allergy-{statement}"
    ]
    assert entry["clinicalStatus"]["coding"][0]["code"] == "inactive"
    assert entry["code"] == example("nkla")["code"] and entry["recorder"]
    assert latex != statement


def test_no_known_drug_allergy_stands_beside_a_food_allergy_not_a_drug_one(clinic):
    (nkda,) = clinic.allergies.import_fhir("P-1", "drchen", for_p1("nkda"))
    clinic.allergies.import_fhir("P-1", "drchen", for_p1("fishallergy"))  # food
    assert rows(clinic)[nkda].clinical_status == "active"
    clinic.allergies.import_fhir("P-1", "drchen", for_p1("medication"))  # penicillin G
    assert rows(clinic)[nkda].clinical_status == "inactive"


def test_no_known_allergy_is_set_aside_by_any_real_allergy(clinic):
    (nka,) = clinic.allergies.import_fhir("P-1", "drchen", for_p1("nka"))
    clinic.allergies.import_fhir("P-1", "drchen", for_p1("nkda"))  # a statement: it stands
    assert rows(clinic)[nka].clinical_status == "active"
    clinic.allergies.import_fhir("P-1", "drchen", for_p1("fishallergy"))
    assert rows(clinic)[nka].clinical_status == "inactive"


def test_typed_nkda_is_recorded_as_the_statement(clinic):
    assert clinic.allergies.meaning("NKDA") == (
        "means the statement 'No known drug allergy' (not an allergen)"
    )
    statement = clinic.allergies.record_typed("P-1", "drchen", "nkda", "confirmed")
    row = rows(clinic)[statement]
    assert [c["code"] for c in row.codings] == ["409137002"]
    assert row.text == "No known drug allergy" and row.substance_code is None
    assert allergy_findings(clinic, ("biotin", "5 mg")) == []


def test_a_statement_contradicted_when_recorded_is_set_aside_at_once(clinic):
    clinic.allergies.record_typed("P-1", "drchen", "procaine", "confirmed", "high")
    statement = clinic.allergies.record_typed("P-1", "drchen", "no known drug allergy")
    assert rows(clinic)[statement].clinical_status == "inactive"
