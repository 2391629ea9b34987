"""The command line: thin, calls services, prints. Bad input: a message on stderr, exit status 2,
nothing written."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import tomllib
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn, TextIO

import sqlalchemy as sa

from mesomix.bootstrap import Services, Settings, build
from mesomix.db.engine import database_url, demo_database_path
from mesomix.domain.allergy import VERIFICATIONS
from mesomix.domain.conversions import (
    TARGET_UNITS,
    amount_in,
    convert,
    dimension_of,
    to_elemental,
    volume_for,
)
from mesomix.domain.mixture import DraftIngredient, DraftMixture, Plan
from mesomix.domain.overrides import REASONS
from mesomix.domain.units import Field, Q, QuantityError, format_quantity, parse_quantity
from mesomix.reference import ReferenceDataError
from mesomix.services.errors import ServiceError
from mesomix.services.mixtures import Signature

EXIT_BAD_INPUT = 2
EXIT_BLOCKED = 1


class BadInput(Exception):
    """A command-line mistake; the message goes to stderr and the exit status is 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"mesomix: {message}\n")


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="mesomix", description="Compose, check and dispense mesotherapy mixtures.")
    top.add_argument(
        "--db", metavar="PATH", help="SQLite database file (default: the user's data folder)"
    )
    top.add_argument(
        "--demo", action="store_true", help="open the demo database, made on first use"
    )
    top.add_argument("--user", metavar="NAME", help="who is working (until sign-in exists)")
    commands = top.add_subparsers(dest="command", parser_class=_Parser)

    demo = commands.add_parser("demo", help="fill the selected database with the demo data set")
    demo.add_argument("--replace", action="store_true", help="wipe users, patients and stock first")

    conv = commands.add_parser("convert", help="convert an amount through a substance or product")
    conv.add_argument("amount", help='e.g. "1000 IU"')
    which = conv.add_mutually_exclusive_group(required=True)
    which.add_argument("--substance", metavar="NAME")
    which.add_argument("--product", metavar="CODE")
    conv.add_argument("--to", required=True, metavar="UNIT", help="mg, mcg, g, IU, mEq, mmol or mL")
    conv.add_argument("--elemental", action="store_true", help="the element a salt supplies")

    mix = commands.add_parser("mix", help="check or dispense a mixture written in TOML")
    mix_commands = mix.add_subparsers(dest="mix_command", required=True, parser_class=_Parser)
    check = mix_commands.add_parser("check", help="plan and findings; writes nothing")
    check.add_argument("file", type=Path)
    check.add_argument("--json", action="store_true", help="plan and findings as JSON")
    dispense = mix_commands.add_parser(
        "dispense", help="dispense: takes the stock, records the batch"
    )
    dispense.add_argument("file", type=Path)
    dispense.add_argument("--user", required=True, metavar="NAME", dest="mix_user")
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

    allergy = commands.add_parser(
        "allergy", help="a patient's allergies as FHIR R4 AllergyIntolerance"
    )
    allergy_commands = allergy.add_subparsers(
        dest="allergy_command", required=True, parser_class=_Parser
    )
    export = allergy_commands.add_parser("export", help="print or save a FHIR Bundle")
    export.add_argument("patient", metavar="PATIENT_REF")
    export.add_argument("--user", required=True, metavar="NAME", dest="allergy_user")
    export.add_argument("--output", type=Path, metavar="FILE")
    load = allergy_commands.add_parser("import", help="record the allergies of a FHIR JSON file")
    load.add_argument("file", type=Path)
    load.add_argument("--patient", required=True, metavar="PATIENT_REF")
    load.add_argument("--user", required=True, metavar="NAME", dest="allergy_user")
    code = allergy_commands.add_parser("code", help="code a free-text allergy so it is checked")
    code.add_argument("allergy_id", type=int, metavar="ALLERGY_ID")
    target = code.add_mutually_exclusive_group(required=True)
    target.add_argument("--substance", metavar="CODE")
    target.add_argument("--group", metavar="CODE")
    code.add_argument("--user", required=True, metavar="NAME", dest="allergy_user")
    verify = allergy_commands.add_parser("verify", help="confirm, refute or mark entered-in-error")
    verify.add_argument("allergy_id", type=int, metavar="ALLERGY_ID")
    verify.add_argument("verification", choices=VERIFICATIONS)
    verify.add_argument("--user", required=True, metavar="NAME", dest="allergy_user")

    stock = commands.add_parser("stock", help="stock on hand by product and lot")
    stock.add_argument("--product", metavar="CODE")
    return top


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = parser().parse_args(argv)
    try:
        if args.command is None:
            return _open_app(args)
        handler: Callable[[argparse.Namespace, TextIO], int] = {
            "demo": _demo,
            "convert": _convert,
            "mix": _mix,
            "stock": _stock,
            "allergy": _allergy,
        }[args.command]
        return handler(args, out)
    except (BadInput, ServiceError, QuantityError, ReferenceDataError) as exc:
        print(f"mesomix: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except sa.exc.DBAPIError as exc:
        print(f"mesomix: the database could not be used: {exc.orig}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except sa.exc.SQLAlchemyError as exc:
        print(f"mesomix: the database could not be used: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _settings(args: argparse.Namespace) -> Settings:
    path = args.db or (demo_database_path() if args.demo else None)
    return Settings(database_url=database_url(path), user=args.user)


def _services(args: argparse.Namespace) -> Services:
    settings = _settings(args)
    try:
        return build(settings)
    except (ValueError, ImportError) as exc:  # an in-memory URL, a driver that is not installed
        raise BadInput(f"the database {settings.database_url!r} cannot be used: {exc}") from None


def _open_app(args: argparse.Namespace) -> int:
    from mesomix.services.demo import holds_data, load_demo
    from mesomix.tui.app import run_app

    services = _services(args)
    if args.demo and not holds_data(services.engine):
        load_demo(services)
    run_app(services)
    return 0


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from mesomix.services.demo import load_demo

    services = _services(args)
    counts = load_demo(services, replace=args.replace)
    summary = ", ".join(f"{n} {what}" for what, n in counts.items())
    print(f"demo data loaded into {services.settings.database_url}: {summary}", file=out)
    return 0


def _convert(args: argparse.Namespace, out: TextIO) -> int:
    amount = parse_quantity(args.amount, Field.AMOUNT)
    if args.to not in TARGET_UNITS:
        raise BadInput(f"--to {args.to}: use one of mg, mcg, g, IU, mEq, mmol, mL")
    catalog = _services(args).catalog.catalog()  # only once the arguments are sound
    if args.product:
        product = catalog.products.get(args.product) or catalog.resolve(args.product)
        if product is None or product.code not in catalog.products:
            raise BadInput(f"unknown product '{args.product}'")
        product = catalog.products[product.code]
        if not product.strengths:
            raise BadInput(f"{product.name} is a diluent: it has no strength to convert through")
        substance = catalog.substance(product.strengths[0].substance)
        if args.to == "mL":
            result = volume_for(amount, product, substance)
        elif dimension_of(amount) == "volume":
            result = convert(amount_in(amount, product, substance), substance, args.to)
        else:
            result = convert(amount, substance, args.to)
    else:
        found = catalog.resolve(args.substance)
        if found is None or found.code not in catalog.substances:
            raise BadInput(f"unknown substance '{args.substance}'")
        substance = catalog.substances[found.code]
        if args.elemental:
            element, mass = to_elemental(amount, substance, catalog)
            result = convert(mass, element, args.to)
            print(f"{format_quantity(result)} {element.name.lower()}", file=out)
            return 0
        if args.to == "mL":
            raise BadInput("a volume depends on the product: use --product to convert to mL")
        result = convert(amount, substance, args.to)
    print(format_quantity(result, places=4), file=out)
    return 0


def _read_text(path: Path) -> str:
    """A file a person named, or a message saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot be read ({exc})") from None


def read_mixture_file(path: Path) -> DraftMixture:
    """A mixture in TOML: patient, final_volume, diluent, [[ingredient]] what/amount/product."""
    try:
        raw = tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path}: not valid TOML: {exc}") from None
    unknown = set(raw) - {"patient", "final_volume", "diluent", "ingredient", "storage", "category"}
    if unknown:
        raise BadInput(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    ingredients = raw.get("ingredient", [])
    if not isinstance(ingredients, list) or not ingredients:
        raise BadInput(f"{path}: no [[ingredient]] entries")
    items = []
    for number, item in enumerate(ingredients, start=1):
        if not isinstance(item, dict):
            raise BadInput(f"{path}: ingredient {number} is not a table")
        extra = set(item) - {"what", "amount", "product"}
        if extra:
            raise BadInput(
                f"{path}: ingredient {number}: unknown key(s) {', '.join(sorted(extra))}"
            )
        for key in ("what", "amount"):
            if not isinstance(item.get(key), str):
                raise BadInput(
                    f'{path}: ingredient {number}: {key} must be text, e.g. amount = "40 mg"'
                )
        if "product" in item and not isinstance(item["product"], str):
            raise BadInput(f"{path}: ingredient {number}: product must be a product code as text")
        items.append(DraftIngredient(item["what"], item["amount"], item.get("product")))
    for key in ("patient", "final_volume", "diluent", "storage", "category"):
        if key in raw and not isinstance(raw[key], str):
            raise BadInput(f'{path}: {key} must be text, e.g. final_volume = "5 mL"')
    return DraftMixture(
        ingredients=tuple(items),
        final_volume=raw.get("final_volume", ""),
        diluent=raw.get("diluent"),
        patient=raw.get("patient"),
        storage=raw.get("storage", "room"),
        category=raw.get("category", "category_1"),
    )


def plan_as_dict(plan: Plan) -> dict[str, Any]:
    return {
        "final_volume": format_quantity(plan.final_volume),
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


def print_plan(plan: Plan, out: TextIO) -> None:
    print(f"Final volume {format_quantity(plan.final_volume)}", file=out)
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
        signable = " — a practitioner may override" if finding.overridable else ""
        print(f"  {finding.severity.word}: {finding.message} [{finding.key}{signable}]", file=out)


def _mix(args: argparse.Namespace, out: TextIO) -> int:
    draft = read_mixture_file(args.file)
    services = _services(args)
    if args.mix_command == "check":
        plan = services.mixtures.check(draft)
        if args.json:
            print(json.dumps(plan_as_dict(plan), indent=2, ensure_ascii=False), file=out)
        else:
            print_plan(plan, out)
        return EXIT_BLOCKED if plan.blocked else 0
    result = services.mixtures.dispense(draft, args.mix_user, _signatures(args))
    print(f"dispensed batch {result.batch_id}", file=out)
    print(result.label, file=out)
    return 0


def _stock(args: argparse.Namespace, out: TextIO) -> int:
    services = _services(args)
    today = services.clock.today()
    lines = services.stock.lots(args.product)
    if args.product and not lines:
        print(f"no stock of {args.product}", file=out)
        return 0
    header = f"{'product':<44} {'lot':<12} {'expiry':<10} {'status':<11} {'on hand':>10} {'sealed':>6} {'open':>8}"
    print(header, file=out)
    for line in lines:
        on_hand = format_quantity(Q(Decimal(line.on_hand_ul) / 1000, "milliliter"))
        opened = (
            format_quantity(Q(Decimal(line.open_ul) / 1000, "milliliter")) if line.open_ul else ""
        )
        print(
            f"{line.product_name[:44]:<44} {line.lot_number:<12} {line.expiry.isoformat():<10} "
            f"{'expired' if line.expiry < today else line.status:<11} {on_hand:>10} {line.sealed_containers:>6} {opened:>8}",
            file=out,
        )
    return 0


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
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"password of {args.signed_by} (signature): ")
    else:
        raise BadInput(
            "the practitioner's password is needed: type it at the prompt or use --password-stdin"
        )
    return [
        Signature(key, args.signed_by, password, args.reason, args.why) for key in args.override
    ]


def _allergy(args: argparse.Namespace, out: TextIO) -> int:
    if args.allergy_command == "code":
        _services(args).allergies.code(
            args.allergy_id, args.allergy_user, args.substance, args.group
        )
        print(f"allergy {args.allergy_id} coded", file=out)
        return 0
    if args.allergy_command == "verify":
        _services(args).allergies.set_verification(
            args.allergy_id, args.allergy_user, args.verification
        )
        print(f"allergy {args.allergy_id} is now {args.verification}", file=out)
        return 0
    if args.allergy_command == "import":
        try:
            data = json.loads(_read_text(args.file))
        except json.JSONDecodeError as exc:
            raise BadInput(f"{args.file}: not valid JSON: {exc}") from None
        ids = _services(args).allergies.import_fhir(args.patient, args.allergy_user, data)
        print(
            f"recorded {len(ids)} allerg{'y' if len(ids) == 1 else 'ies'} for {args.patient}",
            file=out,
        )
        return 0
    bundle = _services(args).allergies.export_fhir(args.patient, args.allergy_user)
    text = json.dumps(bundle, indent=2, ensure_ascii=False)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
        print(f"{len(bundle['entry'])} allergies written to {args.output}", file=out)
    else:
        print(text, file=out)
    return 0
