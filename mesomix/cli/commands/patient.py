"""`mesomix patient add|weight|deactivate|reactivate`: a new patient, a weight recorded, a
patient no longer treated or treated again."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mesomix.cli.arguments import acting, day, group
from mesomix.cli.signin import services
from mesomix.services.people import WeightToConfirm


def register(commands: Any) -> None:
    patient_commands = group(
        commands, "patient", "add a patient, record a weight", "patient_command"
    )
    add = patient_commands.add_parser("add", help="a new patient")
    add.add_argument("ref")
    add.add_argument("--name", required=True)
    add.add_argument("--born", type=lambda t: day(t).date(), metavar="YYYY-MM-DD")
    add.add_argument("--weight", default="", metavar='"70 kg"')
    acting(add)
    add.set_defaults(run=run_add)
    weigh = patient_commands.add_parser("weight", help="record a patient's weight")
    weigh.add_argument("ref")
    weigh.add_argument("weight", metavar='"70 kg"')
    weigh.add_argument(
        "--confirm",
        action="store_true",
        help="record it even a fifth or more from the weight recorded (asked otherwise)",
    )
    acting(weigh)
    weigh.set_defaults(run=run_weight)
    for name, active in (("deactivate", False), ("reactivate", True)):
        state = patient_commands.add_parser(
            name, help="no longer treated: no new course" if not active else "treated again"
        )
        state.add_argument("ref")
        state.add_argument("--reason", required=True)
        acting(state)
        state.set_defaults(run=run_active, active=active)


def run_add(args: argparse.Namespace, out: TextIO) -> int:
    services(args).people.add_patient(args.actor, args.ref, args.name, args.born, args.weight)
    print(f"patient {args.ref} added", file=out)
    return 0


def run_weight(args: argparse.Namespace, out: TextIO) -> int:
    people = services(args).people
    try:
        people.set_weight(args.actor, args.ref, args.weight, confirmed=args.confirm)
    except WeightToConfirm as exc:
        raise WeightToConfirm(f"{exc}: if it is right, give --confirm") from None
    print(f"weight of {args.ref} recorded", file=out)
    return 0


def run_active(args: argparse.Namespace, out: TextIO) -> int:
    services(args).people.set_active(args.actor, args.ref, args.active, args.reason)
    print(f"{args.ref} is {'active' if args.active else 'inactive'}", file=out)
    return 0
