"""The application as `mesomix` opens it: the sign-in screen drawn first, the program built
behind it in a worker (tui/app.py).

What builds the program and what words a failed start are handed in by the entry point
(__main__.py), so that nothing here imports the database, the wiring or the command line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from mesomix.domain.text import readable
from mesomix.errors import Refused
from mesomix.options import EXIT_BAD_INPUT, BadInput, settings_from
from mesomix.settings import Settings
from mesomix.tui.app import starting_app

if TYPE_CHECKING:
    from mesomix.bootstrap import Services


def open_app(
    args: argparse.Namespace,
    program: Callable[[Settings], Services],
    explain: Callable[[Exception], str | None],
) -> int:
    """Run the application; a database that cannot be opened is explained on stderr (status 2)
    once the terminal is given back."""
    try:
        settings = settings_from(args)
    except BadInput as exc:
        print(f"mesomix: {readable(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    app = starting_app(settings, lambda: program(settings))
    app.run()
    if app.start_error is not None:
        problem = explain(app.start_error)
        if problem is None:
            raise app.start_error
        print(f"mesomix: {problem}", file=sys.stderr)
        error = app.start_error
        return error.exit_status if isinstance(error, Refused) else EXIT_BAD_INPUT
    return app.return_code or 0
