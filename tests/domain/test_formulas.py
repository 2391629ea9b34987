"""Formulas in the pure domain: exact scaling in each amount's own unit, clear refusals, and
versions that never change."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mesomix.domain.formulas import (
    Formula,
    FormulaError,
    FormulaVersion,
    ScaleError,
    Unchanged,
    check_name,
    check_purpose,
    check_text,
    formula_code,
    ingredients_from_records,
    ingredients_to_records,
    scale,
    scaling,
    to_draft,
    version_from_draft,
)
from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.domain.units import Field, canonical, parse_quantity

HAIR = FormulaVersion(
    number=1,
    ingredients=(
        DraftIngredient("lidocaine", "20 mg"),
        DraftIngredient("Vitamin B-Complex Injection", "0.5 mL", "vitamin_b_complex_30ml_mdv"),
        DraftIngredient("cholecalciferol", "1000 IU"),
        DraftIngredient("cyanocobalamin", "500 mcg"),
    ),
    final_volume="5 mL",
    diluent="wfi_10ml_vial",
    storage="refrigerated",
    id=42,
)


def amounts(draft: DraftMixture) -> list[str]:
    return [item.amount for item in draft.ingredients]


def draft_of(*rows: tuple[str, str], final: str = "5 mL") -> DraftMixture:
    return DraftMixture(tuple(DraftIngredient(w, a) for w, a in rows), final_volume=final)


# --- scaling --------------------------------------------------------------------------------


def test_scaling_up_keeps_each_amount_in_its_own_unit():
    draft = scale(HAIR, "10 mL", patient="P-1", purpose="hair loss")
    assert amounts(draft) == ["40 mg", "1 mL", "2000 IU", "1000 mcg"]
    assert draft.final_volume == "10 mL"
    assert draft.ingredients[1].product == "vitamin_b_complex_30ml_mdv"
    assert (draft.patient, draft.purpose, draft.formula_version) == ("P-1", "hair loss", 42)
    assert (draft.diluent, draft.storage) == ("wfi_10ml_vial", "refrigerated")


def test_scaling_down_is_exact():
    assert amounts(scale(HAIR, "2.5 mL")) == ["10 mg", "0.25 mL", "500 IU", "250 mcg"]
    assert amounts(scale(HAIR, "3 mL")) == ["12 mg", "0.3 mL", "600 IU", "300 mcg"]
    assert amounts(scale(HAIR, "5 mL")) == amounts(to_draft(HAIR, None))


def test_units_are_kept_as_written_not_converted():
    version = dataclasses.replace(
        HAIR,
        ingredients=(DraftIngredient("tranexamic acid", "0.02 g"), DraftIngredient("x", "62.5 mg")),
    )
    assert amounts(scale(version, "10 mL")) == ["0.04 g", "125 mg"]
    assert amounts(scale(version, "0.05 L")) == ["0.2 g", "625 mg"]


def test_an_amount_without_a_short_exact_decimal_is_rounded_and_said():
    result = scaling(HAIR, "8.33 mL")  # factor 833/500
    assert result.factor == Fraction(833, 500)
    assert amounts(result.draft) == ["33.32 mg", "0.833 mL", "1666 IU", "833 mcg"]
    assert result.rounded == ()  # every one of those is exact
    thirds = scaling(HAIR, "5 mL")
    assert thirds.rounded == ()
    from_three = dataclasses.replace(HAIR, final_volume="3 mL")
    result = scaling(from_three, "5 mL")  # factor 5/3
    assert amounts(result.draft) == ["33.33 mg", "0.8333 mL", "1667 IU", "833.3 mcg"]
    assert [(r.ingredient, r.written) for r in result.rounded] == [
        (0, "33.33 mg"),
        (1, "0.8333 mL"),
        (2, "1667 IU"),
        (3, "833.3 mcg"),
    ]
    assert result.rounded[0].exact == "33.333333… mg"
    assert result.factor_text == "1.6666667…"


@pytest.mark.parametrize(
    ("new", "says"),
    [
        ("10 mg", "new final volume: '10 mg': a mass where a volume is asked for"),
        ("0 mL", "must be more than zero"),
        ("-5 mL", "cannot be negative"),
        ("5", "has no unit"),
        ("", "type the new final volume"),
        ("   ", "type the new final volume"),
        ("five mL", "stands where a number belongs"),
        ("5 ML", "megalitres"),
        ("5.005 mL", "a syringe measures 0.01 mL"),
        ("600 mL", r"multiplies every amount by 120: more than 100× is refused"),
        ("0.04 mL", r"divides every amount by 125: more than 100× smaller is refused"),
    ],
)
def test_scaling_refuses_clearly(new, says):
    with pytest.raises(ScaleError, match=says):
        scale(HAIR, new)


def test_the_factor_limits_themselves_are_allowed():
    assert amounts(scale(HAIR, "500 mL"))[0] == "2000 mg"
    assert amounts(scale(HAIR, "0.05 mL")) == ["0.2 mg", "0.005 mL", "10 IU", "5 mcg"]


def test_a_formula_without_a_final_volume_cannot_be_scaled():
    with pytest.raises(ScaleError, match="has no final volume"):
        scale(dataclasses.replace(HAIR, final_volume=""), "10 mL")


def test_an_amount_too_small_to_write_is_refused():
    tiny = dataclasses.replace(HAIR, ingredients=(DraftIngredient("x", "0.000001 mg"),))
    with pytest.raises(
        ScaleError, match=r"ingredient 1 \(x\): 0.000001 mg scaled becomes too small"
    ):
        scale(tiny, "0.05 mL")


volumes = st.integers(min_value=1, max_value=50_000).map(
    lambda n: Decimal(n) / 100
)  # 0.01 mL steps
magnitudes = st.integers(min_value=1, max_value=10_000_000).map(lambda n: Decimal(n) / 1000)
units = st.sampled_from(["mg", "mcg", "g", "mL", "IU", "mEq", "mmol"])


@given(old=volumes, new=volumes, magnitude=magnitudes, unit=units)
def test_scaled_amounts_are_exact_or_within_half_a_last_digit(old, new, magnitude, unit):
    factor = Fraction(new) / Fraction(old)
    version = FormulaVersion(
        1,
        (DraftIngredient("x", f"{format(magnitude.normalize(), 'f')} {unit}"),),
        final_volume=f"{format(old.normalize(), 'f')} mL",
    )
    new_text = f"{format(new.normalize(), 'f')} mL"
    if not Fraction(1, 100) <= factor <= 100:
        with pytest.raises(ScaleError):
            scaling(version, new_text)
        return
    try:
        result = scaling(version, new_text)
    except ScaleError as refused:  # only when the scaled value cannot be written at all
        assert "too small" in str(refused) or "too large" in str(refused)
        return
    written = parse_quantity(result.draft.ingredients[0].amount, Field.AMOUNT)
    exact = Fraction(magnitude) * factor
    got = Fraction(Decimal(written.magnitude))
    assert written.units == parse_quantity(version.ingredients[0].amount).units  # unit kept
    if result.rounded:
        assert abs(got - exact) <= max(exact / 2000, Fraction(1, 2_000_000))
    else:
        assert got == exact
    assert canonical(parse_quantity(result.draft.final_volume, Field.VOLUME))[0] == new


# --- versions -------------------------------------------------------------------------------


def test_versions_never_change():
    with pytest.raises(dataclasses.FrozenInstanceError):
        HAIR.final_volume = "10 mL"  # type: ignore[misc]
    formula = Formula("hair", "Hair", "hair loss", versions=(HAIR,))
    scale(HAIR, "10 mL")
    nxt = formula.next_version(draft_of(("lidocaine", "30 mg")), "more lidocaine")
    assert (nxt.number, HAIR.ingredients[0].amount) == (2, "20 mg")
    assert formula.versions == (HAIR,) and formula.latest is HAIR
    assert isinstance(HAIR.ingredients, tuple)


def test_the_same_recipe_again_is_not_a_new_version():
    formula = Formula("hair", "Hair", "hair loss", versions=(HAIR,))
    same = to_draft(HAIR, "P-9", "hair loss")  # another patient and purpose: the same recipe
    reordered = dataclasses.replace(
        same,
        ingredients=(
            DraftIngredient("  Cyanocobalamin ", "500mcg"),
            *same.ingredients[:3],
        ),
    )
    for draft in (same, reordered):
        with pytest.raises(Unchanged, match="version 1 already: no new version"):
            formula.next_version(draft, "a new note is not a new recipe")
    assert formula.next_version(dataclasses.replace(same, storage="room")).number == 2
    assert formula.next_version(dataclasses.replace(same, final_volume="4 mL")).number == 2


def test_a_version_from_a_draft_is_tidied_and_checked():
    draft = DraftMixture(
        (
            DraftIngredient(" lidocaine ", " 20 mg "),
            DraftIngredient("", ""),
            DraftIngredient("b12", "1 mL", " "),
        ),
        final_volume=" 5 mL ",
        diluent="",
    )
    version = version_from_draft(1, draft, "  first  ")
    assert version.ingredients == (
        DraftIngredient("lidocaine", "20 mg"),
        DraftIngredient("b12", "1 mL"),
    )
    assert (version.final_volume, version.diluent, version.note) == ("5 mL", None, "first")


@pytest.mark.parametrize(
    ("draft", "says"),
    [
        (draft_of(), "no ingredients: there is nothing to save"),
        (draft_of(("", "")), "no ingredients"),
        (draft_of(("lidocaine", "")), r"ingredient 1 \(lidocaine\): no amount"),
        (draft_of(("", "20 mg")), "ingredient 1: which substance or product"),
        (draft_of(("lidocaine", "5 ML")), "megalitres"),
        (draft_of(("lidocaine", "20 mg"), final="5 mg"), "final volume: '5 mg'"),
        (draft_of(("lido\u200bcaine", "20 mg")), "invisible or control character"),
        (draft_of(*[("lidocaine", "1 mg")] * 31), "at most 30 ingredients"),
    ],
)
def test_a_version_from_a_bad_draft_is_refused(draft, says):
    with pytest.raises(FormulaError, match=says):
        version_from_draft(1, draft)


def test_asking_for_a_version_that_does_not_exist():
    formula = Formula("hair", "Hair", "hair loss", versions=(HAIR,))
    assert formula.version() is HAIR and formula.version(1) is HAIR
    with pytest.raises(FormulaError, match="no version 3: versions 1 to 1"):
        formula.version(3)
    with pytest.raises(FormulaError, match="no version yet"):
        Formula("x", "X", "other").version()


# --- names and the rest ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["", "   ", "x" * 81, "Hair\x00", "Hair\u200brestoration", "Hair\nloss"]
)
def test_bad_names_are_refused(name):
    with pytest.raises(FormulaError):
        check_name(name)


def test_good_names_are_kept_as_typed():
    assert check_name("  Réjuvénation (visage) 2 % ") == "Réjuvénation (visage) 2 %"
    assert check_name("x" * 80) == "x" * 80
    assert check_name("[bold]x[/]") == "[bold]x[/]"  # shown safely by the screen, not refused


def test_codes_from_names():
    assert formula_code("Hair restoration") == "hair_restoration"
    assert formula_code("Réjuvénation — visage!") == "rejuvenation_visage"
    assert formula_code("Hair restoration", ["hair_restoration"]) == "hair_restoration_2"
    assert formula_code("!!!", ["formula"]) == "formula_2"


def test_purposes_and_texts():
    assert check_purpose("hair loss") == "hair loss"
    with pytest.raises(FormulaError, match="unknown purpose 'hair'"):
        check_purpose("hair")
    assert check_text(" two\nlines ", "note") == "two\nlines"
    with pytest.raises(FormulaError, match="at most 500"):
        check_text("x" * 501, "note")


def test_ingredients_round_trip_through_records():
    assert ingredients_from_records(ingredients_to_records(HAIR.ingredients)) == HAIR.ingredients
