"""The strict parser: what it accepts, what it refuses, and that every refusal names the problem."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mesomix.domain.units import (
    Field,
    Q,
    QuantityError,
    format_quantity,
    parse_quantity,
    registry,
)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("5 mg", "5 mg"),
        ("0.5 mL", "0.5 mL"),
        ("2.5mL", "2.5 mL"),
        ("250 mcg", "250 mcg"),
        ("250 µg", "250 mcg"),
        ("250 μg", "250 mcg"),
        ("250 ug", "250 mcg"),
        ("1000 IU", "1000 IU"),
        ("20 mEq", "20 mEq"),
        ("3 mmol", "3 mmol"),
        ("  5 mg  ", "5 mg"),
        ("5\u00a0mg", "5 mg"),
        ("0.01 mL", "0.01 mL"),
    ],
)
def test_accepts_what_clinicians_write(typed, shown):
    assert format_quantity(parse_quantity(typed, Field.AMOUNT)) == shown


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("20 mg/mL", "20 mg/mL"),
        ("2 %", "20 mg/mL"),
        ("2%", "20 mg/mL"),
        ("0.9 %", "9 mg/mL"),
        ("1:100000", "0.01 mg/mL"),
        ("1:200,000", "0.005 mg/mL"),
        ("1:1000", "1 mg/mL"),
        ("500 mg/5 mL", "100 mg/mL"),
        ("150 IU/mL", "150 IU/mL"),
        ("1000 mcg/mL", "1000 mcg/mL"),
        ("4.06 mEq/mL", "4.06 mEq/mL"),
    ],
)
def test_strengths(typed, shown):
    assert format_quantity(parse_quantity(typed, Field.STRENGTH)) == shown


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("2,5 mL", "decimal comma — write 2.5"),
        ("1,000 IU", "no thousands separators — write 1000"),
        ("5 units", "write IU"),
        ("5 Units", "not a unit mesomix knows"),
        ("5 U", "write IU"),
        ("5 u", "write IU"),
        ("5 ML", "megalitres"),
        ("5 Ml", "megalitres"),
        ("5 Mg", "megagrams"),
        ("5 gr", "grain (64.8 mg) or gram"),
        ("5 mgs", "write mg"),
        ("5 cc", "1 cc is 1 mL"),
        ("5 amp", "ampere"),
        ("5", "has no unit: did you mean 5 mg"),
        ("mg", "has no number"),
        ("NaN", "is not a number"),
        ("nan mg", "is not a number"),
        ("inf", "is not a number"),
        ("Infinity mL", "is not a number"),
        ("1e309", "scientific notation"),
        ("1E3 mg", "scientific notation"),
        ("-5 mg", "cannot be negative"),
        ("0 mg", "must be more than zero"),
        ("0.000 mL", "must be more than zero"),
        ("5 mg / 2 mL", "is a concentration, but an amount is asked for"),
        ("5 mg/mL", "is a concentration"),
        ("5 mg 2 mL", "more than one quantity"),
        ("5 mg + 2 mg", "more than one quantity"),
        ("5 mL\u200b", "invisible or control character U+200B"),
        ("5\u00admg", "invisible or control character U+00AD"),
        ("5 mg\x00", "U+0000"),
        ("5\tmg", "U+0009"),
        ("\u0665 mg", "not an ASCII digit"),
        ("\uff15 mg", "not an ASCII digit"),
        ("", "is empty"),
        ("   ", "is empty"),
        (".5 mL", "leading zero (0.5)"),
        ("5.0 mg", "write 5 without the trailing zero"),
        ("1.000 mg", "write 1 without the trailing zero"),
        ("0.50 mL", "write 0.5 without the trailing zero"),
        ("5. mL", "not a well-formed number"),
        ("1.2.3 mg", "not a well-formed number"),
        ("1234567890 mg", "too large"),
        ("0.0000001 mg", "more than 6 decimals"),
        ("5 %", "a percentage (a strength)"),
        ("5 kg", "a mass where an amount is asked for"),
        ("5 mg; DROP TABLE lot", "does not belong"),
        ("5 furlongs", "not a unit mesomix knows"),
        ("five mg", "stands where a number belongs"),
    ],
)
def test_refuses_with_a_message_that_names_the_problem(typed, says):
    with pytest.raises(QuantityError) as refused:
        parse_quantity(typed, Field.AMOUNT)
    assert says in str(refused.value)


@pytest.mark.parametrize(
    ("typed", "field", "says"),
    [
        ("40 mg", Field.VOLUME, "a mass where a volume is asked for"),
        ("5 mL", Field.MASS, "a volume where a mass is asked for"),
        ("5 mg", Field.STRENGTH, "is an amount, but a strength is asked for"),
        ("20 mg/kg", Field.STRENGTH, "per volume"),
        ("2:100", Field.STRENGTH, "written 1:N"),
        ("1:100.000", Field.STRENGTH, "N a whole number"),
        ("1:0.5", Field.STRENGTH, "N a whole number"),
        ("1:0", Field.STRENGTH, "zero is not a strength"),
        ("150 %", Field.STRENGTH, "cannot exceed 100 %"),
        ("20 mL/mg", Field.STRENGTH, "a volume where a strength is asked for"),
        ("70 lb", Field.BODY_WEIGHT, "in kg"),
    ],
)
def test_dimension_must_fit_the_field(typed, field, says):
    with pytest.raises(QuantityError) as refused:
        parse_quantity(typed, field)
    assert says in str(refused.value)


def test_not_text_is_refused_not_crashed():
    with pytest.raises(QuantityError):
        parse_quantity(5, Field.AMOUNT)  # type: ignore[arg-type]


@given(st.text(max_size=40))
def test_any_text_is_read_or_refused_never_crashes(text):
    try:
        quantity = parse_quantity(text, Field.AMOUNT)
    except QuantityError as refused:
        assert str(refused)
    else:
        assert quantity.magnitude > 0
        assert isinstance(quantity.magnitude, Decimal)


@given(st.text(max_size=40))
def test_any_text_as_strength_is_read_or_refused(text):
    try:
        parse_quantity(text, Field.STRENGTH)
    except QuantityError as refused:
        assert str(refused)


def test_magnitudes_are_exact():
    assert Q("0.3", "mL") - 3 * Q("0.1", "mL") == Q(0, "mL")
    assert (Q("0.3", "mL") - 3 * Q("0.1", "mL")).magnitude == 0


def test_a_ledger_of_100000_tenths_sums_exactly():
    tenth = parse_quantity("0.1 mL", Field.VOLUME)
    total = sum((tenth for _ in range(100_000)), Q(0, "milliliter"))
    assert total.magnitude == Decimal(10_000)
    assert format_quantity(total) == "10000 mL"


def test_float_magnitudes_are_refused():
    with pytest.raises(TypeError):
        Q(0.1, "mL")


def test_one_registry_shared_by_threads():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        registries = set(map(id, pool.map(lambda _: registry(), range(32))))
    assert registries == {id(registry())}


@pytest.mark.parametrize(
    ("quantity", "shown"),
    [
        (Q("0.5", "milliliter"), "0.5 mL"),
        (Q("5.000", "milligram"), "5 mg"),
        (Q("250", "microgram"), "250 mcg"),
        (Q("1E+3", "international_unit"), "1000 IU"),
        (Q("0.0004", "milligram"), "0.0004 mg"),
        (Q("20", "milligram / milliliter"), "20 mg/mL"),
    ],
)
def test_display_as_clinicians_write(quantity, shown):
    assert format_quantity(quantity) == shown
