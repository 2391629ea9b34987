"""`mesomix clinic scan-rule`: the clinic's rules every terminal follows."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mesomix.cli.arguments import acting, group
from mesomix.cli.signin import services


def register(commands: Any) -> None:
    clinic = group(
        commands, "clinic", "the clinic's rules every terminal follows", "clinic_command"
    )
    rule = clinic.add_parser(
        "scan-rule", help="whether every draw must be verified by scanning its vial"
    )
    rule.add_argument(
        "rule",
        nargs="?",
        choices=("required", "optional"),
        help="required: no mixture is dispensed until each vial drawn is scanned; "
        "optional: scanned or checked by eye (without it: the rule as it is)",
    )
    rule.add_argument("--reason", default="", help="why, for the audit trail")
    acting(rule)
    rule.set_defaults(run=run_scan_rule)


def run_scan_rule(args: argparse.Namespace, out: TextIO) -> int:
    mixtures = services(args).mixtures
    if args.rule is not None:
        mixtures.require_bench_scan(args.actor, args.rule == "required", args.reason)
    required = mixtures.bench_scan_required()
    print(
        "scanning at the bench: "
        + ("required before every dispense" if required else "optional (scan or by eye)"),
        file=out,
    )
    return 0
