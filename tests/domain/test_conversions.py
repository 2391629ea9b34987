"""Conversions through the substance or product, never a global factor."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mesomix.domain.conversions import (
    ConversionError,
    amount_in,
    convert,
    to_elemental,
    volume_for,
)
from mesomix.domain.units import Field, Q, format_quantity, parse_quantity
from mesomix.reference import catalog_from_records
from tests.domain.conftest import RECORDS

CATALOG = catalog_from_records(RECORDS)  # hypothesis tests cannot take function-scoped fixtures


def amount(text):
    return parse_quantity(text, Field.AMOUNT)


def test_vitamin_d_iu_to_mcg(catalog):
    result = convert(amount("1000 IU"), catalog.substance("cholecalciferol"), "mcg")
    assert format_quantity(result) == "25 mcg"


def test_vitamin_e_natural_and_synthetic_differ(catalog):
    natural = convert(amount("100 IU"), catalog.substance("d_alpha_tocopherol"), "mg")
    synthetic = convert(amount("100 IU"), catalog.substance("dl_alpha_tocopherol"), "mg")
    assert format_quantity(natural) == "67 mg"
    assert format_quantity(synthetic) == "90 mg"


def test_iu_refused_for_a_substance_without_an_iu_definition(catalog):
    with pytest.raises(ConversionError, match="Biotin has no IU definition"):
        convert(amount("1000 IU"), catalog.substance("biotin"), "mg")


def test_meq_through_molar_mass_and_valence(catalog):
    magnesium_sulfate = catalog.substance("magnesium_sulfate_heptahydrate")
    # 4.06 mEq of MgSO4·7H2O = 2.03 mmol × 246.47 mg/mmol = 500.3341 mg
    assert convert(amount("4.06 mEq"), magnesium_sulfate, "mg").magnitude == Decimal("500.3341")
    assert format_quantity(convert(amount("500 mg"), magnesium_sulfate, "mEq")) == "4.057 mEq"


def test_meq_refused_without_valence(catalog):
    with pytest.raises(ConversionError, match="no valence"):
        convert(amount("2 mEq"), catalog.substance("lidocaine_hcl"), "mg")


def test_salt_to_elemental(catalog):
    element, mass = to_elemental(
        amount("100 mg"), catalog.substance("zinc_sulfate_heptahydrate"), catalog
    )
    assert element.code == "zinc"
    assert format_quantity(mass) == "22.736 mg"


def test_elemental_refused_for_a_substance_that_is_no_salt(catalog):
    with pytest.raises(ConversionError, match="no elemental"):
        to_elemental(amount("100 mg"), catalog.substance("biotin"), catalog)


def test_product_strength_between_volume_and_mass(catalog):
    product = catalog.product("lido2_5ml_amp")
    lidocaine = catalog.substance("lidocaine_hcl")
    assert format_quantity(volume_for(amount("40 mg"), product, lidocaine)) == "2 mL"
    assert format_quantity(amount_in(amount("0.5 mL"), product, lidocaine)) == "10 mg"


def test_ratio_strength_epinephrine(catalog):
    product = catalog.product("lido_epi_amp")
    epinephrine = catalog.substance("epinephrine")
    assert format_quantity(amount_in(amount("5 mL"), product, epinephrine)) == "0.05 mg"


def test_activity_substances_only_in_iu(catalog):
    hyaluronidase = catalog.substance("hyaluronidase")
    product = catalog.product("hyaluronidase_150")
    assert format_quantity(volume_for(amount("75 IU"), product, hyaluronidase)) == "0.5 mL"
    with pytest.raises(ConversionError, match="dosed by activity"):
        volume_for(amount("5 mg"), product, hyaluronidase)


def test_a_volume_of_a_substance_needs_a_product(catalog):
    with pytest.raises(ConversionError, match="choose a product"):
        convert(amount("2 mL"), catalog.substance("lidocaine_hcl"), "mg")


def test_iu_amount_through_a_mass_strength(catalog):
    product = catalog.product("vitd_1ml_amp")
    vitamin_d = catalog.substance("cholecalciferol")
    assert format_quantity(volume_for(amount("100000 IU"), product, vitamin_d)) == "1 mL"


magnitudes = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(100000), places=3)


@pytest.mark.parametrize("code", ["cholecalciferol", "d_alpha_tocopherol", "dl_alpha_tocopherol"])
def test_round_trip_iu_mass_iu(catalog, code):
    substance = catalog.substance(code)

    @given(magnitudes)
    def round_trip(value):
        there = convert(Q(value, "international_unit"), substance, "mg")
        back = convert(there, substance, "IU")
        assert abs(back.magnitude - value) <= Decimal("1e-20") * max(value, 1)

    round_trip()


@given(magnitudes)
def test_round_trip_volume_amount_volume(value):
    product = CATALOG.product("lido2_5ml_amp")
    lidocaine = CATALOG.substance("lidocaine_hcl")
    volume = Q(value, "milliliter")
    back = volume_for(amount_in(volume, product, lidocaine), product, lidocaine)
    assert back.magnitude == value


@given(magnitudes)
def test_round_trip_meq(value):
    substance = CATALOG.substance("magnesium_sulfate_heptahydrate")
    there = convert(Q(value, "milliequivalent"), substance, "mg")
    back = convert(there, substance, "mEq")
    assert abs(back.magnitude - value) <= Decimal("1e-20") * max(value, 1)
