"""Quantities: the one pint registry, the one strict parser for everything a person types, and
quantities shown as clinicians write them.

quantity.py builds the registry (from definitions the edge hands in: the domain reads no files)
and quantities from exact magnitudes; parse.py reads what a person types and what our data files
say; canonical.py turns quantities into exact canonical magnitudes and back into words.
"""

from mesomix.domain.units.canonical import (
    CANONICAL,
    UNITS,
    canonical,
    format_amount,
    format_decimal,
    format_quantity,
    strength_canonical,
    unit_text,
    unit_word,
)
from mesomix.domain.units.parse import Field, parse_quantity, parse_reference
from mesomix.domain.units.quantity import (
    Q,
    Quantity,
    QuantityError,
    Registry,
    build_registry,
    registry,
)

__all__ = [
    "CANONICAL",
    "UNITS",
    "Field",
    "Q",
    "Quantity",
    "QuantityError",
    "Registry",
    "build_registry",
    "canonical",
    "format_amount",
    "format_decimal",
    "format_quantity",
    "parse_quantity",
    "parse_reference",
    "registry",
    "strength_canonical",
    "unit_text",
    "unit_word",
]
