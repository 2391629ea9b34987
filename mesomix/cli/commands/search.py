"""`mesomix search`: find a substance or product. The catalogue is everyone's to read: no
sign-in."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from mesomix.cli.signin import services
from mesomix.options import BadInput


def register(commands: Any) -> None:
    find = commands.add_parser("search", help="find a substance or product; forgives typos")
    find.add_argument(
        "text",
        help='a few letters, a synonym or a misspelling: "hyaluronc acid"; a strength or size '
        'is matched whole: "lidocaine 2%%"',
    )
    find.add_argument("--limit", type=int, default=5, help="how many (1 to 50)")
    find.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    if not 1 <= args.limit <= 50:
        raise BadInput(f"--limit {args.limit}: ask for 1 to 50 results")
    hits, why = services(args).catalog.search_typed(args.text, args.limit)
    for hit in hits:
        print(f"{hit.kind:<9} {hit.code:<40} {hit.name}  ({hit.match})", file=out)
    if not hits:
        print(why or f"nothing in the catalogue looks like '{args.text}'", file=sys.stderr)
        return 1
    return 0
