"""Canonical magnitudes (exact Decimals in mg, mL, IU, mEq, mmol) and quantities shown as
clinicians write them: leading zero, no trailing zero, mcg spelled out."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from mesomix.domain.units.quantity import Quantity, QuantityError

# pint unit name -> (dimension, factor to the dimension's canonical unit)
UNITS: dict[str, tuple[str, Decimal]] = {
    "microgram": ("mass", Decimal("0.001")),
    "milligram": ("mass", Decimal(1)),
    "gram": ("mass", Decimal(1000)),
    "kilogram": ("mass", Decimal(1000000)),
    "microliter": ("volume", Decimal("0.001")),
    "milliliter": ("volume", Decimal(1)),
    "liter": ("volume", Decimal(1000)),
    "international_unit": ("IU", Decimal(1)),
    "milliequivalent": ("mEq", Decimal(1)),
    "equivalent": ("mEq", Decimal(1000)),
    "millimole": ("mmol", Decimal(1)),
    "mole": ("mmol", Decimal(1000)),
}
CANONICAL = {
    "mass": "milligram",
    "volume": "milliliter",
    "IU": "international_unit",
    "mEq": "milliequivalent",
    "mmol": "millimole",
}


def canonical(quantity: Quantity) -> tuple[Decimal, str]:
    """(magnitude in the canonical unit, dimension) of a simple amount such as 250 mcg."""
    items = list(quantity.unit_items())
    if len(items) == 1 and items[0][1] == 1 and items[0][0] in UNITS:
        dimension, factor = UNITS[items[0][0]]
        return Decimal(quantity.magnitude) * factor, dimension
    raise QuantityError(f"{unit_text(quantity)} is not an amount")


def strength_canonical(per_ml: Quantity) -> tuple[Decimal, str]:
    """(amount per mL in the canonical unit, dimension of the amount) of a strength."""
    items = dict(per_ml.unit_items())
    tops = [(name, power) for name, power in items.items() if power > 0]
    bottoms = [(name, power) for name, power in items.items() if power < 0]
    if len(tops) != 1 or len(bottoms) != 1 or tops[0][1] != 1 or bottoms[0][1] != -1:
        raise QuantityError(f"{unit_text(per_ml)} is not a strength per volume")
    dimension, top = UNITS[tops[0][0]]
    volume, bottom = UNITS[bottoms[0][0]]
    if volume != "volume":
        raise QuantityError(f"{unit_text(per_ml)} is not a strength per volume")
    return Decimal(per_ml.magnitude) * top / bottom, dimension


# --- showing quantities as clinicians write them --------------------------------------------

_SHOWN_UNITS = {
    "microgram": "mcg",
    "milligram": "mg",
    "gram": "g",
    "kilogram": "kg",
    "milliliter": "mL",
    "liter": "L",
    "international_unit": "IU",
    "milliequivalent": "mEq",
    "millimole": "mmol",
    "mole": "mol",
    "percent": "%",
}


def format_decimal(value: Decimal, places: int = 3) -> str:
    """Leading zero, no trailing zero, at most `places` decimals (more for tiny values)."""
    if value == 0:
        return "0"
    exponent = Decimal(1).scaleb(-places)
    if abs(value) < exponent:
        rounded = value.quantize(Decimal(1).scaleb(value.adjusted() - 2), rounding=ROUND_HALF_EVEN)
    else:
        rounded = value.quantize(exponent, rounding=ROUND_HALF_EVEN)
    text = format(rounded.normalize(), "f")
    return text


def unit_text(quantity: Quantity) -> str:
    """The unit as clinicians write it: mcg, mL, mg/mL, IU/mL."""
    parts_up: list[str] = []
    parts_down: list[str] = []
    for name, power in quantity.unit_items():
        shown = _SHOWN_UNITS.get(name, name)
        target = parts_up if power > 0 else parts_down
        target.append(shown if abs(power) == 1 else f"{shown}^{abs(power)}")
    text = "·".join(parts_up) or "1"
    if parts_down:
        text += "/" + "/".join(parts_down)
    return text


def unit_word(dimension: str) -> str:
    """The canonical unit of a dimension as clinicians write it: mg, mL, IU, mEq, mmol."""
    return _SHOWN_UNITS[CANONICAL[dimension]]


def format_amount(value: Decimal, dimension: str, places: int = 3) -> str:
    """A canonical magnitude shown with its unit (mg, mL, IU...), without building a quantity."""
    return f"{format_decimal(value, places)} {unit_word(dimension)}"


def format_quantity(quantity: Quantity, places: int = 3) -> str:
    """Show a quantity as clinicians write it: 0.5 mL, 5 mg, 250 mcg, 20 mg/mL."""
    return f"{format_decimal(Decimal(quantity.magnitude), places)} {unit_text(quantity)}"
