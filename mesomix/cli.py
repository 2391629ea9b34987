"""The command line: thin, calls services, prints. Bad input: a message on stderr, exit status 2,
nothing written."""

from __future__ import annotations

import argparse
import difflib
import getpass
import json
import os
import sys
import tomllib
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa

from mesomix.bootstrap import Services, Settings, build, check
from mesomix.domain.allergy import VERIFICATIONS
from mesomix.domain.anchors import Anchor, AnchorError, parse_anchors, utc_text
from mesomix.domain.catalog import Catalog, Product, Substance
from mesomix.domain.conversions import (
    STRENGTH_TARGETS,
    TARGET_UNITS,
    SubstanceNeeded,
    amount_in,
    convert,
    convert_plain,
    convert_strength,
    dimension_of,
    to_elemental,
    volume_for,
)
from mesomix.domain.findings import Severity
from mesomix.domain.inventory import ADJUSTMENT_REASONS, COUNT_REASONS
from mesomix.domain.mixture import DraftIngredient, DraftMixture, Plan
from mesomix.domain.overrides import REASONS
from mesomix.domain.permissions import Action
from mesomix.domain.text import readable
from mesomix.domain.units import Field, Q, QuantityError, format_quantity, parse_quantity
from mesomix.errors import Refused
from mesomix.launch import (
    EXIT_BAD_INPUT,
    BadInput,
    Parser,
    add_global_options,
    open_app,
    settings_from,
)
from mesomix.reports.service import FORMATS, REPORTS, ExportExists, export, refuse_existing
from mesomix.reports.table import UnknownColumns, table
from mesomix.services.accounts import ROLES
from mesomix.services.audit import anchor as audit_anchor
from mesomix.services.audit import show as audit_show
from mesomix.services.audit import verify as audit_verify
from mesomix.services.errors import NotFound
from mesomix.services.imports import read_import_file
from mesomix.services.mixtures import DispenseRefused, Signature
from mesomix.services.passwords import PASSWORD_RULE
from mesomix.services.people import WeightToConfirm

EXIT_BLOCKED = 1


def parser() -> argparse.ArgumentParser:
    top = Parser(prog="mesomix", description="Compose, check and dispense mesotherapy mixtures.")
    add_global_options(top)
    commands = top.add_subparsers(dest="command", parser_class=Parser)

    commands.add_parser(
        "check",
        help="SQLite's integrity check, the append-only triggers, the ledger against the audit trail "
        "and the audit chain; writes nothing "
        "(exit 0 sound, 1 problems found)",
    )

    demo = commands.add_parser("demo", help="fill the selected database with the demo data set")
    demo.add_argument("--replace", action="store_true", help="wipe users, patients and stock first")
    demo.add_argument(
        "--user", metavar="NAME", dest="actor", help="an admin, to replace a database"
    )

    find = commands.add_parser("search", help="find a substance or product; forgives typos")
    find.add_argument(
        "text",
        help='a few letters, a synonym or a misspelling: "hyaluronc acid"; a strength or size '
        'is matched whole: "lidocaine 2%%"',
    )
    find.add_argument("--limit", type=int, default=5, help="how many (1 to 50)")

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

    mix_commands = _group(
        commands, "mix", "check or dispense a mixture written in TOML", "mix_command"
    )
    check = mix_commands.add_parser("check", help="plan and findings; writes nothing")
    check.add_argument("file", type=Path)
    check.add_argument("--json", action="store_true", help="plan and findings as JSON")
    _acting(check)
    dispense = mix_commands.add_parser(
        "dispense", help="dispense: takes the stock, records the batch"
    )
    dispense.add_argument("file", type=Path)
    _acting(dispense)
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
    label = mix_commands.add_parser(
        "label", help="a dispensed batch's label again: shown, saved or printed"
    )
    label.add_argument("batch_id", type=int, metavar="BATCH_ID")
    _acting(label)
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

    allergy_commands = _group(
        commands,
        "allergy",
        "a patient's allergies as FHIR R4 AllergyIntolerance",
        "allergy_command",
    )
    export = allergy_commands.add_parser("export", help="print or save a FHIR Bundle")
    export.add_argument("patient", metavar="PATIENT_REF")
    _acting(export)
    export.add_argument("--output", type=Path, metavar="FILE")
    load = allergy_commands.add_parser("import", help="record the allergies of a FHIR JSON file")
    load.add_argument("file", type=Path)
    load.add_argument("--patient", required=True, metavar="PATIENT_REF")
    _acting(load)
    code = allergy_commands.add_parser("code", help="code a free-text allergy so it is checked")
    code.add_argument("allergy_id", type=int, metavar="ALLERGY_ID")
    target = code.add_mutually_exclusive_group(required=True)
    target.add_argument("--substance", metavar="CODE")
    target.add_argument("--group", metavar="CODE")
    _acting(code)
    verify = allergy_commands.add_parser("verify", help="confirm, refute or mark entered-in-error")
    verify.add_argument("allergy_id", type=int, metavar="ALLERGY_ID")
    verify.add_argument("verification", choices=VERIFICATIONS)
    verify.add_argument(
        "--reason", default="", help="why (needed to refute); added to the allergy's note"
    )
    _acting(verify)

    stock = commands.add_parser("stock", help="stock on hand by product and lot")
    _acting(stock)

    user_commands = _group(
        commands, "user", "accounts: the first admin, then the admin's work", "user_command"
    )
    first = user_commands.add_parser("create-admin", help="the first admin of a new database")
    first.add_argument("name")
    first.add_argument("--display-name", required=True)
    create = user_commands.add_parser("create", help="a new account (admin only)")
    create.add_argument("name")
    create.add_argument("--display-name", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    for verb, words in (
        ("unlock", "after failed sign-ins"),
        ("deactivate", "no more sign-ins"),
        ("reactivate", "sign-ins again"),
        ("reset-password", "a new password"),
    ):
        one = user_commands.add_parser(verb, help=words)
        one.add_argument("name")
        _acting(one)
    _acting(create)
    role = user_commands.add_parser("role", help="change what an account may do")
    role.add_argument("name")
    role.add_argument("--role", required=True, choices=ROLES)
    _acting(role)
    _acting(user_commands.add_parser("list", help="every account (admin only)"))

    lot_commands = _group(commands, "lot", "the manager's stock work on one lot", "lot_command")
    adjust = lot_commands.add_parser("adjust", help="put stock on or take it off, with a reason")
    adjust.add_argument("lot_id", type=int)
    direction = adjust.add_mutually_exclusive_group(required=True)
    direction.add_argument("--add", metavar='"2 mL"', help='a volume, or containers: "1 vial"')
    direction.add_argument("--remove", metavar='"2 mL"', help='a volume, or containers: "1 vial"')
    adjust.add_argument("--reason", required=True, choices=ADJUSTMENT_REASONS)
    adjust.add_argument("--note", default="")
    waste = lot_commands.add_parser("waste", help="take stock off as waste, with a reason")
    waste.add_argument("lot_id", type=int)
    waste.add_argument("volume", metavar='"2 mL"', help='a volume, or containers: "1 vial"')
    waste.add_argument("--reason", required=True, choices=ADJUSTMENT_REASONS)
    waste.add_argument("--note", default="")
    back = lot_commands.add_parser("return", help="containers returned to the supplier")
    back.add_argument("lot_id", type=int)
    back.add_argument("--containers", type=int, required=True)
    back.add_argument("--note", default="")
    count = lot_commands.add_parser("count", help="what is on the shelf; the difference is booked")
    count.add_argument("lot_id", type=int)
    count.add_argument("--sealed", type=int, required=True, help="sealed containers counted")
    count.add_argument(
        "--open",
        default="",
        metavar='"12 mL"',
        help='left in the opened container; "0" when it is empty or gone',
    )
    count.add_argument(
        "--reason",
        default="",
        choices=COUNT_REASONS,
        help="why the shelf differs from the books (needed when it does): "
        + "; ".join(f"{code}: {words}" for code, (words, _) in COUNT_REASONS.items()),
    )
    count.add_argument("--note", default="", help="your own words (needed for 'other')")
    status = lot_commands.add_parser("status", help="quarantine, release or recall")
    status.add_argument("lot_id", type=int)
    status.add_argument("status", choices=("available", "quarantined", "recalled"))
    status.add_argument("--reason", required=True)
    correct = lot_commands.add_parser("correct", help="undo a mistaken movement with a new one")
    correct.add_argument("movement_id", type=int)
    correct.add_argument("--note", required=True)
    trace = lot_commands.add_parser("trace", help="every batch and patient that received the lot")
    trace.add_argument("lot_id", type=int)
    for command in (adjust, waste, back, count, status, correct, trace):
        _acting(command)

    product_commands = _group(
        commands, "product", "reorder levels and low stock", "product_command"
    )
    reorder = product_commands.add_parser("reorder", help="set a product's reorder level")
    reorder.add_argument("code")
    reorder.add_argument("--level", type=int, required=True, help="containers")
    reorder.add_argument("--quantity", type=int, required=True, help="containers to order")
    _acting(reorder)
    _acting(product_commands.add_parser("low", help="products at or below their reorder level"))

    report = commands.add_parser("report", help="the manager's reports, as a table, CSV or XLSX")
    report.add_argument("name", choices=REPORTS)
    report.add_argument(
        "lot", nargs="?", default="", help="for recall: the lot number as printed on the box"
    )
    report.add_argument(
        "--product", default="", help="for recall: the product, when several share the lot number"
    )
    report.add_argument("--lot-id", type=int, help="for recall: the lot by its id instead")
    report.add_argument(
        "--format", choices=FORMATS, dest="form", help="default: table, or as --output ends"
    )
    report.add_argument(
        "--output", type=Path, metavar="FILE", help="an existing FILE is kept unless --replace"
    )
    report.add_argument("--replace", action="store_true", help="write over an existing FILE")
    report.add_argument(
        "--columns",
        metavar="NAME,…",
        help="the table's columns, by the export's names (e.g. product_name,lot_number,on_hand_ml)",
    )
    report.add_argument(
        "--wide", action="store_true", help="the table with every column, names whole"
    )
    report.add_argument("--period", choices=("week", "month"), default="month", help="for usage")
    report.add_argument(
        "--periods", type=int, metavar="N", help="for usage: how many (13 weeks, 12 months)"
    )
    _acting(report)

    import_commands = _group(
        commands, "import", "products or stock receipts from a CSV file", "import_command"
    )
    for what, help_text in (
        ("products", "add products to the catalogue (sample: data/import/products-sample.csv)"),
        ("stock", "book deliveries, one lot a row (sample: data/import/stock-sample.csv)"),
    ):
        command = import_commands.add_parser(what, help=help_text)
        command.add_argument("file", type=Path, metavar="FILE")
        _acting(command)

    patient_commands = _group(
        commands, "patient", "add a patient, record a weight", "patient_command"
    )
    add = patient_commands.add_parser("add", help="a new patient")
    add.add_argument("ref")
    add.add_argument("--name", required=True)
    add.add_argument("--born", type=lambda t: _day(t).date(), metavar="YYYY-MM-DD")
    add.add_argument("--weight", default="", metavar='"70 kg"')
    _acting(add)
    weigh = patient_commands.add_parser("weight", help="record a patient's weight")
    weigh.add_argument("ref")
    weigh.add_argument("weight", metavar='"70 kg"')
    weigh.add_argument(
        "--confirm",
        action="store_true",
        help="record it even a fifth or more from the weight recorded (asked otherwise)",
    )
    _acting(weigh)

    audit_commands = _group(
        commands, "audit", "the audit trail: verify the chain, show rows", "audit_command"
    )
    verify = audit_commands.add_parser(
        "verify", help="walk the chain, report the first broken link"
    )
    verify.add_argument(
        "--anchor",
        type=Path,
        metavar="FILE",
        help="and prove each head anchored in FILE is still in the chain as it was",
    )
    _acting(verify)
    anchor = audit_commands.add_parser(
        "anchor", help="print the chain's head (id, hash, UTC time) to keep outside the database"
    )
    anchor.add_argument(
        "--output", type=Path, metavar="FILE", help="append the line to FILE instead"
    )
    _acting(anchor)
    show = audit_commands.add_parser("show", help="rows filtered by user, patient, lot and time")
    show.add_argument("--by", metavar="USER", help="rows written by this user")
    show.add_argument("--patient", metavar="REF")
    show.add_argument("--lot", type=int, metavar="LOT_ID")
    show.add_argument("--since", type=_day, metavar="YYYY-MM-DD")
    show.add_argument("--until", type=_day, metavar="YYYY-MM-DD")
    show.add_argument("--limit", type=int, default=200)
    _acting(show)
    stock.add_argument("--product", metavar="CODE", help="one product, by its code")
    return top


def _group(commands: Any, name: str, help_text: str, dest: str) -> Any:
    """A command with sub-commands of its own (mix, allergy, user, lot, ...)."""
    group = commands.add_parser(name, help=help_text)
    return group.add_subparsers(dest=dest, required=True, parser_class=Parser)


def _acting(command: argparse.ArgumentParser) -> None:
    """A command a person does: they name themselves and sign in (password prompted, or read
    from MESOMIX_PASSWORD for scripts)."""
    command.add_argument(
        "--user", required=True, metavar="NAME", dest="actor", help="who is doing it"
    )


def _day(text: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = parser().parse_args(argv)
    try:
        if args.command is None:
            return open_app(args)
        handler: Callable[[argparse.Namespace, TextIO], int] = {
            "demo": _demo,
            "convert": _convert,
            "search": _search,
            "mix": _mix,
            "stock": _stock,
            "allergy": _allergy,
            "user": _user,
            "patient": _patient,
            "lot": _lot,
            "report": _report,
            "product": _product,
            "import": _import,
            "audit": _audit,
            "check": _check,
        }[args.command]
        return handler(args, out)
    except Exception as exc:
        problem = explain(exc)
        if problem is None:
            raise
        print(f"mesomix: {problem}", file=sys.stderr)
        return exit_status(exc)


def explain(error: Exception) -> str | None:
    """What a person reads when a command (or the application's start) is refused; None for
    anything unforeseen, which is a bug (__main__ shows it in one line, its traceback kept)."""
    if isinstance(error, Refused):
        return str(error)  # made safe to show where it was raised
    if isinstance(error, sa.exc.DBAPIError):
        return f"the database could not be used: {error.orig}"
    if isinstance(error, sa.exc.SQLAlchemyError):
        return f"the database could not be used: {error}"
    return None


def exit_status(error: Exception) -> int:
    """The status a command that `explain` words exits with: the refusal's own; a database
    error no service worded is refused as bad input."""
    return error.exit_status if isinstance(error, Refused) else EXIT_BAD_INPUT


def build_services(settings: Settings) -> Services:
    """The program on the chosen database; a URL that cannot be used is bad input."""
    try:
        return build(settings)
    except (ValueError, ImportError) as exc:  # an in-memory URL, a driver that is not installed
        raise BadInput(f"the database {settings.database_url!r} cannot be used: {exc}") from None


def _services(args: argparse.Namespace) -> Services:
    """The program on the chosen database, with the acting person signed in if there is one.
    `--demo` fills the demo database on first use, as the application does, so that every
    command of the README runs as written on it."""
    services = build_services(settings_from(args))
    if args.demo and args.command != "demo":
        from mesomix.services.demo import holds_data, load_demo

        if not holds_data(services.engine):
            load_demo(services)
    if getattr(args, "actor", None):
        services.accounts.sign_in(args.actor, _password(f"password of {args.actor}: "))
    return services


def _password(prompt: str, variable: str = "MESOMIX_PASSWORD") -> str:
    """A password typed at the prompt, or (for scripts) from an environment variable."""
    if variable in os.environ:
        return os.environ[variable]
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    raise BadInput(f"a password is needed: type it at the prompt, or set {variable} for a script")


def _check(args: argparse.Namespace, out: TextIO) -> int:
    """SQLite's own integrity and foreign-key checks, then the ledger and the audit chain: 0 when
    all is sound, 1 when something is damaged or inconsistent (2: it could not be checked)."""
    lines = check(settings_from(args))
    for line in lines:
        print(f"{line.what}: {line.detail}", file=out)
    if all(line.ok for line in lines):
        return 0
    print("mesomix: the database has problems: see above", file=sys.stderr)
    return EXIT_BLOCKED


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from mesomix.services.demo import holds_data, load_demo

    services = _services(args)
    if args.replace and holds_data(services.engine):
        if not args.actor:
            raise BadInput("replacing a database's data needs an admin: add --user NAME")
        services.accounts.require(args.actor, Action.LOAD_DEMO)
    counts = load_demo(services, replace=args.replace)
    summary = ", ".join(f"{n} {what}" for what, n in counts.items())
    print(f"demo data loaded into {services.settings.database_url}: {summary}", file=out)
    return 0


def _search(args: argparse.Namespace, out: TextIO) -> int:
    """The catalogue is everyone's to read: no sign-in."""
    if not 1 <= args.limit <= 50:
        raise BadInput(f"--limit {args.limit}: ask for 1 to 50 results")
    hits, why = _services(args).catalog.search_typed(args.text, args.limit)
    for hit in hits:
        print(f"{hit.kind:<9} {hit.code:<40} {hit.name}  ({hit.match})", file=out)
    if not hits:
        print(why or f"nothing in the catalogue looks like '{args.text}'", file=sys.stderr)
        return 1
    return 0


def _convert(args: argparse.Namespace, out: TextIO) -> int:
    """A plain unit or a strength converts alone; a substance or product only when the
    conversion depends on it (IU, mEq, mmol, a salt's element, a volume of a product)."""
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
    catalog = _services(args).catalog.catalog()  # only once the arguments are sound
    if args.product is not None:
        product, substance = _product_substance(catalog, args.product)
        if args.to == "mL":
            result = volume_for(amount, product, substance)
        elif dimension_of(amount) == "volume":
            result = convert(amount_in(amount, product, substance), substance, args.to)
        else:
            result = convert(amount, substance, args.to)
    else:
        substance = _substance(catalog, args.substance)
        if args.elemental:
            element, mass = to_elemental(amount, substance, catalog)
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
        catalog = _services(args).catalog.catalog()
        if args.product is not None:
            substance = _product_substance(catalog, args.product)[1]
        else:
            substance = _substance(catalog, args.substance)
    try:
        result = convert_strength(strength, args.to, substance)
    except SubstanceNeeded as exc:
        raise BadInput(f"{exc}: add --substance NAME") from None
    print(format_quantity(result, places=4), file=out)
    return 0


def _substance(catalog: Catalog, name: str) -> Substance:
    found = catalog.resolve(name)
    if found is None or found.code not in catalog.substances:
        raise BadInput(f"unknown substance '{name}'")
    return catalog.substances[found.code]


def _product_substance(catalog: Catalog, name: str) -> tuple[Product, Substance]:
    """A product and the substance its strength is of (its first active)."""
    product = catalog.products.get(name) or catalog.resolve(name)
    if product is None or product.code not in catalog.products:
        raise BadInput(f"unknown product '{name}'")
    product = catalog.products[product.code]
    if not product.strengths:
        raise BadInput(f"{product.name} is a diluent: it has no strength to convert through")
    return product, catalog.substance(product.strengths[0].substance)


# The most a file named on the command line may hold, read no further: a file larger than what
# it claims to be is refused before it is parsed, saying its size and the limit.
MIXTURE_FILE_LIMIT = 64 * 1024  # a mixture of a dozen ingredients is under 1 KiB
FHIR_FILE_LIMIT = 16 * 1024 * 1024  # one patient's allergies, however many, with their reactions
ANCHOR_FILE_LIMIT = 16 * 1024 * 1024  # a line (about 110 bytes) a day for four centuries


def size_text(size: int) -> str:
    """A file size to the byte, with its order of size: 65,536 bytes (64 KiB)."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            return f"{size:,} bytes ({size / factor:.3g} {unit})"
    return f"{size:,} bytes"


def read_limited(path: Path, limit: int, what: str) -> bytes:
    """The bytes of a file, reading at most `limit` (a pipe or a device too): a larger file is
    refused with its size (or "more than") and the limit."""
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)
            size = os.fstat(file.fileno()).st_size
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        most = size_text(limit)
        said = (
            f"is {size_text(size)}: {what} may be at most {most}"
            if size > limit
            else f"goes on past {most}, the most {what} may be"
        )
        raise BadInput(f"{path} {said} — is it the right file? Nothing was done")
    return data


def _read_text(path: Path, limit: int, what: str) -> str:
    """A file a person named, or a message saying why it cannot be read."""
    data = read_limited(path, limit, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(
            f"{path}: byte {exc.start} is not UTF-8 text: save the file as UTF-8 (CSV UTF-8)"
        ) from None


_DRAFT_TEXT_KEYS = (
    "patient",
    "final_volume",
    "diluent",
    "storage",
    "category",
    "purpose",
    "prescriber",
)


def read_mixture_file(path: Path) -> DraftMixture:
    """A mixture in TOML: patient, final_volume, diluent, storage, category, purpose, prescriber,
    and [[ingredient]] what/amount/product."""
    try:
        raw = tomllib.loads(_read_text(path, MIXTURE_FILE_LIMIT, "a mixture file"))
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path}: not valid TOML: {exc}") from None
    unknown = set(raw) - {"ingredient", *_DRAFT_TEXT_KEYS}
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
    for key in _DRAFT_TEXT_KEYS:
        if key in raw and not isinstance(raw[key], str):
            raise BadInput(f'{path}: {key} must be text, e.g. final_volume = "5 mL"')
    return DraftMixture(
        ingredients=tuple(items),
        final_volume=raw.get("final_volume", ""),
        diluent=raw.get("diluent"),
        patient=raw.get("patient"),
        storage=raw.get("storage", "room"),
        category=raw.get("category", "category_1"),
        purpose=raw.get("purpose", ""),
        prescriber=raw.get("prescriber"),
    )


def plan_as_dict(plan: Plan) -> dict[str, Any]:
    return {
        "final_volume": format_quantity(plan.final_volume),
        "final_volume_asked": None
        if plan.asked_ul is None
        else format_quantity(Q(Decimal(plan.asked_ul) / 1000, "milliliter")),
        "ingredients_volume": format_quantity(Q(Decimal(plan.ingredients_ul) / 1000, "milliliter")),
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
    drawn = format_quantity(Q(Decimal(plan.ingredients_ul) / 1000, "milliliter"))
    if plan.asked_ul is None:
        return f"Final volume: none asked; the ingredients add up to {drawn}"
    asked = format_quantity(Q(Decimal(plan.asked_ul) / 1000, "milliliter"))
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


def _mix(args: argparse.Namespace, out: TextIO) -> int:
    if args.mix_command == "label":
        return _label(args, out)
    draft = read_mixture_file(args.file)
    services = _services(args)
    if args.mix_command == "check":
        plan = services.mixtures.check(draft, args.actor)
        if args.json:
            print(json.dumps(plan_as_dict(plan), indent=2, ensure_ascii=False), file=out)
        else:
            print_plan(plan, out)
        return EXIT_BLOCKED if plan.blocked else 0
    try:
        result = services.mixtures.dispense(
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


def _label(args: argparse.Namespace, out: TextIO) -> int:
    """The label on stdout, unless it is saved or printed (then what was done)."""
    services = _services(args)
    if args.save is None and not args.print:
        print(services.labels.label(args.actor, args.batch_id).text, file=out)
        return 0
    if args.save is not None:
        folder = Path(args.save).expanduser() if args.save else None
        print(f"saved to {services.labels.save(args.actor, args.batch_id, folder)}", file=out)
    if args.print:
        print(services.labels.send_to_printer(args.actor, args.batch_id), file=out)
    return 0


def _stock(args: argparse.Namespace, out: TextIO) -> int:
    if args.product is not None and not args.product.strip():
        raise BadInput("--product needs a product's code, not an empty text")
    services = _services(args)
    today = services.clock.today()
    lines = services.stock.lots(args.actor, args.product)
    if args.product and not lines:
        product = _product_code(services, args.product)
        print(f"no stock of {product.name} ({product.code})", file=out)
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


def _product_code(services: Services, typed: str) -> Product:
    """The product a code names; an unknown code is refused with the codes it is close to
    (spelling) and those whose names it matches."""
    products = services.catalog.catalog().products
    if typed in products:
        return products[typed]
    close = difflib.get_close_matches(typed.strip().casefold(), list(products), n=3, cutoff=0.6)
    named = [h.code for h in services.catalog.search(typed, 10) if h.kind == "product"]
    guesses = list(dict.fromkeys([*close, *named]))[:5]
    if not guesses:
        raise BadInput(
            f"no product has the code '{typed}': find it with mesomix search NAME, "
            "then give its code to --product"
        )
    shown = " · ".join(f"{code} ({products[code].name})" for code in guesses if code in products)
    raise BadInput(f"no product has the code '{typed}': did you mean {shown}")


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
        _services(args).allergies.code(args.allergy_id, args.actor, args.substance, args.group)
        print(f"allergy {args.allergy_id} coded", file=out)
        return 0
    if args.allergy_command == "verify":
        _services(args).allergies.set_verification(
            args.allergy_id, args.actor, args.verification, args.reason
        )
        print(f"allergy {args.allergy_id} is now {args.verification}", file=out)
        return 0
    if args.allergy_command == "import":
        try:
            data = json.loads(_read_text(args.file, FHIR_FILE_LIMIT, "an allergy file"))
        except ValueError as exc:  # JSONDecodeError, and a number too long to read
            raise BadInput(f"{args.file}: not valid JSON: {exc}") from None
        ids = _services(args).allergies.import_fhir(args.patient, args.actor, data)
        print(
            f"recorded {len(ids)} allerg{'y' if len(ids) == 1 else 'ies'} for {args.patient}",
            file=out,
        )
        return 0
    bundle = _services(args).allergies.export_fhir(args.patient, args.actor)
    text = json.dumps(bundle, indent=2, ensure_ascii=False)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
        print(f"{len(bundle['entry'])} allergies written to {args.output}", file=out)
    else:
        print(text, file=out)
    return 0


def _user(args: argparse.Namespace, out: TextIO) -> int:
    if args.user_command == "create-admin":
        services = _services(args)
        services.accounts.create_first_admin(args.name, args.display_name, _new_password(args.name))
        print(f"{args.name} is the first admin of {services.settings.database_url}", file=out)
        return 0
    accounts = _services(args).accounts
    if args.user_command == "list":
        for row in accounts.users(args.actor):
            state = "active" if row.active else "deactivated"
            locked = " (locked)" if row.locked_until else ""
            print(f"{row.name:<16} {row.role:<13} {state}{locked}  {row.display_name}", file=out)
        return 0
    if args.user_command == "create":
        accounts.create_user(
            args.actor, args.name, args.display_name, args.role, _new_password(args.name)
        )
    elif args.user_command == "role":
        accounts.set_role(args.actor, args.name, args.role)
    elif args.user_command == "reset-password":
        accounts.reset_password(args.actor, args.name, _new_password(args.name))
    else:
        {
            "unlock": accounts.unlock,
            "deactivate": accounts.deactivate,
            "reactivate": accounts.reactivate,
        }[args.user_command](args.actor, args.name)
    print(f"{args.user_command}: {args.name} done", file=out)
    return 0


def _new_password(name: str) -> str:
    """A new password, typed twice at the prompt after its rule (or MESOMIX_NEW_PASSWORD for a
    script)."""
    if "MESOMIX_NEW_PASSWORD" not in os.environ:
        print(PASSWORD_RULE, file=sys.stderr)
    first = _password(f"new password for {name}: ", "MESOMIX_NEW_PASSWORD")
    if "MESOMIX_NEW_PASSWORD" not in os.environ and getpass.getpass("again: ") != first:
        raise BadInput("the two passwords differ")
    return first


def _audit(args: argparse.Namespace, out: TextIO) -> int:
    anchors = _anchors(args.anchor) if args.audit_command == "verify" and args.anchor else []
    if args.audit_command == "anchor" and args.output:
        _anchors(args.output, empty_ok=True)  # refused before anything is written
    services = _services(args)
    services.accounts.require(args.actor, Action.VIEW_AUDIT)
    if args.audit_command == "anchor":
        return _anchor(services, args.actor, args.output, out)
    if args.audit_command == "verify":
        verdict = audit_verify(services.engine, anchors)
        if verdict.intact:
            held = ""
            if anchors:
                last = max(anchors, key=lambda a: a.row_id)
                held = f"; {len(anchors)} anchor{'s' if len(anchors) > 1 else ''} hold (the latest: row {last.row_id} at {utc_text(last.at)})"
            print(f"audit chain intact: {verdict.rows} rows{held}", file=out)
            return 0
        if verdict.problem:
            print(
                f"mesomix: audit chain broken after {verdict.rows} good rows: {verdict.problem}",
                file=sys.stderr,
            )
        for problem in verdict.anchor_problems:
            print(f"mesomix: {args.anchor}: {problem}", file=sys.stderr)
        return EXIT_BLOCKED
    patient_id = None
    if args.patient:
        patient_id = services.people.patient_id(args.patient)
        if patient_id is None:
            raise NotFound(f"no patient with reference '{args.patient}'")
    lines = audit_show(
        services.engine, user=args.by, patient_id=patient_id, lot_id=args.lot,
        since=args.since, until=args.until, limit=args.limit,
    )  # fmt: skip
    zone = services.clock.zone
    for line in lines:
        change = (
            json.dumps({"old": line.old, "new": line.new}, ensure_ascii=False)
            if line.old or line.new
            else ""
        )
        print(
            f"{line.id:>6} {line.at.astimezone(zone):%Y-%m-%d %H:%M:%S} {line.user_name:<12} {line.action:<18} {line.record:<14} {line.reason} {change}".rstrip(),
            file=out,
        )
    return 0


def _anchors(path: Path, *, empty_ok: bool = False) -> list[Anchor]:
    """The anchors kept in a file; a file that is not one is refused with the line at fault."""
    if empty_ok and not path.exists():
        if not path.parent.is_dir():
            raise BadInput(f"cannot write the anchor file {path}: its folder does not exist")
        return []
    try:
        text = read_limited(path, ANCHOR_FILE_LIMIT, "an anchor file").decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"cannot read the anchor file {path}: it is not text") from None
    try:
        return parse_anchors(text, empty_ok=empty_ok)
    except AnchorError as exc:
        raise BadInput(f"the anchor file {path} is not one: {exc}") from None


def _anchor(services: Services, actor: str, output: Path | None, out: TextIO) -> int:
    """The chain's head, printed or appended to the file the clinic keeps elsewhere."""
    if output is not None and not os.access(output if output.exists() else output.parent, os.W_OK):
        raise BadInput(f"cannot write the anchor file {output}: permission denied")
    head = audit_anchor(services.engine, services.clock, actor, str(output or ""))
    if output is None:
        print(head.text(), file=out)
        return 0
    try:
        with output.open("a+", encoding="utf-8") as file:
            file.seek(0, os.SEEK_END)
            if file.tell():
                file.seek(file.tell() - 1)
                ends_a_line = file.read(1) == "\n"
            else:
                ends_a_line = True
            file.write(("" if ends_a_line else "\n") + head.text() + "\n")
            file.flush()
            os.fsync(file.fileno())
    except OSError as exc:
        raise BadInput(
            f"the head was anchored (audit row {head.row_id}) but could not be written to "
            f"{output} ({exc.strerror}): keep this line instead: {head.text()}"
        ) from None
    print(f"anchored row {head.row_id} at {utc_text(head.at)} in {output}", file=out)
    return 0


def _patient(args: argparse.Namespace, out: TextIO) -> int:
    people = _services(args).people
    if args.patient_command == "add":
        people.add_patient(args.actor, args.ref, args.name, args.born, args.weight)
        print(f"patient {args.ref} added", file=out)
    else:
        try:
            people.set_weight(args.actor, args.ref, args.weight, confirmed=args.confirm)
        except WeightToConfirm as exc:
            raise WeightToConfirm(f"{exc}: if it is right, give --confirm") from None
        print(f"weight of {args.ref} recorded", file=out)
    return 0


def _lot(args: argparse.Namespace, out: TextIO) -> int:
    inventory = _services(args).inventory
    command = args.lot_command
    if command == "trace":
        lines = inventory.recall_trace(args.actor, args.lot_id)
        for line in lines:
            print(
                f"batch {line.batch_id:>6}  {line.made_at:%Y-%m-%d %H:%M}  {line.patient_ref:<10} {line.patient_name:<30} {line.volume_ul / 1000:g} mL  by {line.made_by}",
                file=out,
            )
        print(f"{len(lines)} batch(es) received lot {args.lot_id}", file=out)
        return 0
    if command == "adjust":
        direction, typed = ("add", args.add) if args.add is not None else ("remove", args.remove)
        done = inventory.adjust_typed(
            args.actor, args.lot_id, typed, direction, args.reason, args.note
        )
    elif command == "waste":
        done = inventory.waste_typed(args.actor, args.lot_id, args.volume, args.reason, args.note)
    elif command == "return":
        done = inventory.return_to_supplier(args.actor, args.lot_id, args.containers, args.note)
    elif command == "count":
        done = inventory.count(
            args.actor, args.lot_id, args.sealed, args.open, args.reason, args.note
        )
    elif command == "status":
        inventory.set_status(args.actor, args.lot_id, args.status, args.reason)
        done = None
    else:
        done = inventory.correct(args.actor, args.movement_id, args.note)
    print(f"lot {command}: done" + (f" (movement {done})" if done else ""), file=out)
    return 0


def _product(args: argparse.Namespace, out: TextIO) -> int:
    inventory = _services(args).inventory
    if args.product_command == "reorder":
        inventory.set_reorder(args.actor, args.code, args.level, args.quantity)
        print(f"{args.code}: reorder at {args.level}, order {args.quantity}", file=out)
        return 0
    for line in inventory.low_stock(args.actor):
        print(
            f"{line.product_name[:50]:<50} {line.containers:>5} on hand  (level {line.reorder_level})  order {line.suggested_order}",
            file=out,
        )
    return 0


def _import(args: argparse.Namespace, out: TextIO) -> int:
    text = read_import_file(args.file)
    services = _services(args)
    run = services.imports.products if args.import_command == "products" else services.imports.stock
    result = run(args.actor, text, ProgressBar(sys.stderr))
    print(f"{args.file}: {args.import_command}: {result}", file=out)
    return 0


class ProgressBar:
    """A bar on the terminal for long imports; silent when stderr is not a terminal."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._shown = stream.isatty()
        self._last: tuple[str, int] = ("", -1)

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self._shown or not total:
            return
        filled = self.WIDTH * done // total
        if (phase, filled) == self._last and done != total:
            return  # redraw only when the bar moves
        self._last = (phase, filled)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        end = "\n" if done == total else ""
        self._stream.write(f"\r{phase:<8} [{bar}] {done:,}/{total:,}{end}")
        self._stream.flush()


def _report_format(form: str | None, output: Path | None) -> str:
    """The format asked for, else the one the file's name ends in: a table is only printed, so
    an --output with it would write nothing, silently."""
    if output is None:
        return form or "table"
    ending = output.suffix.lower().removeprefix(".")
    if form == "table":
        raise BadInput("a table is printed, not written: --format csv or xlsx to write --output")
    if form is None and ending not in ("csv", "xlsx"):
        raise BadInput(f"{output.name}: name it .csv or .xlsx, or say --format csv or xlsx")
    return form or ending


def _report(args: argparse.Namespace, out: TextIO) -> int:
    if args.name == "recall" and args.lot_id is None and not args.lot.strip():
        raise BadInput("the recall report needs a lot: mesomix report recall LOT_NUMBER")
    if args.name != "recall" and (args.lot or args.product or args.lot_id is not None):
        raise BadInput(f"a lot and --product go with the recall report, not {args.name}")
    if args.lot_id is not None and args.lot:
        raise BadInput("give the lot number or --lot-id, not both")
    args.form = _report_format(args.form, args.output)
    if args.form == "xlsx" and args.output is None:
        raise BadInput("an XLSX report needs --output FILE")
    if args.replace and args.output is None:
        raise BadInput("--replace goes with --output FILE: the file to write over")
    columns = [c.strip() for c in (args.columns or "").split(",") if c.strip()]
    if args.columns is not None and not columns:
        raise BadInput("--columns needs the names of columns, e.g. --columns product_name,value")
    if (columns or args.wide) and args.form != "table":
        raise BadInput(
            "--columns and --wide choose what the printed table shows: an export keeps every column"
        )
    if columns and args.wide:
        raise BadInput("give --columns or --wide, not both")
    try:
        if args.form != "table":  # before the password and the report: nothing to wait for
            refuse_existing(args.output, args.replace)
        services = _services(args)
        title = ""
        if args.name == "recall":  # the lot found, said once above its batches
            ref, frame = services.reports.recall(
                args.actor, args.lot, args.product, lot_id=args.lot_id
            )
            name = ref.product_name if len(ref.product_name) <= 80 else ref.product_name[:79] + "…"
            title = f"lot {ref.lot_number} ({ref.status}) · {ref.product_code}\n{name}\n"
        else:
            frame = services.reports.report(
                args.actor, args.name, period=args.period, periods=args.periods
            )
        if args.form == "table":
            zone = services.clock.zone
            shown = table(frame, args.name, zone, columns=columns, wide=args.wide)
            print(title + shown, file=out)
        else:
            print(export(frame, args.form, args.output, replace=args.replace), file=out)
    except UnknownColumns as exc:
        raise BadInput(str(exc)) from None
    except ExportExists as exc:
        raise BadInput(
            f"{exc.path} already exists: nothing was written; add --replace to write over it, "
            "or give another --output FILE"
        ) from None
    return 0
