"""`mesomix report`: the manager's reports, as a table, CSV or XLSX."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from mesomix.cli.arguments import acting
from mesomix.cli.signin import services
from mesomix.options import BadInput
from mesomix.reports.names import (
    FORMATS,
    REPORTS,
    ExportExists,
    UnknownColumns,
    refuse_existing,
)


def register(commands: Any) -> None:
    report = commands.add_parser("report", help="the manager's reports, as a table, CSV or XLSX")
    report.add_argument("name", choices=REPORTS)
    report.add_argument(
        "lot", nargs="?", default="", help="for recall: the lot number as printed on the box"
    )
    report.add_argument(
        "--product",
        default="",
        help="for recall: the product, when several share the lot number; for vigilance: "
        "one product's lots",
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
    report.add_argument(
        "--days", type=int, choices=(7, 30, 90), default=30, help="for forecast: how far ahead"
    )
    acting(report)
    report.set_defaults(run=run)


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


def run(args: argparse.Namespace, out: TextIO) -> int:
    if args.name == "recall" and args.lot_id is None and not args.lot.strip():
        raise BadInput("the recall report needs a lot: mesomix report recall LOT_NUMBER")
    if args.name != "recall" and (args.lot or args.lot_id is not None):
        raise BadInput(f"a lot number and --lot-id go with the recall report, not {args.name}")
    if args.product and args.name not in ("recall", "vigilance"):
        raise BadInput(f"--product goes with the recall and vigilance reports, not {args.name}")
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
        program = services(args)
        title = ""
        if args.name == "recall":  # the lot found, said once above its batches
            ref, frame = program.reports.recall(
                args.actor, args.lot, args.product, lot_id=args.lot_id
            )
            name = ref.product_name if len(ref.product_name) <= 80 else ref.product_name[:79] + "…"
            title = f"lot {ref.lot_number} ({ref.status}) · {ref.product_code}\n{name}\n"
        else:
            frame = program.reports.report(
                args.actor,
                args.name,
                period=args.period,
                periods=args.periods,
                days=args.days,
                product=args.product,
            )
        # pandas only for a report: every other command starts half a second sooner
        from mesomix.reports.service import export
        from mesomix.reports.table import table

        if args.form == "table":
            zone = program.clock.zone
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
