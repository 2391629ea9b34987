"""`mesomix stock`: stock on hand by product and lot."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mesomix.cli.arguments import acting
from mesomix.cli.output import millilitres
from mesomix.cli.signin import services
from mesomix.options import BadInput


def register(commands: Any) -> None:
    stock = commands.add_parser("stock", help="stock on hand by product and lot")
    acting(stock)
    stock.add_argument("--product", metavar="CODE", help="one product, by its code")
    stock.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    if args.product is not None and not args.product.strip():
        raise BadInput("--product needs a product's code, not an empty text")
    program = services(args)
    today = program.clock.today()
    lines = program.stock.lots(args.actor, args.product)
    if args.product and not lines:
        product = program.catalog.product_coded(args.product)
        print(f"no stock of {product.name} ({product.code})", file=out)
        return 0
    header = f"{'product':<44} {'lot':<12} {'expiry':<10} {'status':<11} {'on hand':>10} {'sealed':>6} {'open':>8}"
    print(header, file=out)
    for line in lines:
        on_hand = millilitres(line.on_hand_ul)
        opened = millilitres(line.open_ul) if line.open_ul else ""
        print(
            f"{line.product_name[:44]:<44} {line.lot_number:<12} {line.expiry.isoformat():<10} "
            f"{'expired' if line.expiry < today else line.status:<11} {on_hand:>10} {line.sealed_containers:>6} {opened:>8}",
            file=out,
        )
    return 0
