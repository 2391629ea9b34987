"""`mesomix check`: is the database sound? Writes nothing."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from mesomix.bootstrap import check
from mesomix.cli.output import EXIT_BLOCKED
from mesomix.options import settings_from


def register(commands: Any) -> None:
    command = commands.add_parser(
        "check",
        help="SQLite's integrity check, the append-only triggers, the ledger against the audit trail "
        "and the audit chain; writes nothing "
        "(exit 0 sound, 1 problems found)",
    )
    command.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """SQLite's own integrity and foreign-key checks, then the ledger and the audit chain: 0 when
    all is sound, 1 when something is damaged or inconsistent (2: it could not be checked)."""
    lines = check(settings_from(args))
    for line in lines:
        print(f"{line.what}: {line.detail}", file=out)
    if all(line.ok for line in lines):
        return 0
    print("mesomix: the database has problems: see above", file=sys.stderr)
    return EXIT_BLOCKED
