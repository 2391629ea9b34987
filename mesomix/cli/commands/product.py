"""`mesomix product reorder|low`: reorder levels and low stock."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mesomix.cli.arguments import acting, group
from mesomix.cli.signin import services


def register(commands: Any) -> None:
    product_commands = group(commands, "product", "reorder levels and low stock", "product_command")
    reorder = product_commands.add_parser("reorder", help="set a product's reorder level")
    reorder.add_argument("code")
    reorder.add_argument("--level", type=int, required=True, help="containers")
    reorder.add_argument("--quantity", type=int, required=True, help="containers to order")
    acting(reorder)
    reorder.set_defaults(run=run_reorder)
    low = product_commands.add_parser("low", help="products at or below their reorder level")
    acting(low)
    low.set_defaults(run=run_low)


def run_reorder(args: argparse.Namespace, out: TextIO) -> int:
    services(args).inventory.set_reorder(args.actor, args.code, args.level, args.quantity)
    print(f"{args.code}: reorder at {args.level}, order {args.quantity}", file=out)
    return 0


def run_low(args: argparse.Namespace, out: TextIO) -> int:
    for line in services(args).inventory.low_stock(args.actor):
        print(
            f"{line.product_name[:50]:<50} {line.containers:>5} on hand  (level {line.reorder_level})  order {line.suggested_order}",
            file=out,
        )
    return 0
