"""FHIR R4 AllergyIntolerance in and out: round trips, coding of free text, refusals with paths."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mesomix.domain.allergy import Allergy, Reaction
from mesomix.domain.fhir import FhirError, from_json, to_bundle, to_resource
from mesomix.reference import load_catalog

CATALOG = load_catalog()

ALLERGIES = [
    Allergy(id=1, substance="procaine_hcl", verification="confirmed", criticality="high", reactions=(Reaction("urticaria", "moderate"),), note="after dental block", recorded_on=date(2025, 3, 2)),
    Allergy(id=2, group="parabens", verification="unconfirmed", criticality="low", tolerated=("methylparaben",)),
    Allergy(id=3, text="penicillin", criticality="unable-to-assess"),
    Allergy(id=4, substance="hyaluronidase", verification="refuted", criticality="low", clinical_status="inactive"),
    Allergy(id=5, substance="cyanocobalamin", verification="entered-in-error"),
]  # fmt: skip


def test_round_trip_keeps_every_field():
    bundle = to_bundle(ALLERGIES, "P-1", CATALOG)
    back = [item.allergy for item in from_json(bundle, "P-1", CATALOG)]
    assert [a.__class__(**{**a.__dict__, "id": None}) for a in ALLERGIES] == back


def test_entered_in_error_has_no_clinical_status():
    resource = to_resource(ALLERGIES[4], "P-1", CATALOG)
    assert "clinicalStatus" not in resource
    assert resource["verificationStatus"]["coding"][0]["code"] == "entered-in-error"


def resource(**changes):
    base = to_resource(ALLERGIES[0], "P-1", CATALOG)
    base = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def test_free_text_naming_a_known_substance_is_coded():
    (item,) = from_json(resource(code={"text": "Lignocaine"}), "P-1", CATALOG)
    assert item.allergy.substance == "lidocaine_hcl"
    (item,) = from_json(
        resource(
            code={
                "coding": [
                    {"system": "http://snomed.info/sct", "code": "91936005", "display": "Parabens"}
                ]
            }
        ),
        "P-1",
        CATALOG,
    )
    assert item.allergy.group == "parabens"


def test_unknown_text_is_kept_as_not_coded():
    (item,) = from_json(resource(code={"text": "shellfish"}), "P-1", CATALOG)
    assert (item.allergy.substance, item.allergy.group, item.allergy.text) == (
        None,
        None,
        "shellfish",
    )


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ([], "one JSON object"),
        ({"resourceType": "Patient"}, "not an AllergyIntolerance"),
        ({"resourceType": "Bundle", "entry": []}, "holds no resources"),
        (
            resource(criticality="extreme"),
            "AllergyIntolerance.criticality: 'extreme' is not one of",
        ),
        (resource(clinicalStatus=None), "clinicalStatus: required unless entered in error (ait-1)"),
        (
            resource(verificationStatus={"coding": [{"code": "probably"}]}),
            "verificationStatus.coding[0].code: 'probably'",
        ),
        (resource(code=None), "code: required"),
        (
            resource(code={"coding": [{"system": "urn:mesomix:substance", "code": "unobtainium"}]}),
            "unknown substance 'unobtainium'",
        ),
        (resource(patient={"reference": "Patient/P-2"}), "'Patient/P-2' is not Patient/P-1"),
        (resource(reaction=[{"severity": "mild"}]), "reaction[0].manifestation: required"),
        (
            resource(reaction=[{"manifestation": [{"text": "rash"}], "severity": "fatal"}]),
            "severity: 'fatal'",
        ),
        (resource(recordedDate="yesterday"), "recordedDate: 'yesterday' is not a date"),
    ],
)
def test_invalid_resources_are_refused_with_the_path(data, says):
    with pytest.raises(FhirError) as refused:
        from_json(data, "P-1", CATALOG)
    assert says in str(refused.value)


def test_one_bad_resource_refuses_the_whole_bundle():
    bundle = to_bundle(ALLERGIES[:2], "P-1", CATALOG)
    bundle["entry"][1]["resource"]["criticality"] = "extreme"
    with pytest.raises(FhirError, match=r"Bundle\.entry\[1\]\.resource\.criticality"):
        from_json(bundle, "P-1", CATALOG)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "clinicalStatus",
    "verificationStatus",
    "criticality",
    "code",
    "patient",
    "reaction",
    "recordedDate",
    "note",
    "extension",
]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(FIELDS), json_values)
def test_any_value_in_any_field_is_read_or_refused_never_crashes(field_name, value):
    data = resource(**{field_name: value})
    try:
        from_json(data, "P-1", CATALOG)
    except FhirError as refused:
        assert refused.problems


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json_document_is_refused_cleanly(value):
    try:
        from_json(value, "P-1", CATALOG)
    except FhirError as refused:
        assert refused.problems


def test_an_ambiguous_name_stays_free_text():
    (item,) = from_json(resource(code={"text": "B12"}), "P-1", CATALOG)
    assert (item.allergy.substance, item.allergy.text) == (None, "B12")
