"""Clinical cases, table-driven: a patient, a mixture, and the findings (code and tier) expected.

The shipped reference data is used, as a clinic would. Each case names the allergen group or dose
limit it covers; `expect` lists (code, tier) pairs that must appear, `absent` codes that must not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from mesomix.domain.allergy import Allergy, Reaction
from mesomix.domain.checks import PatientFacts, check_mixture
from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.reference import load_catalog

CATALOG = load_catalog()
B, W, I = "block", "warn", "info"  # noqa: E741 - tiers read better short in a table


def confirmed_high(**kw):
    return Allergy(id=1, verification="confirmed", criticality="high", **kw)


@dataclass(frozen=True)
class Case:
    name: str
    ingredients: tuple[tuple[str, str], ...]
    allergies: tuple[Allergy, ...] = ()
    weight: str | None = "70"
    final: str = ""
    diluent: str | None = None
    expect: tuple[tuple[str, str], ...] = ()
    absent: tuple[str, ...] = ()
    says: tuple[str, ...] = field(default=())


ALLERGY_CASES = [
    Case(
        "ester: procaine allergy, procaine",
        (("procaine", "20 mg"),),
        (confirmed_high(substance="procaine_hcl"),),
        expect=(("allergy.direct_match", B),),
        says=("is that substance", "confirmed and of high criticality"),
    ),
    Case(
        "ester: unconfirmed procaine allergy warns",
        (("procaine", "20 mg"),),
        (Allergy(id=1, substance="procaine_hcl", verification="unconfirmed", criticality="high"),),
        expect=(("allergy.direct_match", W),),
        says=("allergy is unconfirmed",),
    ),
    Case(
        "ester: low criticality warns",
        (("procaine", "20 mg"),),
        (Allergy(id=1, substance="procaine_hcl", verification="confirmed", criticality="low"),),
        expect=(("allergy.direct_match", W),),
        says=("criticality is low",),
    ),
    Case(
        "ester: unassessed criticality is taken as high",
        (("procaine", "20 mg"),),
        (
            Allergy(
                id=1,
                substance="procaine_hcl",
                verification="confirmed",
                criticality="unable-to-assess",
            ),
        ),
        expect=(("allergy.direct_match", B),),
        says=("could not be assessed",),
    ),
    Case(
        "ester group allergy, procaine is a member",
        (("procaine", "20 mg"),),
        (confirmed_high(group="ester_local_anaesthetics"),),
        expect=(("allergy.direct_match", B),),
        says=("belongs to that group",),
    ),
    Case(
        "amide and ester do not cross-react",
        (("lidocaine", "20 mg"),),
        (confirmed_high(substance="procaine_hcl"),),
        absent=("allergy.direct_match", "allergy.group_match"),
    ),
    Case(
        "amide group allergy, lidocaine",
        (("lidocaine", "20 mg"),),
        (confirmed_high(group="amide_local_anaesthetics"),),
        expect=(("allergy.direct_match", B),),
    ),
    Case(
        "paba: procaine releases PABA (listed in the group)",
        (("procaine", "20 mg"),),
        (confirmed_high(group="paba"),),
        expect=(("allergy.direct_match", B),),
    ),
    Case(
        "parabens cross-react with esters",
        (("procaine", "20 mg"),),
        (confirmed_high(group="parabens"),),
        expect=(("allergy.group_match", W),),
        says=("cross-sensitivity", "not the recorded allergen itself"),
    ),
    Case(
        "parabens: excipient of a lidocaine vial",
        (("xylocaine_1pct_20ml_mdv", "2 mL"),),
        (confirmed_high(group="parabens"),),
        expect=(("allergy.direct_match", B),),
        says=("excipient of",),
    ),
    Case(
        "parabens: a paraben-free lidocaine is chosen",
        (("lidocaine", "20 mg"),),
        (confirmed_high(group="parabens"),),
        absent=("allergy.direct_match", "allergy.group_match"),
    ),
    Case(
        "methylparaben allergy, propylparaben in the vial: same group",
        (("hydroxocobalamin_1000mcg_30ml_mdv", "1 mL"),),
        (confirmed_high(substance="methylparaben"),),
        expect=(("allergy.direct_match", B), ("allergy.group_match", W)),
    ),
    Case(
        "sulfites in lidocaine with epinephrine",
        (("xylocaine_mpf_1pct_epi200k_30ml_sdv", "2 mL"),),
        (confirmed_high(group="sulfites"),),
        expect=(("allergy.direct_match", B),),
    ),
    Case(
        "soy: free text 'peanut' and phosphatidylcholine",
        (("phosphonciale_mono_250mg_5ml_amp", "1 mL"),),
        (Allergy(id=1, text="peanut", verification="confirmed", criticality="high"),),
        expect=(("allergy.free_text_match", W),),
        says=("Soy",),
    ),
    Case(
        "soy group allergy and phosphatidylcholine",
        (("phosphatidylcholine", "50 mg"),),
        (confirmed_high(group="soy"),),
        expect=(("allergy.direct_match", B),),
    ),
    Case(
        "hymenoptera venom: 'bee sting' and hyaluronidase",
        (("hyaluronidase", "75 IU"),),
        (Allergy(id=1, text="bee sting", verification="confirmed", criticality="high"),),
        expect=(("allergy.free_text_match", W),),
    ),
    Case(
        "latex stopper",
        (("biotin", "0.5 mg"),) * 0 + (("tranexamic acid", "50 mg"),),
        (confirmed_high(substance="natural_rubber_latex"),),
        final="5 mL",
        diluent="sodium_chloride_09_10ml_vial_latex",
        expect=(("allergy.direct_match", B),),
        says=("excipient of Sodium chloride 0.9% 10 mL vial (latex stopper)",),
    ),
    Case(
        "benzyl alcohol in bacteriostatic saline",
        (("tranexamic acid", "50 mg"),),
        (confirmed_high(group="benzyl_alcohol"),),
        final="5 mL",
        diluent="bacteriostatic_sodium_chloride_09_30ml_mdv",
        expect=(("allergy.direct_match", B),),
    ),
    Case(
        "cobalamins: cyanocobalamin allergy, hydroxocobalamin",
        (("hydroxocobalamin", "500 mcg"),),
        (confirmed_high(substance="cyanocobalamin"),),
        expect=(("allergy.group_match", W),),
        says=("same group",),
    ),
    Case(
        "bile acids: deoxycholic acid",
        (("kybella_2ml_vial", "1 mL"),),
        (confirmed_high(group="bile_acids"),),
        expect=(("allergy.direct_match", B),),
    ),
    Case(
        "human albumin in Hylenex",
        (("hylenex_150u_1ml_vial", "0.5 mL"),),
        (confirmed_high(group="human_albumin"),),
        expect=(("allergy.direct_match", B),),
    ),
    Case(
        "thimerosal in Amphadase",
        (("amphadase_150u_1ml_vial", "0.5 mL"),),
        (confirmed_high(group="thimerosal"),),
        expect=(("allergy.direct_match", B),),
    ),
    Case(
        "thiamine",
        (("thiamine", "50 mg"),),
        (confirmed_high(group="thiamine"),),
        expect=(("allergy.direct_match", B),),
    ),
    Case(
        "gram-positive bacterial proteins and hyaluronic acid",
        (("profhilo_structura_2ml_syringe", "1 mL"),),
        (confirmed_high(group="gram_positive_bacterial_proteins"),),
        expect=(("allergy.direct_match", B),),
    ),
    Case(
        "salicylates: free text 'aspirin'",
        (("thiamine", "50 mg"),),
        (Allergy(id=1, text="aspirin"),),
        absent=("allergy.free_text_match",),
        expect=(),
    ),
    Case(
        "refuted allergy does not alert",
        (("procaine", "20 mg"),),
        (Allergy(id=1, substance="procaine_hcl", verification="refuted", criticality="high"),),
        absent=("allergy.direct_match",),
    ),
    Case(
        "entered in error does not alert",
        (("procaine", "20 mg"),),
        (
            Allergy(
                id=1, substance="procaine_hcl", verification="entered-in-error", criticality="high"
            ),
        ),
        absent=("allergy.direct_match",),
    ),
    Case(
        "resolved does not alert",
        (("procaine", "20 mg"),),
        (
            Allergy(
                id=1,
                substance="procaine_hcl",
                clinical_status="resolved",
                verification="confirmed",
                criticality="high",
            ),
        ),
        absent=("allergy.direct_match",),
    ),
    Case(
        "tolerated before does not alert",
        (("procaine", "20 mg"),),
        (confirmed_high(group="ester_local_anaesthetics", tolerated=("procaine_hcl",)),),
        absent=("allergy.direct_match", "allergy.group_match"),
    ),
    Case(
        "free text matching nothing is not coded",
        (("lidocaine", "20 mg"),),
        (Allergy(id=1, text="penicillin"),),
        expect=(("allergy.not_coded", W),),
        says=("code it",),
    ),
    Case(
        "metal: zinc sulfate allergy, a zinc product",
        (("zinc_sulfate_1mgml_10ml_pbp", "1 mL"),),
        (confirmed_high(substance="zinc_sulfate_heptahydrate"),),
        expect=(("allergy.direct_match", B),),
        says=("supplies Zinc",),
    ),
    Case(
        "metal: copper allergy, copper given as cupric chloride",
        (("cupric_chloride_04mgml_10ml_vial", "1 mL"),),
        (confirmed_high(substance="copper"),),
        expect=(("allergy.direct_match", B),),
    ),
    Case(
        "metal: free text 'copper' is checked as copper until coded",
        (("cupric_chloride_04mgml_10ml_vial", "1 mL"),),
        (Allergy(id=1, text="copper", verification="confirmed", criticality="high"),),
        expect=(("allergy.free_text_likely_match", B), ("allergy.not_coded", W)),
        says=("which supplies Copper",),
    ),
    Case(
        "free text partly understood is still not coded",
        (("lidocaine", "20 mg"),),
        (Allergy(id=1, text="lidocaine, chlorhexidine"),),
        expect=(("allergy.free_text_likely_match", W), ("allergy.not_coded", W)),
        says=("allergy is unconfirmed",),
    ),
    # Free text that is (or nearly spells) a name mesomix knows is checked as if it were coded,
    # with the same tiers: the outside reviewer's case first (P-0019, "lidocain", dispensed).
    Case(
        "reviewer: free text 'lidocain' (confirmed, high, anaphylaxis) and lidocaine 20 mg",
        (("lidocaine", "20 mg"),),
        (confirmed_high(text="lidocain", reactions=(Reaction("anaphylaxis"),)),),
        expect=(("allergy.free_text_likely_match", B), ("allergy.not_coded", W)),
        absent=("allergy.free_text_match",),
        says=(
            "allergy recorded as 'lidocain' (not coded) is probably lidocaine, which this "
            "mixture contains: Lidocaine hydrochloride in",
            "reaction: anaphylaxis",
            "code the allergy, or a practitioner overrides",
        ),
    ),
    Case(
        "free text 'lidocain', unconfirmed, warns as a coded allergy would",
        (("lidocaine", "20 mg"),),
        (Allergy(id=1, text="lidocain", verification="unconfirmed", criticality="high"),),
        expect=(("allergy.free_text_likely_match", W),),
        says=("WARNING because the allergy is unconfirmed",),
    ),
    Case(
        "free text 'lidocain', refuted, does not alert",
        (("lidocaine", "20 mg"),),
        (Allergy(id=1, text="lidocain", verification="refuted", criticality="high"),),
        absent=("allergy.free_text_likely_match", "allergy.not_coded"),
    ),
    Case(
        "free text 'prokaine' and procaine",
        (("procaine", "20 mg"),),
        (confirmed_high(text="prokaine"),),
        expect=(("allergy.free_text_likely_match", B),),
        says=("is probably procaine",),
    ),
    Case(
        "free text 'prokaine' and a paraben vial: cross-sensitivity warns",
        (("xylocaine_1pct_20ml_mdv", "2 mL"),),
        (confirmed_high(text="prokaine"),),
        expect=(("allergy.free_text_likely_match", W),),
        says=("cross-sensitivity: Parabens",),
    ),
    Case(
        "free text 'sulphites' and the metabisulfite of lidocaine with epinephrine",
        (("xylocaine_mpf_1pct_epi200k_30ml_sdv", "2 mL"),),
        (confirmed_high(text="sulphites"),),
        expect=(("allergy.free_text_likely_match", B),),
        says=("is probably Sulfites", "Sodium metabisulfite (excipient of"),
    ),
    Case(
        "free text 'parabenes' and a methylparaben vial",
        (("xylocaine_1pct_20ml_mdv", "2 mL"),),
        (confirmed_high(text="parabenes"),),
        expect=(("allergy.free_text_likely_match", B),),
        says=("is probably Parabens",),
    ),
    Case(
        "free text 'xylocane' (a brand, misspelt) and the lidocaine in a filler",
        (("juvederm_ultra_xc_0_8ml_syringe", "0.8 mL"),),
        (confirmed_high(text="xylocane"),),
        expect=(("allergy.free_text_likely_match", B),),
        says=("is probably xylocaine",),
    ),
    Case(
        "free text 'kybela' (a brand, misspelt) and deoxycholic acid",
        (("kybella_2ml_vial", "1 mL"),),
        (confirmed_high(text="kybela"),),
        expect=(("allergy.free_text_likely_match", B),),
    ),
    Case(
        "free text 'penicillin' resembles nothing: the warning only",
        (("lidocaine", "20 mg"),),
        (confirmed_high(text="penicillin"),),
        expect=(("allergy.not_coded", W),),
        absent=("allergy.free_text_likely_match", "allergy.free_text_match"),
        says=("matches nothing mesomix knows",),
    ),
    Case(
        "free text 'latex' and no latex in the syringe",
        (("tranexamic acid", "50 mg"),),
        (confirmed_high(text="latex"),),
        final="5 mL",
        diluent="sodium_chloride_09_10ml_vial",
        expect=(("allergy.not_coded", W),),
        absent=("allergy.free_text_likely_match", "allergy.free_text_match"),
    ),
    Case(
        "free text 'nuts' and soy phospholipids",
        (("phosphonciale_mono_250mg_5ml_amp", "1 mL"),),
        (confirmed_high(text="nuts"),),
        absent=("allergy.free_text_likely_match", "allergy.free_text_match"),
    ),
    Case(
        "free text 'bee stings' and no hyaluronidase",
        (("tranexamic acid", "50 mg"),),
        (confirmed_high(text="bee stings"),),
        absent=("allergy.free_text_likely_match", "allergy.free_text_match"),
    ),
    Case(
        "free text 'sulfate' is not sulfites",
        (("xylocaine_mpf_1pct_epi200k_30ml_sdv", "2 mL"),),
        (confirmed_high(text="sulfate"),),
        absent=("allergy.free_text_likely_match",),
    ),
    Case(
        "free text 'prilocaine' (an amide) is not procaine",
        (("procaine", "20 mg"),),
        (confirmed_high(text="prilocaine"),),
        absent=("allergy.free_text_likely_match",),
    ),
    Case(
        "free text 'acid': a common word of many names counts for none",
        (("tranexamic acid", "50 mg"),),
        (confirmed_high(text="acid"),),
        absent=("allergy.free_text_likely_match",),
    ),
    Case(
        "articaine: an ester-anaesthetic allergy flags it (amide with an ester group)",
        (("ultracain_ds_4pct_epi200k_2ml_amp", "1 mL"),),
        (confirmed_high(group="ester_local_anaesthetics"),),
        expect=(("allergy.direct_match", B),),  # a member of the group the allergy names
        says=("belongs to that group",),
    ),
]
DOSE_CASES = [
    Case(
        "lidocaine over the cap without epinephrine",
        (("lidocaine", "320 mg"),),
        final="20 mL",
        expect=(("dose.over_maximum", B),),
        says=(
            "Lidocaine hydrochloride 320 mg > 200 mg maximum without epinephrine (4.5 mg/kg × 70 kg = 315 mg, capped at 200 mg)",
        ),
    ),
    Case(
        "lidocaine over per kg for a light patient",
        (("lidocaine", "150 mg"),),
        weight="30",
        expect=(("dose.over_per_kg", B),),
        says=("4.5 mg/kg × 30 kg = 135 mg",),
    ),
    Case(
        "lidocaine within the limit",
        (("lidocaine", "150 mg"),),
        absent=("dose.over_maximum", "dose.over_per_kg"),
    ),
    Case(
        "lidocaine with epinephrine: the higher limit applies",
        (("xylocaine_2pct_epi100k_50ml_mdv", "20 mL"),),
        absent=("dose.over_maximum", "dose.over_per_kg"),
    ),
    Case(
        "lidocaine with epinephrine over 7 mg/kg",
        (("xylocaine_2pct_epi100k_50ml_mdv", "25 mL"),),
        expect=(("dose.over_per_kg", B),),
        says=("with epinephrine",),
    ),
    Case(
        "the sum over every ingredient counts",
        (("lidocaine", "199 mg"), ("juvederm_ultra_xc_0_8ml_syringe", "0.8 mL")),
        expect=(("dose.over_maximum", B),),
        says=("201.4 mg",),
    ),
    Case(
        "per-kg limit and no weight",
        (("lidocaine", "10 mg"),),
        weight=None,
        expect=(("dose.no_weight", B),),
        says=("no recorded weight",),
    ),
    Case(
        "deoxycholic acid over the session maximum",
        (("kybella_2ml_vial", "12 mL"),),
        weight="80",
        expect=(("dose.over_maximum", B),),
    ),
    Case(
        # the label's 1.7 mg/kg is a safety-margin figure, not a limit: 90 mg at 50 kg passes
        "deoxycholic acid within the label's 10 mL whatever the weight",
        (("kybella_2ml_vial", "9 mL"),),
        weight="50",
        expect=(),
    ),
    Case(
        "procaine over the session maximum",
        (("procaine", "600 mg"),),
        expect=(("dose.over_maximum", B),),
    ),
    Case(
        "procaine over the per-area limit warns",
        (("procaine", "250 mg"),),
        expect=(("dose.over_advisory", W),),
        says=("per treatment area",),
    ),
    Case(
        "vitamin A over the daily upper limit warns",
        (("aquasol_a_50000iu_2ml_vial", "1 mL"),),
        expect=(("dose.over_advisory", W),),
        says=("per day",),
    ),
    Case(
        "tranexamic acid per kg",
        (("tranexamic acid", "1000 mg"),),
        weight="60",
        expect=(("dose.over_per_kg", B),),
        says=("15 mg/kg × 60 kg = 900 mg",),
    ),
    Case(
        "tranexamic acid over 1 g",
        (("tranexamic acid", "1100 mg"),),
        weight="100",
        expect=(("dose.over_maximum", B),),
    ),
    Case(
        "caffeine over the session maximum",
        (("caffeine", "300 mg"),),
        expect=(("dose.over_maximum", B),),
    ),
    Case(
        "selenium: a salt counts as its element",
        (("selenase_500mcg_10ml_vial", "8 mL"), ("selenase_100mcg_2ml_amp", "4 mL")),
        expect=(("dose.over_advisory", W),),
        says=("Selenium",),
    ),
    Case(
        "selenium from selenious acid",
        (("selenious_acid_60mcgml_10ml_pbp", "10 mL"),),
        expect=(("dose.over_advisory", W),),
    ),
    Case(
        "a trace of epinephrine does not raise the lidocaine limit",
        (("lidocaine", "195 mg"), ("xylocaine_1pct_epi100k_20ml_mdv", "1 mL")),
        final="20 mL",
        expect=(("dose.over_maximum", B),),
        says=("without epinephrine",),
    ),
    Case(
        "mepivacaine over the label's 400 mg",
        (("carbocaine_2pct_50ml_mdv", "22.5 mL"),),
        weight="80",
        expect=(("dose.over_maximum", B),),
    ),
    Case(
        "mepivacaine over 7 mg/kg for a light patient",
        (("carbocaine_2pct_20ml_sdv", "17 mL"),),
        weight="45",
        expect=(("dose.over_per_kg", B),),
    ),
    Case(
        "articaine over 7 mg/kg",
        (("ultracain_ds_4pct_epi200k_2ml_amp", "11 mL"),),
        weight="60",
        expect=(("dose.over_per_kg", B),),
    ),
    Case(
        "sodium deoxycholate of a PC/DC ampoule over the cautious 100 mg",
        (("lipostabil_n_250mg_5ml_amp", "5 mL"),),
        expect=(("dose.over_maximum", B),),
    ),
]


def run(case: Case):
    draft = DraftMixture(
        ingredients=tuple(DraftIngredient(w, a) for w, a in case.ingredients),
        final_volume=case.final,
        diluent=case.diluent,
        patient="P-1",
    )
    weight = Decimal(case.weight) if case.weight else None
    return check_mixture(
        draft, CATALOG, None, PatientFacts("P-1", "Test Patient", weight, case.allergies)
    )


@pytest.mark.parametrize("case", ALLERGY_CASES + DOSE_CASES, ids=lambda c: c.name)
def test_clinical_case(case):
    plan = run(case)
    found = {(f.code, f.severity.value) for f in plan.findings}
    for expected in case.expect:
        assert expected in found, (case.name, sorted(found), [f.message for f in plan.findings])
    codes = {f.code for f in plan.findings}
    for code in case.absent:
        assert code not in codes, (case.name, [f.message for f in plan.findings if f.code == code])
    messages = " | ".join(f.message for f in plan.findings)
    for text in case.says:
        assert text in messages, (case.name, messages)


def test_every_allergen_group_has_a_case():
    covered = set()
    for case in ALLERGY_CASES:
        for allergy in case.allergies:
            if allergy.group:
                covered.add(allergy.group)
            if allergy.substance:
                covered |= set(CATALOG.substances[allergy.substance].allergen_groups)
    covered |= {"soy", "hyaluronidase_venom", "salicylates"}  # through free-text triggers
    assert set(CATALOG.groups) <= covered, set(CATALOG.groups) - covered


def test_every_dose_limit_of_a_supplied_substance_has_a_case():
    limited = {
        s.code
        for s in CATALOG.substances.values()
        if s.dose_limits and CATALOG.products_supplying(s.code)
    }
    tested = set()
    for case in DOSE_CASES:
        tested |= set(run(case).totals)
        tested |= {"selenium"} if "selenium" in case.name else set()
    assert limited <= tested, limited - tested
