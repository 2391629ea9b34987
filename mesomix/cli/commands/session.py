"""`mesomix session …`: the sessions of courses — the worklist, bookings, a session's mixture
as a file for `mix check|dispense`, and what was injected."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from mesomix.cli.arguments import acting, group, moment
from mesomix.cli.commands.course import print_course
from mesomix.cli.files import write_new
from mesomix.cli.signin import services
from mesomix.domain.mixture_file import write_mixture
from mesomix.services.courses import Technique


def register(commands: Any) -> None:
    session_commands = group(
        commands,
        "session",
        "the worklist; book, cancel, prepare or record a session of a course",
        "session_command",
    )
    worklist = session_commands.add_parser("list", help="the sessions to prepare, soonest first")
    worklist.add_argument("--days", type=int, default=1, help="from today (default: today only)")
    worklist.set_defaults(run=run_list)
    book = session_commands.add_parser("book", help="book a session for a date and time")
    book.add_argument("course", type=int, metavar="COURSE")
    book.add_argument("number", type=int, metavar="SESSION")
    book.add_argument("when", type=moment, metavar='"YYYY-MM-DD HH:MM"')
    book.add_argument(
        "--early-reason",
        default="",
        metavar="TEXT",
        help="a practitioner's reason to book it sooner than its least gap",
    )
    book.set_defaults(run=run_book)
    cancel = session_commands.add_parser("cancel", help="take a booking back, with a reason")
    cancel.add_argument("course", type=int, metavar="COURSE")
    cancel.add_argument("number", type=int, metavar="SESSION")
    cancel.add_argument("--reason", required=True)
    cancel.set_defaults(run=run_cancel)
    draft = session_commands.add_parser(
        "draft", help="a session's mixture as a file, for mix check and mix dispense"
    )
    draft.add_argument("course", type=int, metavar="COURSE")
    draft.add_argument("number", type=int, nargs="?", metavar="SESSION", help="default: the next")
    draft.add_argument("--output", type=Path, metavar="FILE", help="default: printed")
    draft.set_defaults(run=run_draft)
    inject = session_commands.add_parser("inject", help="what was injected at a held session")
    inject.add_argument("course", type=int, metavar="COURSE")
    inject.add_argument("number", type=int, metavar="SESSION")
    inject.add_argument("--zones", required=True, metavar='"scalp 2 mL"')
    inject.add_argument("--technique", required=True, help="nappage, point by point, papule, ...")
    inject.add_argument("--depth", required=True, metavar='"2 mm"')
    inject.add_argument("--needle", required=True, metavar='"30G 4 mm"')
    inject.add_argument("--injected-by", default="", metavar="NAME", help="default: you")
    inject.add_argument("--note", default="")
    inject.set_defaults(run=run_inject)
    for command in (worklist, book, cancel, draft, inject):
        acting(command)


def run_list(args: argparse.Namespace, out: TextIO) -> int:
    items = services(args).courses.worklist(args.actor, days=args.days)
    for item in items:
        when = (
            f"{item.booked_for:%Y-%m-%d %H:%M} (prepare {item.prepare_at:%H:%M})"
            if item.booked_for and item.prepare_at
            else f"{item.due:%Y-%m-%d} {item.standing.value}, not booked"
        )
        print(
            f"{when}  {item.patient_name} ({item.patient_ref})  course {item.course_id} "
            f"session {item.number} of {item.total}  {item.formula}  {item.zones}  "
            + (f"NOT READY: {item.not_ready}" if item.not_ready else "ready"),
            file=out,
        )
    print(f"{len(items)} session(s) to prepare", file=out)
    return 0


def run_book(args: argparse.Namespace, out: TextIO) -> int:
    program = services(args)
    when = args.when.replace(tzinfo=program.clock.zone)
    course = program.courses.book(args.actor, args.course, args.number, when, args.early_reason)
    print_course(course, program.courses, out)
    return 0


def run_cancel(args: argparse.Namespace, out: TextIO) -> int:
    courses = services(args).courses
    print_course(courses.cancel(args.actor, args.course, args.number, args.reason), courses, out)
    return 0


def run_draft(args: argparse.Namespace, out: TextIO) -> int:
    draft = services(args).courses.session_draft(args.actor, args.course, args.number)
    text = write_mixture(draft)
    if args.output is None:
        print(text, end="", file=out)
        return 0
    write_new(args.output, text)
    print(f"session {draft.session} of course {args.course} written to {args.output}", file=out)
    return 0


def run_inject(args: argparse.Namespace, out: TextIO) -> int:
    courses = services(args).courses
    zones = courses.read_zones(args.zones)
    how = Technique(args.technique, args.depth, args.needle, args.injected_by, args.note)
    course = courses.record_injection(args.actor, args.course, args.number, zones, how)
    print_course(course, courses, out)
    return 0
