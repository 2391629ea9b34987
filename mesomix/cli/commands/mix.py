"""`mesomix mix check|dispense|label`: a mixture written in TOML checked or dispensed, a
dispensed batch's label again."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from mesomix.cli.arguments import acting, group
from mesomix.cli.files import MIXTURE_FILE_LIMIT, read_text
from mesomix.cli.output import EXIT_BLOCKED, millilitres
from mesomix.cli.signin import services, signing_password
from mesomix.domain.findings import Severity
from mesomix.domain.label import SIZES, read_batch_code
from mesomix.domain.mixture import DraftMixture, Plan
from mesomix.domain.mixture_file import MixtureFileError, read_mixture
from mesomix.domain.overrides import REASONS
from mesomix.domain.text import readable
from mesomix.domain.units import format_quantity
from mesomix.options import EXIT_BAD_INPUT, BadInput
from mesomix.services.labels import FORMS
from mesomix.services.mixtures import DispenseRefused, Signature


def register(commands: Any) -> None:
    mix_commands = group(
        commands, "mix", "check or dispense a mixture written in TOML", "mix_command"
    )
    check = mix_commands.add_parser("check", help="plan and findings; writes nothing")
    check.add_argument("file", type=Path)
    check.add_argument("--json", action="store_true", help="plan and findings as JSON")
    _scanning(check)
    acting(check)
    check.set_defaults(run=run_check)
    dispense = mix_commands.add_parser(
        "dispense", help="dispense: takes the stock, records the batch"
    )
    dispense.add_argument("file", type=Path)
    _scanning(dispense)
    acting(dispense)
    dispense.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="KEY",
        help="a blocking finding to sign off (its key, as `mix check` prints it); repeatable",
    )
    dispense.add_argument(
        "--signed-by", metavar="NAME", help="the practitioner who signs the overrides"
    )
    dispense.add_argument("--reason", metavar="CODE", help="coded reason: " + ", ".join(REASONS))
    dispense.add_argument("--why", metavar="TEXT", help="in a few words, why")
    dispense.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the practitioner's password from standard input",
    )
    reading = dispense.add_mutually_exclusive_group()
    reading.add_argument(
        "--acknowledge",
        action="append",
        default=[],
        metavar="KEY",
        help="a WARNING you have read (its key, as `mix check` prints it); repeatable",
    )
    reading.add_argument(
        "--acknowledge-all",
        action="store_true",
        help="you have read every WARNING `mix check` prints for this mixture",
    )
    dispense.set_defaults(run=run_dispense)
    label = mix_commands.add_parser(
        "label", help="a dispensed batch's label again: shown, saved or printed"
    )
    label.add_argument(
        "batch", metavar="BATCH", help="the batch's number, or its label's 2-D code as scanned"
    )
    acting(label)
    label.add_argument(
        "--format",
        dest="form",
        choices=FORMS,
        default="text",
        help="text (default), pdf, or zpl for a label printer (zpl is printed on stdout "
        "unless saved)",
    )
    label.add_argument("--size", choices=tuple(SIZES), default="62mm", help="the label's size")
    label.add_argument(
        "--save",
        nargs="?",
        const="",
        metavar="FOLDER",
        help="save it as a text file (default folder: MESOMIX_LABELS, else the data folder)",
    )
    label.add_argument(
        "--print", action="store_true", help="send it to MESOMIX_PRINTER or the default printer"
    )
    label.set_defaults(run=run_label)


def _scanning(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--scan",
        action="append",
        default=[],
        metavar="CODE",
        help="a vial scanned at the bench (what the scanner reads); repeatable",
    )
    command.add_argument(
        "--scans-stdin",
        action="store_true",
        help="the vials scanned, one a line from standard input (scan each, then Ctrl+D)",
    )


def scans_of(args: argparse.Namespace) -> tuple[str, ...]:
    """The scans given with --scan and, with --scans-stdin, one a line from standard input."""
    scans = [*args.scan]
    if args.scans_stdin:
        if getattr(args, "password_stdin", False):
            raise BadInput("--scans-stdin and --password-stdin both read standard input: give one")
        scans += [line.strip() for line in sys.stdin if line.strip()]
    if any(not scan.strip() for scan in scans):
        raise BadInput("--scan needs what the scanner read, not an empty text")
    if len(scans) > 100:
        raise BadInput(f"{len(scans)} scans: a mixture draws far fewer vials")
    return tuple(scan.strip() for scan in scans)


def mixture_in(path: Path) -> DraftMixture:
    """The draft mixture a file holds, or why the file is not one, naming it."""
    try:
        return read_mixture(read_text(path, MIXTURE_FILE_LIMIT, "a mixture file"))
    except MixtureFileError as exc:
        raise BadInput(f"{path}: {exc}") from None


def run_check(args: argparse.Namespace, out: TextIO) -> int:
    draft = replace(mixture_in(args.file), scans=scans_of(args))
    plan = services(args).mixtures.check(draft, args.actor)
    if args.json:
        print(json.dumps(plan_as_dict(plan), indent=2, ensure_ascii=False), file=out)
    else:
        print_plan(plan, out)
    return EXIT_BLOCKED if plan.blocked else 0


def run_dispense(args: argparse.Namespace, out: TextIO) -> int:
    draft = replace(mixture_in(args.file), scans=scans_of(args))
    program = services(args)
    try:
        result = program.mixtures.dispense(
            draft, args.actor, _signatures(args), args.acknowledge, args.acknowledge_all
        )
    except DispenseRefused as refused:
        if not refused.unacknowledged:
            raise
        _unacknowledged(refused)
        return EXIT_BAD_INPUT
    print(f"dispensed batch {result.batch_id}", file=out)
    print(result.label, file=out)
    return 0


def batch_named(typed: str) -> int:
    """The batch a number or a scanned label's code names."""
    scanned = read_batch_code(typed)
    if scanned is not None:
        return scanned
    if typed.strip().isdigit() and typed.strip().isascii():
        return int(typed)
    raise BadInput(f"'{typed}' is neither a batch number nor a label's code (MXB and 9 digits)")


def run_label(args: argparse.Namespace, out: TextIO) -> int:
    """The label on stdout, unless it is saved or printed (then what was done)."""
    batch = batch_named(args.batch)
    if args.print and args.form != "text":
        raise BadInput("--print sends the text label; save a PDF or ZPL and print that file")
    if args.form == "pdf" and args.save is None:
        raise BadInput("a PDF label is a file: add --save [FOLDER]")
    labels = services(args).labels
    if args.save is None and not args.print:
        if args.form == "zpl":
            print(
                labels.printable(args.actor, batch, "zpl", args.size)[1].decode(), end="", file=out
            )
        else:
            print(labels.label(args.actor, batch).text, file=out)
        return 0
    if args.save is not None:
        folder = Path(args.save).expanduser() if args.save else None
        saved = labels.save(args.actor, batch, folder, args.form, args.size)
        print(f"saved to {saved}", file=out)
    if args.print:
        print(labels.send_to_printer(args.actor, batch), file=out)
    return 0


def plan_as_dict(plan: Plan) -> dict[str, Any]:
    return {
        "final_volume": format_quantity(plan.final_volume),
        "final_volume_asked": None if plan.asked_ul is None else millilitres(plan.asked_ul),
        "ingredients_volume": millilitres(plan.ingredients_ul),
        "dispensable": not plan.blocked,
        "draws": [
            {
                "ingredient": d.ingredient,
                "product": d.product.code,
                "product_name": d.product.name,
                "volume": format_quantity(d.volume),
                "containers": d.containers,
                "delivers": {x.substance.code: format_quantity(x.amount, 4) for x in d.delivered},
                "final_concentration": {
                    x.substance.code: format_quantity(x.concentration, 4)
                    for x in d.delivered
                    if x.concentration is not None
                },
            }
            for d in plan.draws
        ],
        "findings": [f.as_dict() for f in plan.findings],
    }


def volume_line(plan: Plan) -> str:
    """The final volume as asked beside what the ingredients add up to, whenever they differ:
    never the ingredients' total alone under the name of the final volume."""
    drawn = millilitres(plan.ingredients_ul)
    if plan.asked_ul is None:
        return f"Final volume: none asked; the ingredients add up to {drawn}"
    asked = millilitres(plan.asked_ul)
    if plan.ingredients_ul > plan.asked_ul:
        return f"Final volume asked {asked}; the ingredients add up to {drawn}, more than that"
    return (
        f"Final volume {asked}; the ingredients add up to {drawn}, the diluent makes up the rest"
        if plan.ingredients_ul < plan.asked_ul
        else f"Final volume {asked}; the ingredients add up to it"
    )


def print_plan(plan: Plan, out: TextIO) -> None:
    print(volume_line(plan), file=out)
    for draw in plan.draws:
        what = ", ".join(
            f"{d.substance.short_name} {format_quantity(d.amount, 4)}" for d in draw.delivered
        )
        unit = "container" if draw.containers == 1 else "containers"
        print(
            f"  draw {format_quantity(draw.volume)} of {draw.product.name} "
            f"({draw.containers} {unit}){': ' + what if what else ' (q.s.)'}",
            file=out,
        )
    for finding in plan.findings:
        signable = (
            " — acknowledge it to dispense"
            if finding.severity is Severity.WARN
            else " — a practitioner may override"
            if finding.overridable
            else ""
        )
        print(f"  {finding.severity.word}: {finding.message} [{finding.key}{signable}]", file=out)


def _unacknowledged(refused: DispenseRefused) -> None:
    """Each finding that stopped the dispense on a line of its own, with its key: the warnings
    to read and acknowledge, and any block still to sign off."""
    count = len(refused.unacknowledged)
    print(
        f"mesomix: not dispensed: {count} WARNING{'s' if count > 1 else ''} not acknowledged — "
        "read each, then give --acknowledge KEY for each (or --acknowledge-all):",
        file=sys.stderr,
    )
    for finding in refused.unsigned:
        print(
            readable(f"  {finding.severity.word}: {finding.message} [{finding.key}]"),
            file=sys.stderr,
        )
    for key in refused.stray:
        print(readable(f"  no WARNING of this mixture has the key '{key}'"), file=sys.stderr)


def _signatures(args: argparse.Namespace) -> list[Signature]:
    """The overrides asked for, signed by one practitioner with their password."""
    if not args.override:
        if args.signed_by or args.reason or args.why:
            raise BadInput("--signed-by, --reason and --why go with --override KEY")
        return []
    missing = [
        flag
        for flag, value in (
            ("--signed-by", args.signed_by),
            ("--reason", args.reason),
            ("--why", args.why),
        )
        if not value
    ]
    if missing:
        raise BadInput(f"an override needs {', '.join(missing)}")
    password = signing_password(args.signed_by, args.password_stdin)
    return [
        Signature(key, args.signed_by, password, args.reason, args.why) for key in args.override
    ]
