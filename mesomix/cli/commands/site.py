"""`mesomix site list|add`: the clinics of a chain sharing one database, each with its own
shelves and audit chain (a terminal works at one: the global `--site CODE`)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mesomix.cli.arguments import acting, group
from mesomix.cli.signin import services


def register(commands: Any) -> None:
    site = group(commands, "site", "the clinics sharing this database", "site_command")
    listed = site.add_parser("list", help="every site, and which one this terminal works at")
    listed.set_defaults(run=run_list)
    add = site.add_parser("add", help="a clinic joining the chain (admin)")
    add.add_argument("code", help="what its terminals are started with: --site CODE")
    add.add_argument("name", help="its name, as people say it")
    acting(add)
    add.set_defaults(run=run_add)


def run_list(args: argparse.Namespace, out: TextIO) -> int:
    program = services(args)
    here = program.settings.site
    for site in program.sites.sites():
        marks = ("  (this terminal)" if site.code == here else "") + (
            "" if site.active else "  closed"
        )
        print(f"{site.code:<12} {site.name}{marks}", file=out)
    return 0


def run_add(args: argparse.Namespace, out: TextIO) -> int:
    site = services(args).sites.add(args.actor, args.code, args.name)
    print(
        f"site {site.code} added: {site.name} (its terminals: mesomix --site {site.code})", file=out
    )
    return 0
