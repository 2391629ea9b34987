"""Entry point: `mesomix` and `python -m mesomix`.

Whatever goes wrong, a person reads one line, never a traceback: refusals and database faults
are worded by the command line itself; anything unforeseen (a bug) is named in one line here,
with its traceback kept in a file for whoever fixes it.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from mesomix.clock import SystemClock
from mesomix.options import app_arguments

if TYPE_CHECKING:
    from mesomix.bootstrap import Services
    from mesomix.settings import Settings

EXIT_INTERRUPTED = 130
EXIT_BUG = 70  # EX_SOFTWARE


def _keep_details(error: BaseException) -> str:
    """The traceback in the user's log folder; where it went, or why it could not be kept."""
    try:
        folder = Path(platformdirs.user_log_dir("mesomix", appauthor=False))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"error-{SystemClock().now():%Y%m%d-%H%M%S}.txt"
        path.write_text("".join(traceback.format_exception(error)), encoding="utf-8")
        return f"details in {path}"
    except OSError as exc:
        return f"the details could not be kept ({exc.strerror})"


def run(argv: list[str]) -> int:
    """The application alone opens without loading the command line (its first frame comes
    before anything heavy); anything else is a command."""
    args = app_arguments(argv)
    if args is not None:
        from mesomix.tui.start import open_app

        return open_app(args, lambda settings: _program(settings, demo=args.demo), _explain)
    from mesomix.cli import main as cli_main

    return cli_main(argv)


def _program(settings: Settings, *, demo: bool) -> Services:
    """Everything behind the sign-in screen, built in the application's worker: the database
    checked and migrated, the services built, the demo data made on first use."""
    from mesomix.bootstrap import build_services

    return build_services(settings, demo=demo)


def _explain(error: Exception) -> str | None:
    """A failed start in the command line's words: its database faults and refusals."""
    from mesomix.cli.output import explain

    return explain(error)


def main() -> None:
    try:
        sys.exit(run(sys.argv[1:]))
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stderr.close()
        sys.exit(0)
    except KeyboardInterrupt:
        print("mesomix: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as error:  # a bug: one line for the person, the traceback for a developer
        print(
            f"mesomix: unexpected error ({type(error).__name__}: {error}); the command stopped "
            f"— {_keep_details(error)}",
            file=sys.stderr,
        )
        sys.exit(EXIT_BUG)


if __name__ == "__main__":
    main()
