"""The command line: `mesomix COMMAND …`. Thin: each command (commands/) reads its arguments,
calls a service and prints. Bad input: a message on stderr, exit status 2, nothing written.

`mesomix` alone opens the application instead (tui/start.py), without importing this package.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from mesomix.bootstrap import Services, build, build_services
from mesomix.cli.commands import (
    allergy,
    audit,
    check,
    clinic,
    consent,
    convert,
    course,
    demo,
    imports,
    lot,
    mix,
    patient,
    product,
    reaction,
    report,
    search,
    session,
    site,
    stock,
    user,
)
from mesomix.cli.output import explain, refused
from mesomix.options import Parser, add_global_options
from mesomix.settings import Settings

COMMANDS = (  # in the order `mesomix --help` lists them
    check,
    demo,
    search,
    convert,
    mix,
    allergy,
    stock,
    user,
    lot,
    product,
    report,
    imports,
    patient,
    course,
    session,
    consent,
    reaction,
    clinic,
    site,
    audit,
)


def parser() -> argparse.ArgumentParser:
    top = Parser(prog="mesomix", description="Compose, check and dispense mesotherapy mixtures.")
    add_global_options(top)
    commands = top.add_subparsers(dest="command", parser_class=Parser)
    for command in COMMANDS:
        command.register(commands)
    return top


def main(
    argv: Sequence[str] | None = None,
    out: TextIO | None = None,
    build: Callable[[Settings], Services] = build,
) -> int:
    """Run one command (or, with none, the application); `build` makes the program on the chosen
    database (tests hand in one already built)."""
    out = out or sys.stdout
    args = parser().parse_args(argv)
    args.build = build
    try:
        if args.command is None:
            from mesomix.tui.start import open_app

            demo = args.demo
            return open_app(args, lambda s: build_services(s, demo=demo, build=build), explain)
        run: Callable[[argparse.Namespace, TextIO], int] = args.run
        return run(args, out)
    except Exception as error:
        return refused(error)
