"""`mesomix demo`: the demo data set in the selected database."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mesomix.cli.signin import services
from mesomix.services.demo import load_demo, require_replacing


def register(commands: Any) -> None:
    demo = commands.add_parser("demo", help="fill the selected database with the demo data set")
    demo.add_argument("--replace", action="store_true", help="wipe users, patients and stock first")
    demo.add_argument(
        "--user", metavar="NAME", dest="actor", help="an admin, to replace a database"
    )
    demo.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    program = services(args)
    if args.replace:
        require_replacing(program.engine, program.accounts, args.actor)
    counts = load_demo(program, replace=args.replace)
    summary = ", ".join(f"{n} {what}" for what, n in counts.items())
    print(f"demo data loaded into {program.settings.database_url}: {summary}", file=out)
    return 0
