"""The one root of every refusal: what mesomix says when it will not do what a person asked.

Everything that refuses — a quantity that cannot be read, a dispense a finding blocks, a
database that cannot be used, a command-line mistake — derives from `Refused`; its `str()` is
the message for a person, made safe to show where it was raised, and `exit_status` is what the
command line exits with. Anything else that escapes is a bug: the command line and the
application show it in one line and keep its traceback in the log (bugs.py).

Pure: imports nothing of mesomix, so every layer, the domain included, may raise it.
"""

from __future__ import annotations

from typing import ClassVar


class Refused(Exception):
    """Refused: nothing was written; `str()` says why, in words a person can act on."""

    # The command line's status for anything refused (bad input, a database that cannot be
    # used); 1 is kept for "checked, and blocked" and 70 for a bug.
    exit_status: ClassVar[int] = 2
