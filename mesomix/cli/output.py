"""What the command line prints besides each command's own lines: a refusal in words with its
exit status, a progress bar, amounts kept in microlitres shown as clinicians write them."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import TextIO

import sqlalchemy as sa

from mesomix.domain.units import Q, format_quantity
from mesomix.errors import Refused
from mesomix.options import EXIT_BAD_INPUT

EXIT_BLOCKED = 1


def explain(error: Exception) -> str | None:
    """What a person reads when a command (or the application's start) is refused; None for
    anything unforeseen, which is a bug (__main__ shows it in one line, its traceback kept)."""
    if isinstance(error, Refused):
        return str(error)  # made safe to show where it was raised
    if isinstance(error, sa.exc.DBAPIError):
        return f"the database could not be used: {error.orig}"
    if isinstance(error, sa.exc.SQLAlchemyError):
        return f"the database could not be used: {error}"
    return None


def exit_status(error: Exception) -> int:
    """The status a command that `explain` words exits with: the refusal's own; a database
    error no service worded is refused as bad input."""
    return error.exit_status if isinstance(error, Refused) else EXIT_BAD_INPUT


def refused(error: Exception) -> int:
    """A refusal said on stderr, exit status 2; anything unforeseen is raised again (a bug)."""
    problem = explain(error)
    if problem is None:
        raise error
    print(f"mesomix: {problem}", file=sys.stderr)
    return exit_status(error)


def millilitres(microlitres: int) -> str:
    """A volume the database keeps in microlitres, as clinicians write it: 0.5 mL, 5 mL."""
    return format_quantity(Q(Decimal(microlitres) / 1000, "milliliter"))


class ProgressBar:
    """A bar on the terminal for long imports; silent when stderr is not a terminal."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._shown = stream.isatty()
        self._last: tuple[str, int] = ("", -1)

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self._shown or not total:
            return
        filled = self.WIDTH * done // total
        if (phase, filled) == self._last and done != total:
            return  # redraw only when the bar moves
        self._last = (phase, filled)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        end = "\n" if done == total else ""
        self._stream.write(f"\r{phase:<8} [{bar}] {done:,}/{total:,}{end}")
        self._stream.flush()
