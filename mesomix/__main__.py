"""Entry point: `mesomix` and `python -m mesomix`."""

from __future__ import annotations

import sys

from mesomix.cli import main as cli_main


def main() -> None:
    sys.exit(cli_main())


if __name__ == "__main__":
    main()
