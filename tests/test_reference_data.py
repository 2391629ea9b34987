"""The shipped reference data: complete enough for a clinic, consistent, and sourced."""

from __future__ import annotations

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
    "sodium_metabisulfite", "natural_rubber_latex",
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
