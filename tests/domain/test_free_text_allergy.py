"""Free-text allergies that very probably mean something in the syringe are checked as if coded.

An outside reviewer recorded "lidocain" (confirmed, high, anaphylaxis) as free text; lidocaine was
then dispensed on a WARNING. A free text that is, or nearly spells, a substance's name or synonym
or an allergen group's name is now read the way the allergy form's guess reads it, and checked
with the coded allergy's reach and tiers. Weak resemblances (a common word of many names, a prefix,
a known word of another meaning) are never read so. The shipped reference data is used.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from mesomix.domain.allergy import Allergy, allergen_guesses, likely_allergens
from mesomix.domain.checks import PatientFacts, check_mixture, substances_to_avoid
from mesomix.domain.findings import Severity
from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.domain.overrides import Override, unsigned_blocks
from mesomix.reference import load_catalog

CATALOG = load_catalog()
LIKELY = "allergy.free_text_likely_match"


def check(text_or_allergy, *ingredients, **draft):
    allergy = (
        text_or_allergy
        if isinstance(text_or_allergy, Allergy)
        else Allergy(id=1, text=text_or_allergy, verification="confirmed", criticality="high")
    )
    plan = check_mixture(
        DraftMixture(tuple(DraftIngredient(*i) for i in ingredients), patient="P-1", **draft),
        CATALOG,
        None,
        PatientFacts("P-1", "Patient", Decimal(70), (allergy,)),
    )
    return [f for f in plan.findings if f.code.startswith("allergy.")]


def read(text):
    return {likely.substance or likely.group for likely in likely_allergens(text, CATALOG)}


@pytest.mark.parametrize(
    ("text", "means"),
    [
        ("lidocain", {"lidocaine_hcl"}),  # the reviewer's typo
        ("Lidocain ", {"lidocaine_hcl"}),
        ("lignocain", {"lidocaine_hcl"}),
        ("xylocane", {"lidocaine_hcl"}),  # a brand the catalogue knows, misspelt
        ("lidocain hcl", {"lidocaine_hcl"}),  # the search's abbreviations hold
        ("prokaine", {"procaine_hcl"}),
        ("kybela", {"deoxycholic_acid"}),
        ("adrenalin", {"epinephrine"}),
        ("albumen", {"albumin_human"}),
        ("sulphites", {"sulfites"}),  # an allergen group's name, spelt the British way
        ("sulfite", {"sulfites"}),
        ("parabenes", {"parabens"}),
        ("ester local anesthetics", {"ester_local_anaesthetics"}),
        ("lidocain, prokaine", {"lidocaine_hcl", "procaine_hcl"}),  # each item of a list
        ("lidocain and penicillin", {"lidocaine_hcl"}),
        ("lidocain (anaphylaxis 2019)", {"lidocaine_hcl"}),
        ("b12", {"cyanocobalamin", "hydroxocobalamin"}),  # never coded, but both are B12
    ],
)
def test_what_a_free_text_very_probably_means(text, means):
    assert read(text) == means


@pytest.mark.parametrize(
    "text",
    [
        "penicillin",
        "nuts",
        "bee stings",
        "peanut",  # a trigger word of the soy group: a caution, not soy itself
        "sulfa",  # sulfonamides, not sulfites or sulfates
        "sulfate",  # a word of known names: not read as a misspelling of sulfites
        "prilocaine",  # an amide mesomix knows: not a misspelling of procaine
        "lido",  # a prefix is a hint while typing, not a meaning
        "acid",  # one word of many names
        "alcohol",
        "human",
        "vitamin",
        "epi pen",  # a word among other words never counts alone
        "tap water",
        "",
        "   ",
    ],
)
def test_weak_resemblances_mean_nothing(text):
    assert read(text) == set()


def test_the_reviewers_case_blocks_and_a_practitioner_may_sign_it_off():
    found = check(
        Allergy(id=19, text="lidocain", verification="confirmed", criticality="high"),
        ("lidocaine", "20 mg"),
    )
    (block,) = [f for f in found if f.severity is Severity.BLOCK]
    assert block.code == LIKELY and block.overridable and block.ingredient == 0
    assert block.message.startswith(
        "allergy recorded as 'lidocain' (not coded) is probably lidocaine, which this mixture "
        "contains: Lidocaine hydrochloride in "
    )
    assert block.message.endswith("code the allergy, or a practitioner overrides")
    assert [f.code for f in found if f.severity is Severity.WARN] == ["allergy.not_coded"]
    signed = Override(block.key, "drchen", "allergy_entered_in_error", "typo for lidocaine")
    assert unsigned_blocks(found, [signed]) == []
    assert unsigned_blocks(found, []) == [block]


# (verification, criticality, clinical status) -> the tier a coded allergy gets, and so this one
TIERS = [
    ("confirmed", "high", "active", "block"),
    ("confirmed", "unable-to-assess", "active", "block"),
    ("confirmed", "low", "active", "warn"),
    ("unconfirmed", "high", "active", "warn"),
    ("unconfirmed", "unable-to-assess", "active", "warn"),
    ("refuted", "high", "active", None),
    ("entered-in-error", "high", "active", None),
    ("confirmed", "high", "inactive", None),
    ("confirmed", "high", "resolved", None),
]


@pytest.mark.parametrize(("verification", "criticality", "status", "tier"), TIERS)
@pytest.mark.parametrize(
    ("text", "coded", "ingredients"),
    [
        ("lidocain", {"substance": "lidocaine_hcl"}, (("lidocaine", "20 mg"),)),
        ("prokaine", {"substance": "procaine_hcl"}, (("procaine", "20 mg"),)),
        ("copper", {"substance": "copper"}, (("cupric_chloride_04mgml_10ml_vial", "1 mL"),)),
        ("sulphites", {"group": "sulfites"}, (("xylocaine_mpf_1pct_epi200k_30ml_sdv", "2 mL"),)),
        ("parabenes", {"group": "parabens"}, (("hydroxocobalamin_1000mcg_30ml_mdv", "1 mL"),)),
    ],
)
def test_free_text_gets_the_tiers_and_reach_of_the_allergy_it_means(
    text, coded, ingredients, verification, criticality, status, tier
):
    facts = {"verification": verification, "criticality": criticality, "clinical_status": status}
    as_text = check(Allergy(id=1, text=text, **facts), *ingredients)
    as_coded = check(Allergy(id=1, **coded, **facts), *ingredients)
    likely = [(f.subject, f.ingredient, f.severity.value) for f in as_text if f.code == LIKELY]
    matched = [
        (f.subject, f.ingredient, f.severity.value)
        for f in as_coded
        if f.code in ("allergy.direct_match", "allergy.group_match")
    ]
    assert likely == matched
    assert (tier in {s for *_, s in likely}) if tier else likely == []
    assert all(f.overridable == (f.severity is Severity.BLOCK) for f in as_text)


def test_substances_tolerated_before_raise_nothing():
    allergy = Allergy(
        id=1,
        text="lidocain",
        verification="confirmed",
        criticality="high",
        tolerated=("lidocaine_hcl",),
    )
    assert [f.code for f in check(allergy, ("lidocaine", "20 mg"))] == ["allergy.not_coded"]


def test_what_resembles_nothing_in_the_syringe_keeps_the_warning_alone():
    (only,) = check("prokaine", ("lidocaine", "20 mg"))
    assert only.code == "allergy.not_coded" and only.severity is Severity.WARN
    assert "'prokaine' is not coded (probably procaine)" in only.message
    (only,) = check("penicillin", ("lidocaine", "20 mg"))
    assert "'penicillin' matches nothing mesomix knows" in only.message


def test_a_name_among_other_words_still_warns_as_before():
    found = check("reacts to lidocaine with epi pen", ("lidocaine", "20 mg"))
    assert {(f.code, f.severity.value) for f in found} == {
        ("allergy.free_text_match", "warn"),
        ("allergy.not_coded", "warn"),
    }


def test_the_planner_steers_away_from_what_the_text_probably_means():
    patient = PatientFacts(
        "P-1", "Patient", None, (Allergy(id=1, text="parabenes", verification="confirmed"),)
    )
    assert {"methylparaben", "propylparaben"} <= substances_to_avoid(patient, CATALOG)


def test_the_allergy_form_leads_with_what_the_check_will_read():
    hits = [CATALOG.substances["zinc_sulfate_heptahydrate"].code]
    assert allergen_guesses("sulphites", CATALOG, hits)[0] == CATALOG.groups["sulfites"].name
    assert allergen_guesses("lidocain", CATALOG, [])[0].startswith("Lidocaine hydrochloride")
