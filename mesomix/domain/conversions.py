"""Conversions that depend on the substance or the product: never a global factor.

IU to mass goes through the substance's own IU definition, mEq and mmol through its molar mass and
valence, salt to element through both molar masses, volume to amount through a product's strength.
A conversion the substance cannot support is refused with a message that says what is missing.

pint carries units at the edges; inside, every amount is an exact Decimal in its dimension's
canonical unit (mg, mL, IU, mEq, mmol), so a check of a whole mixture costs a few Decimal
operations per ingredient instead of dozens of registry look-ups.
"""

from __future__ import annotations

from decimal import Decimal

from mesomix.domain.catalog import Catalog, Measure, Product, Substance
from mesomix.domain.units import (
    CANONICAL,
    UNITS,
    Q,
    Quantity,
    QuantityError,
    canonical,
    strength_canonical,
    unit_text,
)

TARGET_UNITS = {
    "mg": "milligram",
    "g": "gram",
    "mcg": "microgram",
    "µg": "microgram",
    "ug": "microgram",
    "IU": "international_unit",
    "mEq": "milliequivalent",
    "mmol": "millimole",
    "mL": "milliliter",
}


# A strength in another unit: an amount per mL, or a percentage (w/v, grams per 100 mL).
STRENGTH_TARGETS = {f"{shown}/mL": f"{unit} / milliliter" for shown, unit in TARGET_UNITS.items()}
del STRENGTH_TARGETS["mL/mL"]
STRENGTH_TARGETS["%"] = "percent"


class ConversionError(QuantityError):
    """A conversion the substance or product cannot support; the message says why."""


class SubstanceNeeded(ConversionError):
    """A conversion between kinds of amount that only a substance (or a product) can make; `by`
    is "substance" or "product", the message says why."""

    def __init__(self, message: str, by: str) -> None:
        super().__init__(message)
        self.by = by


def _needs(typed: str, target: str) -> SubstanceNeeded:
    """Why one kind of amount cannot become another without knowing what it is an amount of."""
    kinds = {typed, target}
    if "volume" in kinds:
        return SubstanceNeeded(
            f"{_word(typed)} to {_word(target)} depends on the product's strength", "product"
        )
    if "IU" in kinds:
        return SubstanceNeeded(
            "an IU is a different amount for each substance (1000 IU is 25 mcg of vitamin D3 "
            "but 670 mg of vitamin E)",
            "substance",
        )
    if "mass" in kinds:
        return SubstanceNeeded(
            f"{_word(typed)} to {_word(target)} depends on the substance's molar mass"
            + (" and valence" if "mEq" in kinds else ""),
            "substance",
        )
    return SubstanceNeeded("mEq to mmol depends on the substance's valence", "substance")


def convert_plain(amount: Quantity, target: str) -> Quantity:
    """An amount in another unit of its own kind (mg to mcg, L to mL): no substance needed."""
    unit = TARGET_UNITS[target]
    dimension, factor = UNITS[unit]
    value, typed = canonical(amount)
    if typed != dimension:
        raise _needs(typed, dimension)
    return Q(value / factor, unit)


def convert_strength(strength: Quantity, target: str, substance: Substance | None) -> Quantity:
    """A strength in another unit (2 % is 20 mg/mL, 1:1000 is 1 mg/mL); a substance only when
    the kind of amount changes (mg/mL to IU/mL)."""
    per_ml, typed = strength_canonical(strength)
    unit = STRENGTH_TARGETS[target]
    if target == "%":
        dimension, factor = "mass", Decimal(10)  # w/v: 1 % is 10 mg/mL
    else:
        dimension, factor = UNITS[unit.split(" / ")[0]]
    if typed != dimension:
        if substance is None:
            raise _needs(typed, dimension)
        per_ml = measure_as(per_ml, typed, substance, dimension)
    return Q(per_ml / factor, unit)


def dimension_of(quantity: Quantity) -> str:
    """'mass', 'volume', 'IU', 'mEq' or 'mmol': what kind of amount was typed."""
    return canonical(quantity)[1]


def measure_as(value: Decimal, dimension: str, substance: Substance, target: str) -> Decimal:
    """An amount of a substance from one canonical dimension into another, through the substance."""
    if dimension == target:
        return value
    if "volume" in (dimension, target):
        raise ConversionError(
            f"a volume of {substance.name} depends on the product's strength: choose a product"
        )
    if substance.measure is Measure.ACTIVITY:
        raise ConversionError(
            f"{substance.name} is dosed by activity: give the amount in IU, not {_word(dimension)}"
        )
    mg = value if dimension == "mass" else value * _mg_per(dimension, substance)
    return mg if target == "mass" else mg / _mg_per(target, substance)


def _mg_per(dimension: str, substance: Substance) -> Decimal:
    """Milligrams in one IU, one mEq or one mmol of this substance."""
    if dimension == "IU":
        if substance.iu_mg is None:
            raise ConversionError(
                f"{substance.name} has no IU definition: give the amount by mass (mg or mcg)"
            )
        return substance.iu_mg
    molar = substance.molar_mass_g
    if molar is None:
        raise ConversionError(
            f"{substance.name} has no molar mass on record: {dimension} cannot be used"
        )
    if dimension == "mmol":
        return molar
    if not substance.valence:
        raise ConversionError(f"{substance.name} has no valence on record: mEq cannot be used")
    return molar / Decimal(substance.valence)


def _word(dimension: str) -> str:
    return {"mass": "a mass", "volume": "a volume", "mEq": "mEq", "mmol": "mmol", "IU": "IU"}.get(
        dimension, dimension
    )


def convert(amount: Quantity, substance: Substance, target: str) -> Quantity:
    """An amount of a substance in another unit (mg, mcg, g, IU, mEq, mmol)."""
    if target not in TARGET_UNITS or target == "mL":
        raise ConversionError(
            f"cannot convert to '{target}' for a substance; use one of mg, mcg, g, IU, mEq, mmol"
        )
    unit = TARGET_UNITS[target]
    dimension, factor = UNITS[unit]
    value, typed = canonical(amount)
    return Q(measure_as(value, typed, substance, dimension) / factor, unit)


def to_elemental(amount: Quantity, salt: Substance, catalog: Catalog) -> tuple[Substance, Quantity]:
    """The element a salt amount supplies: 100 mg zinc sulfate heptahydrate is 22.7 mg zinc."""
    if salt.elemental is None:
        raise ConversionError(f"{salt.name} has no elemental equivalent on record")
    element = catalog.substance(salt.elemental.substance)
    if salt.molar_mass_g is None or element.molar_mass_g is None:
        raise ConversionError(f"{salt.name}: molar masses are needed for the elemental amount")
    value, dimension = canonical(amount)
    mg = measure_as(value, dimension, salt, "mass")
    return element, Q(
        mg * salt.elemental.atoms * element.molar_mass_g / salt.molar_mass_g, "milligram"
    )


def volume_ml(value: Decimal, dimension: str, product: Product, substance: Substance) -> Decimal:
    """mL of a product holding an amount (canonical value and dimension) of one of its substances."""
    per_ml, strength_dimension = product.strength_table.get(substance.code, (None, ""))
    if per_ml is None:
        raise ConversionError(f"{product.name} does not contain {substance.name}")
    return measure_as(value, dimension, substance, strength_dimension) / per_ml


def element_per_ml(product: Product, element: Substance, salt: Substance) -> Decimal:
    """mg of an element in one mL of a product whose strength is stated as its salt: Copper
    0.4 mg/mL is cupric chloride dihydrate 1.07 mg/mL × 63.546 / 170.48."""
    per_ml, dimension = product.strength_table.get(salt.code, (None, ""))
    if per_ml is None or salt.elemental is None or salt.elemental.substance != element.code:
        raise ConversionError(f"{product.name} does not carry {element.name}")
    if salt.molar_mass_g is None or element.molar_mass_g is None:
        raise ConversionError(f"{salt.name}: molar masses are needed for the elemental amount")
    salt_mg = measure_as(per_ml, dimension, salt, "mass")
    return salt_mg * salt.elemental.atoms * element.molar_mass_g / salt.molar_mass_g


def element_volume_ml(
    value: Decimal, dimension: str, product: Product, element: Substance, salt: Substance
) -> Decimal:
    """mL of a product, stated as a salt, holding an amount of the element the salt carries."""
    return measure_as(value, dimension, element, "mass") / element_per_ml(product, element, salt)


def volume_for(amount: Quantity, product: Product, substance: Substance) -> Quantity:
    """The volume of a product that holds an amount of one of its substances."""
    value, dimension = canonical(amount)
    return Q(volume_ml(value, dimension, product, substance), "milliliter")


def amount_in(volume: Quantity, product: Product, substance: Substance) -> Quantity:
    """How much of a substance a volume of a product holds."""
    per_ml, dimension = product.strength_table.get(substance.code, (None, ""))
    if per_ml is None:
        raise ConversionError(f"{product.name} does not contain {substance.name}")
    millilitres, typed = canonical(volume)
    if typed != "volume":
        raise ConversionError(f"{unit_text(volume)} is not a volume")
    return Q(millilitres * per_ml, CANONICAL[dimension])


def convert_through_product(
    amount: Quantity, product: Product, substance: Substance, target: str
) -> Quantity:
    """An amount to a volume of the product, a volume of it to an amount, or an amount to
    another unit of the substance its strength is of."""
    if target == "mL":
        return volume_for(amount, product, substance)
    if dimension_of(amount) == "volume":
        return convert(amount_in(amount, product, substance), substance, target)
    return convert(amount, substance, target)
