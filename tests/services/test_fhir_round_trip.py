"""HL7's R4 AllergyIntolerance examples through the database: imported, stored as given, exported
back equal (but for the id mesomix gives), and with mesomix's own changes merged."""

from __future__ import annotations

from tests.domain.test_fhir_examples import NAMES, SET_BY_MESOMIX, example, patient_of, without
from tests.factories import audit_rows


def add_hl7_patients(clinic) -> None:
    clinic.people.add_patient("drchen", "example", "Peter Chalmers")
    clinic.people.add_patient("drchen", "mom", "Mother of Peter")


def test_every_hl7_example_survives_the_database_round_trip(clinic):
    add_hl7_patients(clinic)
    for name in NAMES:
        resource = example(name)
        clinic.allergies.import_fhir(patient_of(resource), "drchen", resource)
    for ref in ("example", "mom"):
        given = [
            without(example(n), SET_BY_MESOMIX) for n in NAMES if patient_of(example(n)) == ref
        ]
        bundle = clinic.allergies.export_fhir(ref, "drchen")
        assert [without(e["resource"], SET_BY_MESOMIX) for e in bundle["entry"]] == given


def test_a_refutal_in_mesomix_goes_out_with_everything_else_given(clinic):
    add_hl7_patients(clinic)
    (allergy_id,) = clinic.allergies.import_fhir("example", "drchen", example("example"))
    clinic.allergies.set_verification(allergy_id, "drchen", "refuted", "oral challenge passed")
    (entry,) = clinic.allergies.export_fhir("example", "drchen")["entry"]
    resource, given = entry["resource"], example("example")
    assert resource["verificationStatus"]["coding"] == [
        {"system": given["verificationStatus"]["coding"][0]["system"], "code": "refuted"}
    ]
    assert resource["note"][:-1] == given["note"]
    assert resource["note"][-1]["text"].endswith("oral challenge passed")
    for kept in ("identifier", "onsetDateTime", "recorder", "asserter", "lastOccurrence"):
        assert resource[kept] == given[kept]
    assert resource["reaction"] == given["reaction"] and resource["code"] == given["code"]
    assert resource["recordedDate"] == "2014-10-09T14:58:00+11:00"
    assert "text" not in resource  # the narrative said "confirmed"
    (row,) = [r for r in audit_rows(clinic) if r.action == "allergy.verify"]
    assert row.record_id == str(allergy_id)


def test_coding_an_imported_allergy_in_mesomix_keeps_the_words_and_codes_given(clinic):
    add_hl7_patients(clinic)
    given = example("fishallergy")
    (allergy_id,) = clinic.allergies.import_fhir("example", "drchen", given)
    clinic.allergies.code(allergy_id, "drchen", group="natural_rubber_latex")  # any group
    (entry,) = clinic.allergies.export_fhir("example", "drchen")["entry"]
    code = entry["resource"]["code"]
    assert code["text"] == given["code"]["text"]
    assert code["coding"][0] == given["code"]["coding"][0]
    assert code["coding"][1]["code"] == "natural_rubber_latex"
    assert entry["resource"]["note"] == [
        {"text": "coded from free text 'Allergic to fresh fish. Tolerates canned fish'"}
    ]
    assert entry["resource"]["identifier"] == given["identifier"]
