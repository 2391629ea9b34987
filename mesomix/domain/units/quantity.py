"""The program's one pint registry, and quantities built from exact magnitudes."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pint

from mesomix.domain import unit_definitions
from mesomix.domain.text import readable
from mesomix.errors import Refused

Quantity = (
    Any  # pint.Quantity with a Decimal magnitude; pint's generic alias is not worth the noise
)
Registry = pint.UnitRegistry[Decimal]


class QuantityError(Refused, ValueError):
    """A typed quantity that cannot be read safely; the message is meant for the person who typed it."""

    def __init__(self, message: str) -> None:
        super().__init__(readable(message))


def build_registry(definitions: str) -> Registry:
    """pint's defaults with our definitions (IU, mEq, ... from data/units.txt), exact Decimals."""
    ureg: Registry = pint.UnitRegistry(non_int_type=Decimal, cache_folder=None)
    ureg.load_definitions(definitions.splitlines())
    return ureg


_registry: Registry | None = None
_registry_lock = threading.Lock()


def registry() -> Registry:
    """The program's one registry, built on first use from the definitions the edge hands in;
    safe to call from worker threads."""
    global _registry
    if _registry is None:
        with _registry_lock:
            if _registry is None:
                _registry = build_registry(unit_definitions.definitions())
    return _registry


_unit_objects: dict[str, Any] = {}


def _unit_object(unit: str) -> Any:
    """Parsed once per spelling: building a quantity from a parsed unit skips pint's parser."""
    found = _unit_objects.get(unit)
    if found is None:
        found = _unit_objects[unit] = registry().Unit(unit)
    return found


def Q(magnitude: Decimal | int | str, unit: str) -> Quantity:
    """Build a quantity from an exact magnitude (strings and ints become Decimal, never float)."""
    if isinstance(magnitude, float):
        raise TypeError("quantities take exact magnitudes (Decimal, int or str), not float")
    value = magnitude if isinstance(magnitude, Decimal) else Decimal(magnitude)
    return registry().Quantity(value, _unit_object(unit))
