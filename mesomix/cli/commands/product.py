"""`mesomix product reorder|low|link-gtin|gtins`: reorder levels, low stock, and the GTINs
that let a scan name a product."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mesomix.cli.arguments import acting, group
from mesomix.cli.signin import services
from mesomix.services.gtins import PACKAGING


def register(commands: Any) -> None:
    product_commands = group(
        commands, "product", "reorder levels, low stock, GTINs", "product_command"
    )
    reorder = product_commands.add_parser("reorder", help="set a product's reorder level")
    reorder.add_argument("code")
    reorder.add_argument("--level", type=int, required=True, help="containers")
    reorder.add_argument("--quantity", type=int, required=True, help="containers to order")
    acting(reorder)
    reorder.set_defaults(run=run_reorder)
    low = product_commands.add_parser("low", help="products at or below their reorder level")
    acting(low)
    low.set_defaults(run=run_low)
    link = product_commands.add_parser(
        "link-gtin", help="link a box's or vial's GTIN to its product, so scans name it"
    )
    link.add_argument("gtin", help="the digits under the bar code, or a whole scan of it")
    link.add_argument("code", help="the product's code")
    link.add_argument("--packaging", default="", choices=[p for p in PACKAGING if p])
    link.add_argument("--reason", default="")
    acting(link)
    link.set_defaults(run=run_link)
    gtins = product_commands.add_parser("gtins", help="the GTINs a product is known by")
    gtins.add_argument("code", help="the product's code")
    acting(gtins)
    gtins.set_defaults(run=run_gtins)


def run_reorder(args: argparse.Namespace, out: TextIO) -> int:
    services(args).inventory.set_reorder(args.actor, args.code, args.level, args.quantity)
    print(f"{args.code}: reorder at {args.level}, order {args.quantity}", file=out)
    return 0


def run_link(args: argparse.Namespace, out: TextIO) -> int:
    link = services(args).gtins.link(args.actor, args.gtin, args.code, args.packaging, args.reason)
    print(f"GTIN {link.gtin} names {link.product_name} ({link.product_code})", file=out)
    return 0


def run_gtins(args: argparse.Namespace, out: TextIO) -> int:
    program = services(args)
    product = program.catalog.product_coded(args.code)
    links = program.gtins.of_product(product.code)
    for link in links:
        print(
            f"{link.gtin}  {link.packaging or '-':<8} linked by {link.linked_by} "
            f"on {link.linked_at.astimezone():%Y-%m-%d}",
            file=out,
        )
    print(f"{len(links)} GTIN(s) for {product.name} ({product.code})", file=out)
    return 0


def run_low(args: argparse.Namespace, out: TextIO) -> int:
    for line in services(args).inventory.low_stock(args.actor):
        print(
            f"{line.product_name[:50]:<50} {line.containers:>5} on hand  (level {line.reorder_level})  order {line.suggested_order}",
            file=out,
        )
    return 0
