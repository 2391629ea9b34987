"""HL7's own R4 AllergyIntolerance examples: read, exported back as given, and checked by code."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from mesomix.domain.allergy import Allergy, sets_aside
from mesomix.domain.checks import PatientFacts, check_mixture
from mesomix.domain.fhir import from_json, to_bundle, to_resource
from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.reference import load_catalog

CATALOG = load_catalog()
EXAMPLES = Path(__file__).parents[1] / "fixtures" / "hl7_r4_allergyintolerance"
NAMES = ["example", "medication", "fishallergy", "nka", "nkda", "nkla"]
# What mesomix sets on the way out, legitimately: its own id for the resource. Nothing else.
SET_BY_MESOMIX = {"id"}


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"allergyintolerance-{name}.json").read_text(encoding="utf-8"))


def patient_of(resource: dict) -> str:
    return resource["patient"]["reference"].removeprefix("Patient/")


def imported(name: str, allergy_id: int = 7) -> Allergy:
    resource = example(name)
    (item,) = from_json(resource, patient_of(resource), CATALOG)
    return replace(item.allergy, id=allergy_id)


def without(resource: dict, keys: set[str]) -> dict:
    return {k: v for k, v in resource.items() if k not in keys}


@pytest.mark.parametrize("name", NAMES)
def test_an_hl7_example_comes_back_as_it_was_given(name):
    resource = example(name)
    back = to_resource(imported(name), patient_of(resource), CATALOG)
    assert without(back, SET_BY_MESOMIX) == without(resource, SET_BY_MESOMIX)
    assert back["id"] == "mesomix-allergy-7"


def test_a_bundle_of_examples_comes_back_whole():
    names = ["example", "medication", "fishallergy", "nkla"]  # the ones of Patient/example
    bundle = {"resourceType": "Bundle", "entry": [{"resource": example(n)} for n in names]}
    allergies = [
        replace(item.allergy, id=n) for n, item in enumerate(from_json(bundle, "example", CATALOG))
    ]
    back = to_bundle(allergies, "example", CATALOG)
    assert [without(e["resource"], SET_BY_MESOMIX) for e in back["entry"]] == [
        without(example(n), SET_BY_MESOMIX) for n in names
    ]


def test_the_words_given_are_the_words_shown():
    fish = imported("fishallergy")
    assert fish.text == "Allergic to fresh fish. Tolerates canned fish"
    assert fish.label(CATALOG) == "'Allergic to fresh fish. Tolerates canned fish'"
    assert [str(c) for c in fish.codings] == ["Fish - dietary (substance) (SNOMED CT 227037002)"]
    assert [r.manifestation for r in imported("example").reactions] == [
        "Anaphylactic reaction",
        "Urticaria",
    ]


def test_mesomix_changes_are_merged_into_what_was_given():
    """Refuted here, with a reason added to the note: the new status and the new note go out,
    everything else as received; the narrative, which would still say confirmed, goes."""
    cashew = imported("example")
    changed = replace(
        cashew,
        verification="refuted",
        note=cashew.note + "\nrefuted on 2026-12-05 by Dr Demo: oral challenge passed",
    )
    back = to_resource(changed, "example", CATALOG)
    given = example("example")
    assert back["verificationStatus"]["coding"][0]["code"] == "refuted"
    assert back["clinicalStatus"] == given["clinicalStatus"]
    assert back["note"] == [
        *given["note"],
        {"text": "refuted on 2026-12-05 by Dr Demo: oral challenge passed"},
    ]
    assert "text" not in back
    untouched = set(given) - {"id", "verificationStatus", "note", "text"}
    assert {k: back[k] for k in untouched} == {k: given[k] for k in untouched}


def test_a_code_added_in_mesomix_goes_beside_the_codes_given():
    fish = imported("fishallergy")
    coded = replace(fish, group="natural_rubber_latex", text="")  # any code, to see the merge
    code = to_resource(coded, "example", CATALOG)["code"]
    assert code["text"] == "Allergic to fresh fish. Tolerates canned fish"
    assert code["coding"] == [
        example("fishallergy")["code"]["coding"][0],
        {
            "system": "urn:mesomix:allergen-group",
            "code": "natural_rubber_latex",
            "display": "Natural rubber latex",
        },
    ]


def test_category_is_what_was_given_or_what_the_allergen_is():
    assert to_resource(imported("fishallergy"), "example", CATALOG)["category"] == ["food"]
    own = to_resource(Allergy(id=1, substance="lidocaine_hcl"), "P-1", CATALOG)
    assert own["category"] == ["medication"]
    latex = to_resource(Allergy(id=2, group="natural_rubber_latex"), "P-1", CATALOG)
    assert latex["category"] == ["environment"]
    assert "category" not in to_resource(Allergy(id=3, text="shellfish"), "P-1", CATALOG)


def findings(allergy: Allergy, ingredients, **draft):
    plan = check_mixture(
        DraftMixture(tuple(DraftIngredient(*i) for i in ingredients), patient="P-1", **draft),
        CATALOG,
        None,
        PatientFacts("P-1", "Patient", None, (allergy,)),
    )
    return [f for f in plan.findings if f.code.startswith("allergy.")]


# ---------------------------------------------------------------- "no known allergy" statements

LIDOCAINE_WITH_LATEX_VIAL = dict(
    ingredients=[("lidocaine", "20 mg")],
    final_volume="5 mL",
    diluent="sodium_chloride_09_10ml_vial_latex",
)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("nka", "No known allergy"),
        ("nkda", "No known drug allergy"),
        ("nkla", "No known latex allergy"),
    ],
)
def test_a_no_known_allergy_is_a_statement_never_an_allergen(name, words):
    statement = imported(name)
    assert statement.no_known(CATALOG) is not None
    assert statement.label(CATALOG) == words
    assert findings(statement, **LIDOCAINE_WITH_LATEX_VIAL) == []


def test_the_latex_vial_still_warns_on_a_real_latex_allergy():
    latex = Allergy(id=1, text="latex", verification="unconfirmed")
    assert findings(latex, **LIDOCAINE_WITH_LATEX_VIAL)


@pytest.mark.parametrize(
    ("statement", "allergy", "set_aside"),
    [
        ("nka", "fishallergy", True),  # any real allergy
        ("nkda", "medication", True),  # penicillin, category medication
        ("nkda", "fishallergy", False),  # food is not a drug allergy
        ("nkda", "nka", False),  # a statement does not set aside a statement
        ("nkla", "medication", False),  # penicillin is not latex
    ],
)
def test_which_real_allergy_sets_a_statement_aside(statement, allergy, set_aside):
    said = imported(statement).no_known(CATALOG)
    assert sets_aside(said, imported(allergy), CATALOG) is set_aside


@pytest.mark.parametrize(
    ("allergy", "set_aside"),
    [
        (Allergy(substance="natural_rubber_latex"), True),
        (Allergy(text="rubber gloves"), True),  # free text that concerns latex
        (Allergy(substance="lidocaine_hcl"), False),
        (Allergy(text="latex", verification="refuted"), False),  # refuted: not a real allergy
    ],
)
def test_no_known_latex_allergy_is_set_aside_by_latex_only(allergy, set_aside):
    assert sets_aside(imported("nkla").no_known(CATALOG), allergy, CATALOG) is set_aside


def test_no_known_drug_allergy_is_set_aside_by_free_text_of_unknown_kind():
    """'penicillin' typed here may be a drug allergy: the assurance cannot stand beside it."""
    nkda = imported("nkda").no_known(CATALOG)
    assert sets_aside(nkda, Allergy(text="penicillin"), CATALOG)
    assert not sets_aside(nkda, Allergy(group="natural_rubber_latex"), CATALOG)


# ---------------------------------------------------------------------- matched by code


def test_an_allergy_coded_in_snomed_ct_is_matched_by_its_code():
    resource = example("fishallergy") | {
        "code": {
            "coding": [{"system": "http://snomed.info/sct", "code": "387480006"}],
            "text": "Xylo (as the other clinic wrote it)",
        }
    }
    (item,) = from_json(resource, "example", CATALOG)
    assert item.allergy.substance == "lidocaine_hcl"
    (found,) = findings(item.allergy, [("lidocaine", "20 mg")])
    assert (found.code, found.severity.value) == ("allergy.direct_match", "block")


def test_a_free_text_allergy_with_a_known_code_is_checked_by_that_code():
    """Stored as text (recorded before mesomix knew the code): the code still matches."""
    from mesomix.domain.catalog import RXNORM, Coding

    allergy = Allergy(id=1, text="Xylo", verification="confirmed", criticality="high",
                      codings=(Coding(RXNORM, "6387", "lidocaine"),))  # fmt: skip
    (found,) = findings(allergy, [("lidocaine", "20 mg")])
    assert (found.code, found.severity.value) == ("allergy.direct_match", "block")


@pytest.mark.parametrize("name", ["medication", "example"])
def test_a_code_known_to_relate_to_nothing_held_is_a_note(name):
    """Penicillin G (RxNorm 7980) and cashew nuts (SNOMED CT 227493005) on plain lidocaine."""
    (found,) = findings(imported(name), [("lidocaine", "20 mg")])
    assert (found.code, found.severity.value) == ("allergy.unrelated_code", "info")
    assert "nothing in this mixture relates to it" in found.message


def test_an_uncoded_or_unknown_code_allergy_still_warns():
    """Words alone, or a code mesomix does not know (fish): the cautious 'not coded' warning."""
    for allergy in (imported("fishallergy"), Allergy(id=2, text="shellfish")):
        severities = {
            (f.code, f.severity.value) for f in findings(allergy, [("lidocaine", "20 mg")])
        }
        assert ("allergy.not_coded", "warn") in severities


def test_words_that_match_the_syringe_still_warn_whatever_the_code():
    from mesomix.domain.catalog import RXNORM, Coding

    allergy = Allergy(id=1, text="penicillin and lidocaine", codings=(Coding(RXNORM, "7980"),))
    severities = {f.severity.value for f in findings(allergy, [("lidocaine", "20 mg")])}
    assert "info" not in severities and severities & {"warn", "block"}


def test_elements_mesomix_has_never_heard_of_come_back_too():
    resource = example("fishallergy") | {
        "encounter": {"reference": "Encounter/1"},
        "onsetAge": {"value": 12, "unit": "a", "system": "http://unitsofmeasure.org"},
        "_recordedDate": {"extension": [{"url": "http://example.org/x", "valueString": "y"}]},
        "extension": [{"url": "http://example.org/other", "valueBoolean": True}],
    }
    (item,) = from_json(resource, "example", CATALOG)
    back = to_resource(replace(item.allergy, id=3), "example", CATALOG)
    assert without(back, SET_BY_MESOMIX) == without(resource, SET_BY_MESOMIX)
