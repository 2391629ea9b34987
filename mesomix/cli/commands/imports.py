"""`mesomix import products|stock`: a CSV file of products or stock receipts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from mesomix.cli.arguments import acting, group
from mesomix.cli.output import ProgressBar
from mesomix.cli.signin import services
from mesomix.services.imports import read_import_file


def register(commands: Any) -> None:
    import_commands = group(
        commands, "import", "products or stock receipts from a CSV file", "import_command"
    )
    for what, help_text in (
        ("products", "add products to the catalogue (sample: data/import/products-sample.csv)"),
        ("stock", "book deliveries, one lot a row (sample: data/import/stock-sample.csv)"),
    ):
        command = import_commands.add_parser(what, help=help_text)
        command.add_argument("file", type=Path, metavar="FILE")
        acting(command)
        command.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    text = read_import_file(args.file)
    imports = services(args).imports
    book = imports.products if args.import_command == "products" else imports.stock
    result = book(args.actor, text, ProgressBar(sys.stderr))
    print(f"{args.file}: {args.import_command}: {result}", file=out)
    return 0
