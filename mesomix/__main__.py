"""Entry point: `mesomix` and `python -m mesomix`."""

from __future__ import annotations

import sys

from mesomix.cli import main as cli_main


def main() -> None:
    try:
        sys.exit(cli_main())
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stderr.close()
        sys.exit(0)


if __name__ == "__main__":
    main()
