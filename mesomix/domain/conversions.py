"""Conversions that depend on the substance or the product: never a global factor.

IU to mass goes through the substance's own IU definition, mEq and mmol through its molar mass and
valence, salt to element through both molar masses, volume to amount through a product's strength.
A conversion the substance cannot support is refused with a message that says what is missing.
"""

from __future__ import annotations

from decimal import Decimal

from mesomix.domain.catalog import Catalog, Measure, Product, Substance
from mesomix.domain.units import Q, Quantity, QuantityError, registry, unit_text

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


class ConversionError(QuantityError):
    """A conversion the substance or product cannot support; the message says why."""


def _dimension(quantity: Quantity) -> str:
    dims = quantity.dimensionality
    if dims == _MASS_DIM:
        return "mass"
    if dims == _VOLUME_DIM:
        return "volume"
    if dims == _IU_DIM:
        return "IU"
    if dims == _EQ_DIM:
        return "mEq"
    if dims == _MOL_DIM:
        return "mmol"
    return str(dims)


_ureg = registry()
_MASS_DIM = _ureg.milligram.dimensionality
_VOLUME_DIM = _ureg.milliliter.dimensionality
_IU_DIM = _ureg.international_unit.dimensionality
_EQ_DIM = _ureg.milliequivalent.dimensionality
_MOL_DIM = _ureg.millimole.dimensionality


def dimension_of(quantity: Quantity) -> str:
    """'mass', 'volume', 'IU', 'mEq' or 'mmol': what kind of amount was typed."""
    return _dimension(quantity)


def to_measure(amount: Quantity, substance: Substance) -> Quantity:
    """The amount in the substance's dosing measure: mg for most, IU for enzymes."""
    kind = _dimension(amount)
    if substance.measure is Measure.ACTIVITY:
        if kind == "IU":
            return amount.to("international_unit")
        raise ConversionError(
            f"{substance.name} is dosed by activity: give the amount in IU, not {unit_text(amount)}"
        )
    if kind == "mass":
        return amount.to("milligram")
    if kind == "IU":
        if substance.iu is None:
            raise ConversionError(
                f"{substance.name} has no IU definition: give the amount by mass (mg or mcg)"
            )
        return (amount.magnitude * substance.iu.mass).to("milligram")
    if kind == "mEq":
        molar_mass, valence = _molar(substance, "mEq")
        if not valence:
            raise ConversionError(f"{substance.name} has no valence on record: mEq cannot be used")
        moles = amount.to("milliequivalent").magnitude / Decimal(valence)
        return Q(moles * molar_mass, "milligram")
    if kind == "mmol":
        molar_mass, _ = _molar(substance, "mmol")
        return Q(amount.to("millimole").magnitude * molar_mass, "milligram")
    if kind == "volume":
        raise ConversionError(
            f"a volume of {substance.name} depends on the product's strength: choose a product"
        )
    raise ConversionError(f"{unit_text(amount)} is not an amount of {substance.name}")


def _molar(substance: Substance, unit: str) -> tuple[Decimal, int | None]:
    """Molar mass in g/mol (numerically mg/mmol) and valence."""
    if substance.molar_mass is None:
        raise ConversionError(
            f"{substance.name} has no molar mass on record: {unit} cannot be used"
        )
    return Decimal(substance.molar_mass.to("gram / mole").magnitude), substance.valence


def convert(amount: Quantity, substance: Substance, target: str) -> Quantity:
    """An amount of a substance in another unit (mg, mcg, g, IU, mEq, mmol)."""
    if target not in TARGET_UNITS or target == "mL":
        raise ConversionError(
            f"cannot convert to '{target}' for a substance; use one of mg, mcg, g, IU, mEq, mmol"
        )
    unit = TARGET_UNITS[target]
    measure = to_measure(amount, substance)
    if substance.measure is Measure.ACTIVITY:
        if target != "IU":
            raise ConversionError(f"{substance.name} is dosed by activity: it converts only to IU")
        return measure
    mg = Decimal(measure.magnitude)
    if target == "IU":
        if substance.iu is None:
            raise ConversionError(f"{substance.name} has no IU definition")
        per_iu = Decimal(substance.iu.mass.to("milligram").magnitude)
        return Q(mg / per_iu, unit)
    if target == "mEq":
        molar_mass, valence = _molar(substance, "mEq")
        if not valence:
            raise ConversionError(f"{substance.name} has no valence on record: mEq cannot be used")
        return Q(mg / molar_mass * valence, unit)
    if target == "mmol":
        molar_mass, _ = _molar(substance, "mmol")
        return Q(mg / molar_mass, unit)
    return measure.to(unit)


def to_elemental(amount: Quantity, salt: Substance, catalog: Catalog) -> tuple[Substance, Quantity]:
    """The element a salt amount supplies: 100 mg zinc sulfate heptahydrate is 22.7 mg zinc."""
    if salt.elemental is None:
        raise ConversionError(f"{salt.name} has no elemental equivalent on record")
    element = catalog.substance(salt.elemental.substance)
    salt_mass, _ = _molar(salt, "elemental conversion")
    element_mass, _ = _molar(element, "elemental conversion")
    mg = Decimal(to_measure(amount, salt).magnitude)
    return element, Q(mg * salt.elemental.atoms * element_mass / salt_mass, "milligram")


def strength_unit(product: Product, substance: Substance) -> tuple[Decimal, str]:
    """The product's strength of a substance as (amount per mL, amount unit)."""
    strength = product.strength_of(substance.code)
    if strength is None:
        raise ConversionError(f"{product.name} does not contain {substance.name}")
    per_ml = strength.per_ml.to(f"{_numerator(strength.per_ml)} / milliliter")
    return Decimal(per_ml.magnitude), _numerator(strength.per_ml)


def _numerator(per_ml: Quantity) -> str:
    return next(name for name, power in per_ml.unit_items() if power > 0)


def volume_for(amount: Quantity, product: Product, substance: Substance) -> Quantity:
    """The volume of a product that holds an amount of one of its substances."""
    per_ml, unit = strength_unit(product, substance)
    wanted = _as_unit(amount, substance, unit)
    return Q(wanted / per_ml, "milliliter")


def amount_in(volume: Quantity, product: Product, substance: Substance) -> Quantity:
    """How much of a substance a volume of a product holds."""
    per_ml, unit = strength_unit(product, substance)
    return Q(Decimal(volume.to("milliliter").magnitude) * per_ml, unit)


def _as_unit(amount: Quantity, substance: Substance, unit: str) -> Decimal:
    shown = {v: k for k, v in TARGET_UNITS.items() if k not in ("µg", "ug")}
    return Decimal(convert(amount, substance, shown[unit]).to(unit).magnitude)
