"""The options every start of mesomix shares, the application's and each command's: `--db`,
`--demo`, `--read-only`, `--user`, `--idle-minutes` and the environment (MESOMIX_DATABASE_URL,
MESOMIX_IDLE_MINUTES, MESOMIX_LABELS, MESOMIX_PRINTER, MESOMIX_SESSION_HOURS), read into Settings.

Light on purpose, and outside the command line's package: `mesomix` alone reads these before the
application's first frame, without loading the commands, the database, pint or pandas.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from mesomix.domain.text import readable
from mesomix.errors import Refused
from mesomix.settings import Settings, database_url, demo_database_path

EXIT_BAD_INPUT = 2
IDLE_ENV = "MESOMIX_IDLE_MINUTES"
LABELS_ENV = "MESOMIX_LABELS"  # the folder labels are saved in
PRINTER_ENV = "MESOMIX_PRINTER"  # the printer labels are sent to
SESSION_ENV = "MESOMIX_SESSION_HOURS"  # the window a dose limit per session counts
SITE_ENV = "MESOMIX_SITE"  # the site a terminal works at


class BadInput(Refused):
    """A command-line mistake; the message goes to stderr and the exit status is 2. Its words
    may quote what was typed, so they are made safe here, as every refusal's are."""

    def __init__(self, message: str) -> None:
        super().__init__(readable(message))


class Parser(argparse.ArgumentParser):
    """argparse, with its complaints made safe to print and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"mesomix: {readable(message)}\n")


def add_global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="PATH", help="SQLite database file (default: the user's data folder)"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="use the demo database, made and filled on first use (the app or any command)",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="open the database so that nothing can be written (stock and reports still work)",
    )
    parser.add_argument("--user", metavar="NAME", dest="app_user", help="the name to sign in with")
    parser.add_argument(
        "--site",
        metavar="CODE",
        help=f"the site (clinic) this terminal works at (default {SITE_ENV} or the first, main)",
    )
    parser.add_argument(
        "--idle-minutes",
        type=int,
        help=f"lock the app after this many minutes without activity (default {IDLE_ENV} or 5)",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings the global options ask for; BadInput when one cannot be used."""
    idle = args.idle_minutes
    if idle is None:
        text = os.environ.get(IDLE_ENV, "5").strip()
        if not text.isascii() or not text.isdigit():
            raise BadInput(f"{IDLE_ENV} must be a whole number of minutes, not {text!r}")
        idle = int(text)
    if not 1 <= idle <= 24 * 60:
        raise BadInput("--idle-minutes must be between 1 and 1440 (a day)")
    path = args.db or (demo_database_path() if args.demo else None)
    labels = os.environ.get(LABELS_ENV, "").strip()
    session = os.environ.get(SESSION_ENV, "").strip()
    if session and not (session.isascii() and session.isdigit() and 1 <= int(session) <= 72):
        raise BadInput(
            f"{SESSION_ENV} must be a whole number of hours from 1 to 72 (unset: the clinic's "
            f"calendar day), not {session!r}"
        )
    site = (args.site or os.environ.get(SITE_ENV, "") or "main").strip()
    if (
        not site
        or len(site) > 32
        or not all(c.isascii() and (c.isalnum() or c == "-") for c in site)
    ):
        raise BadInput(
            f"{'--site' if args.site else SITE_ENV} must be a site's code (letters, digits and "
            f"dashes, at most 32), not {site[:40]!r}"
        )
    return Settings(
        database_url=database_url(path),
        site=site.lower(),
        user=args.app_user,
        idle_minutes=idle,
        read_only=args.read_only,
        labels_folder=Path(labels).expanduser() if labels else None,
        printer=os.environ.get(PRINTER_ENV, "").strip(),
        session_hours=int(session) if session else None,
    )


def app_arguments(argv: Sequence[str]) -> argparse.Namespace | None:
    """The global options when the command line asks for the application alone; None when it
    names a command, asks for help or holds anything else (the full parser answers then)."""
    parser = Parser(prog="mesomix", add_help=False)
    add_global_options(parser)
    args, rest = parser.parse_known_args(argv)
    return None if rest else args
