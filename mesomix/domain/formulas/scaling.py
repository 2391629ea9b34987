"""Scaling a version to another final volume in exact fractions, each amount in its own unit, and
saying what had to be rounded."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

from mesomix.domain.formulas.recipe import FormulaError, FormulaVersion, plain_decimal, to_draft
from mesomix.domain.mixture import DraftIngredient, DraftMixture, round_draw, to_ul
from mesomix.domain.units import Field, Quantity, QuantityError, parse_quantity, unit_text

MAX_FACTOR = Fraction(100)  # scaling beyond these is a typing mistake, not a recipe


MIN_FACTOR = Fraction(1, 100)


SIGNIFICANT = 4  # digits kept when a scaled amount has no exact decimal the parser reads


_MAX_DECIMALS = 6  # what the quantity parser accepts after the point


class ScaleError(FormulaError):
    """The formula cannot be scaled to that volume."""


@dataclass(frozen=True)
class Rounded:
    """A scaled amount that had no exact short decimal, and what was written instead."""

    ingredient: int  # position in the draft
    what: str
    exact: str  # the exact value, e.g. "33.33333333… mg"
    written: str  # e.g. "33.33 mg"


@dataclass(frozen=True)
class Scaling:
    draft: DraftMixture
    factor: Fraction  # new final volume / old final volume, exactly
    rounded: tuple[Rounded, ...] = ()

    @property
    def factor_text(self) -> str:
        return _shown_fraction(self.factor)


def scale(
    version: FormulaVersion,
    new_final_volume: str,
    patient: str | None = None,
    purpose: str = "",
) -> DraftMixture:
    """The version scaled to another final volume, as a draft (see `scaling` for the details)."""
    return scaling(version, new_final_volume, patient, purpose).draft


def scaling(
    version: FormulaVersion,
    new_final_volume: str,
    patient: str | None = None,
    purpose: str = "",
) -> Scaling:
    """Every amount multiplied by new/old final volume, exactly, each in its own unit.

    Refused (ScaleError) when the version has no final volume, when the new one is not a volume
    a syringe measures, or when the factor is above 100 or below 1/100 (a slip of the keyboard)."""
    if not version.final_volume.strip():
        raise ScaleError(
            "this formula has no final volume (it is the sum of what is drawn): "
            "there is nothing to scale from — start it as it is"
        )
    try:
        old_ul = to_ul(parse_quantity(version.final_volume, Field.VOLUME))
    except QuantityError as exc:
        raise ScaleError(f"the formula's final volume cannot be read: {exc}") from None
    new = _new_volume(new_final_volume)
    new_ul = to_ul(new)
    factor = Fraction(new_ul) / Fraction(old_ul)
    old_text, new_text = version.final_volume.strip(), _exact_quantity(new)
    if factor > MAX_FACTOR:
        raise ScaleError(
            f"{old_text} to {new_text} multiplies every amount by {_shown_fraction(factor)}: "
            f"more than {MAX_FACTOR}× is refused — check the volume"
        )
    if factor < MIN_FACTOR:
        raise ScaleError(
            f"{old_text} to {new_text} divides every amount by {_shown_fraction(1 / factor)}: "
            f"more than {MAX_FACTOR}× smaller is refused — check the volume"
        )
    ingredients, rounded = [], []
    for index, item in enumerate(version.ingredients):
        written, exact = _scaled_amount(index, item, factor)
        if exact is not None:
            rounded.append(Rounded(index, item.what, exact, written))
        ingredients.append(replace(item, amount=written))
    draft = replace(
        to_draft(version, patient, purpose),
        ingredients=tuple(ingredients),
        final_volume=new_text,
    )
    return Scaling(draft, factor, tuple(rounded))


def _new_volume(text: str) -> Quantity:
    if not isinstance(text, str) or not text.strip():
        raise ScaleError("type the new final volume, e.g. 10 mL")
    stripped = text.strip()
    if stripped.startswith("-"):
        raise ScaleError(f"'{stripped}': a final volume cannot be negative")
    try:
        volume = parse_quantity(stripped, Field.VOLUME)
    except QuantityError as exc:
        raise ScaleError(f"new final volume: {exc}") from None
    microlitres = to_ul(volume)
    if round_draw(microlitres) != microlitres:
        raise ScaleError(
            f"new final volume {stripped}: a syringe measures 0.01 mL — type a volume in "
            "hundredths of a millilitre"
        )
    return volume


def _scaled_amount(index: int, item: DraftIngredient, factor: Fraction) -> tuple[str, str | None]:
    """(the scaled amount as text the parser reads back, the exact value when it was rounded)."""
    label = f"ingredient {index + 1} ({item.what})"
    try:
        amount = parse_quantity(item.amount, Field.AMOUNT)
    except QuantityError as exc:
        raise ScaleError(f"{label}: {exc}") from None
    unit = unit_text(amount)
    exact = Fraction(Decimal(amount.magnitude)) * factor
    text, was_rounded = _decimal_text(exact)
    if text == "0":
        raise ScaleError(f"{label}: {item.amount.strip()} scaled becomes too small to write")
    written = f"{text} {unit}"
    try:
        parse_quantity(written, Field.AMOUNT)
    except QuantityError as exc:
        raise ScaleError(f"{label}: scaled to {written}, which cannot be used: {exc}") from None
    return written, (f"{_shown_fraction(exact)} {unit}" if was_rounded else None)


def _decimal_text(value: Fraction) -> tuple[str, bool]:
    """The exact decimal when it has at most 6 decimals; else four significant digits."""
    with localcontext() as context:
        context.prec = 60
        decimal = Decimal(value.numerator) / Decimal(value.denominator)
        if _terminates_within(value.denominator, _MAX_DECIMALS):
            return plain_decimal(decimal), False
        exponent = max(decimal.adjusted() - (SIGNIFICANT - 1), -_MAX_DECIMALS)
        rounded = decimal.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN)
    return plain_decimal(rounded), True


def _terminates_within(denominator: int, decimals: int) -> bool:
    """Whether 1/denominator is a decimal of at most `decimals` places (only 2s and 5s, few)."""
    power: int = 10**decimals
    return power % denominator == 0


def _shown_fraction(value: Fraction) -> str:
    """A fraction as a decimal to read: exact when short, else eight significant digits and '…'."""
    text, rounded = _decimal_text(value)
    if not rounded:
        return text
    with localcontext() as context:
        context.prec = 8
        return plain_decimal(Decimal(value.numerator) / Decimal(value.denominator)) + "…"


def _exact_quantity(quantity: Quantity) -> str:
    return f"{plain_decimal(Decimal(quantity.magnitude))} {unit_text(quantity)}"
