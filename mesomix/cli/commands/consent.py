"""`mesomix consent …`: the text a patient reads for a course, signed once explained, and
withdrawn. What is signed is the text shown: `consent show` prints it (to give the patient or
to save), and `consent sign --shown FILE` signs that text only if it is still the course's own."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from mesomix.cli.arguments import acting, group
from mesomix.cli.commands.course import print_course
from mesomix.cli.files import read_text
from mesomix.cli.signin import services

CONSENT_FILE_LIMIT = 64 * 1024


def register(commands: Any) -> None:
    consent_commands = group(
        commands, "consent", "show, sign or withdraw a course's consent", "consent_command"
    )
    show = consent_commands.add_parser("show", help="the text the patient reads, filled in")
    show.add_argument("course", type=int, metavar="COURSE")
    show.set_defaults(run=run_show)
    sign = consent_commands.add_parser(
        "sign", help="the practitioner signs that the patient read the text and agreed"
    )
    sign.add_argument("course", type=int, metavar="COURSE")
    sign.add_argument(
        "--shown", required=True, type=Path, metavar="FILE", help="the text as shown (consent show)"
    )
    sign.add_argument(
        "--statement",
        required=True,
        metavar="TEXT",
        help='e.g. "explained in person; the patient read it, asked, and agreed"',
    )
    sign.set_defaults(run=run_sign)
    withdraw = consent_commands.add_parser("withdraw", help="the patient withdraws their consent")
    withdraw.add_argument("course", type=int, metavar="COURSE")
    withdraw.add_argument("--reason", required=True)
    withdraw.set_defaults(run=run_withdraw)
    for command in (show, sign, withdraw):
        acting(command)


def run_show(args: argparse.Namespace, out: TextIO) -> int:
    print(services(args).courses.consent_text(args.actor, args.course), file=out)
    return 0


def run_sign(args: argparse.Namespace, out: TextIO) -> int:
    shown = read_text(args.shown, CONSENT_FILE_LIMIT, "a consent text")
    courses = services(args).courses
    print_course(courses.sign_consent(args.actor, args.course, shown, args.statement), courses, out)
    return 0


def run_withdraw(args: argparse.Namespace, out: TextIO) -> int:
    courses = services(args).courses
    print_course(courses.withdraw_consent(args.actor, args.course, args.reason), courses, out)
    return 0
