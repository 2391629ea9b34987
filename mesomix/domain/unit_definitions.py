"""Where the unit registry's definitions come from: the program's edge hands in a reader.

The domain reads no files, so the definitions file (data/units.txt) is read at the edge
(mesomix.reference) and its text handed to `units.build_registry` on the registry's first use.
This holder is apart from `units` so that the package root (mesomix/__init__.py) can name the
reader before pint is loaded: the first frame comes before anything heavy.
"""

from __future__ import annotations

from collections.abc import Callable

_reader: Callable[[], str] | None = None


def read_with(reader: Callable[[], str]) -> None:
    """Name the function that returns the definitions text; called once, by the package root."""
    global _reader
    _reader = reader


def definitions() -> str:
    """The definitions text, from the reader the edge named."""
    if _reader is None:
        raise RuntimeError("no reader of the unit definitions was named (mesomix/__init__.py)")
    return _reader()
