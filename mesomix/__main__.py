"""Entry point: `mesomix` and `python -m mesomix`.

Whatever goes wrong, a person reads one line, never a traceback: refusals and database faults
are worded by the command line itself; anything unforeseen (a bug) is named in one line here,
with its traceback kept in a file for whoever fixes it.
"""

from __future__ import annotations

import sys

from mesomix.bugs import keep_details
from mesomix.launch import app_arguments, open_app

EXIT_INTERRUPTED = 130
EXIT_BUG = 70  # EX_SOFTWARE


def run(argv: list[str]) -> int:
    """The application alone opens without loading the command line (its first frame comes
    before anything heavy); anything else is a command."""
    args = app_arguments(argv)
    if args is not None:
        return open_app(args)
    from mesomix.cli import main as cli_main

    return cli_main(argv)


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
            f"— {keep_details(error)}",
            file=sys.stderr,
        )
        sys.exit(EXIT_BUG)


if __name__ == "__main__":
    main()
