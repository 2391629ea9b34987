"""`mesomix convert`: an amount or a strength in another unit. A plain unit or a strength
converts alone; a substance or product only when the conversion depends on it (IU, mEq, mmol,
a salt's element, a volume of a product)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mesomix.bootstrap import Services
from mesomix.cli.signin import services
from mesomix.domain.catalog import Substance
from mesomix.domain.conversions import (
    STRENGTH_TARGETS,
    TARGET_UNITS,
    SubstanceNeeded,
    convert,
    convert_plain,
    convert_strength,
    convert_through_product,
    dimension_of,
    to_elemental,
)
from mesomix.domain.units import Field, QuantityError, format_quantity, parse_quantity
from mesomix.options import BadInput


def register(commands: Any) -> None:
    conv = commands.add_parser(
        "convert",
        help="convert an amount or a strength; through a substance or product when it depends on one",
    )
    conv.add_argument(
        "amount", help='an amount ("0.25 mg", "1000 IU") or a strength ("2 %%", "1:1000")'
    )
    which = conv.add_mutually_exclusive_group()
    which.add_argument(
        "--substance", metavar="NAME", help="needed for IU, mEq, mmol and --elemental"
    )
    which.add_argument("--product", metavar="CODE", help="needed between a volume and an amount")
    conv.add_argument(
        "--to",
        required=True,
        metavar="UNIT",
        help="mg, mcg, g, IU, mEq, mmol or mL; for a strength mg/mL, mcg/mL, IU/mL … or %%",
    )
    conv.add_argument("--elemental", action="store_true", help="the element a salt supplies")
    conv.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    if (args.product is not None and not args.product.strip()) or (
        args.substance is not None and not args.substance.strip()
    ):
        raise BadInput("--product and --substance need a name or code, not an empty text")
    if _is_strength(args.amount):
        return _convert_strength(args, out)
    amount = parse_quantity(args.amount, Field.AMOUNT)
    if args.to not in TARGET_UNITS:
        kind = f"{args.amount.strip()} is an amount, not a strength: " * (
            args.to in STRENGTH_TARGETS
        )
        raise BadInput(f"--to {args.to}: {kind}use one of mg, mcg, g, IU, mEq, mmol, mL")
    if args.product is None and args.substance is None:
        if args.elemental:
            raise BadInput(
                "--elemental: the element a salt supplies depends on the salt: "
                "add --substance NAME (e.g. zinc_sulfate_heptahydrate)"
            )
        try:
            result = convert_plain(amount, args.to)
        except SubstanceNeeded as exc:
            raise BadInput(f"{exc}: add {_which_flag(exc.by)}") from None
        print(format_quantity(result, places=4), file=out)
        return 0
    program = services(args)  # only once the arguments are sound
    if args.product is not None:
        product, substance = program.catalog.product_and_strength(args.product)
        result = convert_through_product(amount, product, substance, args.to)
    else:
        substance = program.catalog.substance_named(args.substance)
        if args.elemental:
            element, mass = to_elemental(amount, substance, program.catalog.catalog())
            result = convert(mass, element, args.to)
            print(f"{format_quantity(result)} {element.name.lower()}", file=out)
            return 0
        if args.to == "mL" or dimension_of(amount) == "volume":
            raise BadInput(
                f"--to {args.to}: a volume to an amount, or an amount to a volume, depends on "
                "the product's strength: use --product CODE instead of --substance"
            )
        result = convert(amount, substance, args.to)
    print(format_quantity(result, places=4), file=out)
    return 0


def _is_strength(text: str) -> bool:
    """A concentration is typed with a slash, a percent sign or a ratio colon."""
    return any(mark in text for mark in "/%:")


def _which_flag(by: str) -> str:
    return "--product CODE" if by == "product" else "--substance NAME (or --product CODE)"


def _convert_strength(args: argparse.Namespace, out: TextIO) -> int:
    """2 % to mg/mL, 1:1000 to mg/mL, 20 mg/mL to %: alone; mg/mL to IU/mL through a
    substance."""
    try:
        strength = parse_quantity(args.amount, Field.STRENGTH)
    except QuantityError as exc:
        raise BadInput(f"the amount to convert, read as a strength: {exc}") from None
    if args.to not in STRENGTH_TARGETS:
        raise BadInput(
            f"--to {args.to}: {args.amount.strip()} is a strength: convert it to a strength, "
            "one of mg/mL, mcg/mL, g/mL, IU/mL, mEq/mL, mmol/mL or %"
        )
    if args.elemental:
        raise BadInput("--elemental converts an amount of a salt, not a strength")
    substance = None
    if args.substance is not None or args.product is not None:
        substance = _substance_of(services(args), args)
    try:
        result = convert_strength(strength, args.to, substance)
    except SubstanceNeeded as exc:
        raise BadInput(f"{exc}: add --substance NAME") from None
    print(format_quantity(result, places=4), file=out)
    return 0


def _substance_of(program: Services, args: argparse.Namespace) -> Substance:
    """The substance named, or the one the product named has its strength of."""
    if args.product is not None:
        return program.catalog.product_and_strength(args.product)[1]
    return program.catalog.substance_named(args.substance)
