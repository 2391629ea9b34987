"""The shipped reference data: complete enough for a clinic, consistent, and sourced."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mesomix.domain.catalog import ContainerKind, Measure
from mesomix.domain.conversions import convert
from mesomix.domain.units import Field, format_quantity, parse_quantity
from mesomix.reference import ReferenceDataError, catalog_from_records, load_catalog, load_records

CATALOG = load_catalog()

REQUIRED_SUBSTANCES = [
    "lidocaine_hcl", "procaine_hcl", "epinephrine", "phosphatidylcholine", "sodium_deoxycholate",
    "sodium_hyaluronate", "hyaluronidase", "collagenase", "retinol", "thiamine_hcl",
    "riboflavin_sodium_phosphate", "nicotinamide", "dexpanthenol", "pyridoxine_hcl", "biotin",
    "folic_acid", "cyanocobalamin", "ascorbic_acid", "cholecalciferol", "d_alpha_tocopherol",
    "dl_alpha_tocopherol", "zinc", "copper", "magnesium", "selenium", "monomethylsilanetriol",
    "arginine", "glycine", "proline", "dmae", "glutathione", "tranexamic_acid", "l_carnitine",
    "caffeine", "sodium_chloride", "benzyl_alcohol", "water_for_injection", "methylparaben",
    "sodium_metabisulfite", "natural_rubber_latex", "mepivacaine_hcl", "articaine_hcl",
]  # fmt: skip

REQUIRED_GROUPS = [
    "ester_local_anaesthetics", "amide_local_anaesthetics", "paba", "parabens", "sulfites", "soy",
    "hyaluronidase_venom", "natural_rubber_latex", "benzyl_alcohol",
]  # fmt: skip


def test_enough_of_the_right_substances_products_and_groups():
    assert len(CATALOG.substances) >= 40
    assert len(CATALOG.products) >= 60
    assert set(REQUIRED_SUBSTANCES) <= set(CATALOG.substances)
    assert set(REQUIRED_GROUPS) <= set(CATALOG.groups)


def test_every_fact_carries_its_source():
    records = load_records()
    for raw in records["substance"]:
        if "molar_mass" in raw:
            assert raw.get("molar_mass_source"), raw["code"]
        for part in ("iu", "elemental"):
            if part in raw:
                assert raw[part].get("source"), (raw["code"], part)
        for limit in raw.get("dose_limit", []):
            assert limit.get("source"), raw["code"]
    assert all(raw.get("source") for raw in records["product"])
    assert all(raw.get("source") for raw in records["group"])
    # every code of another system, on a substance, a group, a statement or an unrelated allergen
    coded = [*records["substance"], *records["group"]]
    codes = [code for raw in coded for code in raw.get("codes", ())]
    codes += [*records["no_known"], *records["unrelated"]]
    assert len(codes) >= 10
    assert all(code.get("source") and code.get("system") and code.get("code") for code in codes)
    assert all(raw.get("why") for raw in records["unrelated"])


def test_shelf_variety():
    products = CATALOG.products.values()
    assert any(p.container is ContainerKind.MULTI_DOSE for p in products)
    assert any(p.form == "powder" and p.reconstitute_with for p in products)
    excipients = {e for p in products for e in p.excipients}
    assert {
        "methylparaben",
        "sodium_metabisulfite",
        "benzyl_alcohol",
        "natural_rubber_latex",
    } <= excipients
    assert any(len(p.strengths) > 1 for p in products)
    assert CATALOG.diluents()


def test_lidocaine_limits_differ_with_and_without_epinephrine():
    limits = {limit.condition for limit in CATALOG.substance("lidocaine_hcl").dose_limits}
    assert {"with_epinephrine", "without_epinephrine"} <= limits


def test_published_iu_factors():
    def mcg(code, typed):
        return format_quantity(
            convert(parse_quantity(typed, Field.AMOUNT), CATALOG.substance(code), "mcg")
        )

    assert mcg("cholecalciferol", "1000 IU") == "25 mcg"
    assert mcg("retinol", "1000 IU") == "300 mcg"
    assert CATALOG.substance("hyaluronidase").measure is Measure.ACTIVITY


def test_inconsistent_data_is_refused_whole():
    records = load_records()
    broken = {
        **records,
        "product": [
            *records["product"],
            {
                **records["product"][0],
                "code": "x",
                "strength": [{"substance": "nope", "per_ml": "1 mg/mL"}],
            },
        ],
    }
    with pytest.raises(ReferenceDataError, match="unknown substance nope"):
        catalog_from_records(broken)
    bad_unit = {**records, "product": [{**records["product"][0], "container_volume": "5 ML"}]}
    with pytest.raises(ReferenceDataError, match="megalitres"):
        catalog_from_records(bad_unit)


def test_a_code_without_its_source_is_refused():
    records = load_records()
    lidocaine = next(raw for raw in records["substance"] if raw["code"] == "lidocaine_hcl")
    unsourced = {"system": "http://snomed.info/sct", "code": "387480006"}
    records["substance"] = [
        raw | {"codes": [unsourced]} if raw is lidocaine else raw for raw in records["substance"]
    ]
    with pytest.raises(ReferenceDataError, match="387480006 has no source"):
        catalog_from_records(records)


def test_a_second_amide_local_anaesthetic_with_the_label_s_limits():
    mepivacaine, articaine = (
        CATALOG.substance("mepivacaine_hcl"),
        CATALOG.substance("articaine_hcl"),
    )
    assert "amide_local_anaesthetics" in mepivacaine.allergen_groups
    # an amide with an ester group: also flagged with the esters, cautiously, and said why
    assert {"amide_local_anaesthetics", "ester_local_anaesthetics"} <= set(
        articaine.allergen_groups
    )
    (raw,) = [r for r in load_records()["substance"] if r["code"] == "articaine_hcl"]
    assert "ester group" in raw["allergen_note"] and "http" in raw["allergen_note"]
    limits = {
        (format_quantity(lim.max), format_quantity(lim.per_kg))
        for lim in mepivacaine.dose_limits
        if lim.per == "session"
    }
    assert limits == {("400 mg", "7 mg/kg")}
    assert {format_quantity(lim.max) for lim in mepivacaine.dose_limits if lim.per == "day"} == {
        "1000 mg"
    }
    (limit,) = articaine.dose_limits
    assert (format_quantity(limit.max), format_quantity(limit.per_kg)) == ("500 mg", "7 mg/kg")
    mepivacaine_products = CATALOG.products_supplying("mepivacaine_hcl")
    strengths = {p.strength_table["mepivacaine_hcl"][0] for p in mepivacaine_products}
    assert {10, 20} <= strengths  # 1% and 2%
    assert any("methylparaben" in p.excipients for p in mepivacaine_products)
    assert any(not p.excipients for p in mepivacaine_products)  # a preservative-free one
    epinephrine = set()
    for product in CATALOG.products_supplying("articaine_hcl"):
        assert product.strength_table["articaine_hcl"][0] == 40  # 4%
        assert "sodium_metabisulfite" in product.excipients  # with epinephrine: a sulfite
        epinephrine.add(product.strength_table["epinephrine"][0])
    assert epinephrine == {Decimal("0.005"), Decimal("0.01")}  # 1:200,000 and 1:100,000


def test_deoxycholate_products_as_sold_for_injection_lipolysis():
    sodium = CATALOG.products_supplying("sodium_deoxycholate")
    assert sodium and all(p.source for p in sodium)
    mixtures = [
        p for p in CATALOG.products_supplying("phosphatidylcholine")
        if {"sodium_deoxycholate", "deoxycholic_acid"} & set(p.strength_table)
    ]  # fmt: skip
    assert len(mixtures) >= 2
    assert all(p.source and "benzyl_alcohol" in p.excipients for p in mixtures)


def test_a_label_statement_against_admixture_carries_its_source():
    records = load_records()["product"]
    statements = [r for r in records if "admixture" in r]
    assert {r["code"] for r in statements} >= {"kybella_2ml_vial"}
    for raw in statements:
        assert raw["admixture"]["statement"] and "http" in raw["admixture"]["source"]
    assert CATALOG.product("kybella_2ml_vial").not_for_admixture.startswith("Dilution or admixture")


def test_deoxycholic_acid_keeps_the_label_s_limit_per_treatment_not_a_safety_margin():
    (limit,) = CATALOG.substance("deoxycholic_acid").dose_limits
    assert format_quantity(limit.max) == "100 mg" and limit.per_kg is None
    assert "10 mL" in limit.source and "1.7 mg/kg" in limit.note


def test_deoxycholate_carries_the_label_s_course_six_treatments_a_calendar_month_apart():
    from datetime import date

    from mesomix.domain.course import GivenSession, check_course

    for code in ("deoxycholic_acid", "sodium_deoxycholate"):
        (limit,) = CATALOG.substance(code).course_limits
        assert limit.max_sessions == 6 and limit.least_interval is not None
        assert limit.least_interval.months == 1 and limit.least_interval.days == 0
        assert "1 month apart" in limit.source or "section 2.1" in limit.source
    (limit,) = CATALOG.substance("deoxycholic_acid").course_limits
    held = [
        GivenSession(n, date(2026, n, 15), {"deoxycholic_acid": Decimal(80)}) for n in range(1, 7)
    ]
    seventh = GivenSession(7, date(2026, 7, 15), {"deoxycholic_acid": Decimal(80)})
    [finding] = check_course([limit], held, seventh)
    assert finding.code == "course.max_sessions" and "Kybella" in finding.message


@pytest.mark.parametrize(
    ("limit", "words"),
    [
        ({"max_sessions": 6}, "carries its source"),
        ({"least_interval": "a month", "source": "x"}, "not a gap between sessions"),
        ({"least_interval": "2 fortnights", "source": "x"}, "say days, weeks or months"),
        ({"max_amount": "5 mL", "source": "x"}, "not an amount"),
        ({"max_amount": "0 mg", "source": "x"}, "above zero"),
        ({"max_amount": "500 mg", "window": "0 days", "source": "x"}, "rolling period"),
    ],
)
def test_a_course_limit_that_cannot_be_meant_is_refused_naming_the_substance(limit, words):
    records = load_records()
    records["substance"] = [
        raw | {"course_limit": [limit]} if raw["code"] == "biotin" else raw
        for raw in records["substance"]
    ]
    with pytest.raises(ReferenceDataError, match=rf"\[biotin\].*{words}"):
        catalog_from_records(records)


def test_a_cumulative_amount_over_a_rolling_window_is_read_in_the_canonical_unit():
    records = load_records()
    limit = {"max_amount": "1 g", "window": "4 weeks", "source": "a test's own"}
    records["substance"] = [
        raw | {"course_limit": [limit]} if raw["code"] == "biotin" else raw
        for raw in records["substance"]
    ]
    (read,) = catalog_from_records(records).substance("biotin").course_limits
    assert (read.max_amount, read.unit, read.window_days) == (Decimal(1000), "mg", 28)
