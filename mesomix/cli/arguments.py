"""The arguments many commands share: the person acting, a command's own sub-commands, a day."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, time
from typing import Any

from mesomix.options import Parser


def group(commands: Any, name: str, help_text: str, dest: str) -> Any:
    """A command with sub-commands of its own (mix, allergy, user, lot, ...)."""
    command = commands.add_parser(name, help=help_text)
    return command.add_subparsers(dest=dest, required=True, parser_class=Parser)


def acting(command: argparse.ArgumentParser) -> None:
    """A command a person does: they name themselves and sign in (password prompted, or read
    from MESOMIX_PASSWORD for scripts)."""
    command.add_argument(
        "--user", required=True, metavar="NAME", dest="actor", help="who is doing it"
    )


def day(text: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def moment(text: str) -> datetime:
    """ "2026-12-10 14:30": a time on the clinic's clock, naive until the clock's zone is known."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date and time (YYYY-MM-DD HH:MM, e.g. 2026-12-10 14:30)"
        ) from None
