"""`mesomix course …`: a practitioner plans, shows, changes, pauses, resumes and ends courses."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from mesomix.cli.arguments import acting, day, group
from mesomix.cli.files import write_new
from mesomix.cli.signin import services
from mesomix.services.courses import CourseService, CourseView
from mesomix.services.courses.reading import course_lines


def register(commands: Any) -> None:
    course_commands = group(
        commands, "course", "plan, show, change, pause, resume or end a course", "course_command"
    )
    plan = course_commands.add_parser("plan", help="a new course for a patient")
    plan.add_argument("patient", metavar="PATIENT_REF")
    plan.add_argument("--indication", required=True, help="hair, face, cellulite, ...")
    plan.add_argument("--formula", required=True, metavar="CODE", help="each session's formula")
    plan.add_argument(
        "--zones", required=True, metavar='"scalp 2 mL, neck 1 mL"', help="zones and volumes"
    )
    plan.add_argument("--start", required=True, type=lambda t: day(t).date(), metavar="YYYY-MM-DD")
    plan.add_argument(
        "--schedule",
        default="",
        metavar='"4 x 3 weeks (min 2 weeks)"',
        help="default: the indication's usual course",
    )
    plan.set_defaults(run=run_plan)
    show = course_commands.add_parser("show", help="a course as it stands today")
    show.add_argument("course", type=int, metavar="COURSE")
    show.set_defaults(run=run_show)
    listed = course_commands.add_parser("list", help="a patient's courses, newest first")
    listed.add_argument("patient", metavar="PATIENT_REF")
    listed.set_defaults(run=run_list)
    change = course_commands.add_parser("change", help="a new version of the plan")
    change.add_argument("course", type=int, metavar="COURSE")
    change.add_argument("--reason", required=True)
    change.add_argument("--schedule", default="")
    change.add_argument("--formula", default="", metavar="CODE")
    change.add_argument("--zones", default="", metavar='"scalp 2 mL"')
    change.set_defaults(run=run_change)
    ical = course_commands.add_parser("ical", help="the sessions as an iCalendar file")
    ical.add_argument("course", type=int, metavar="COURSE")
    ical.add_argument("--output", type=Path, metavar="FILE.ics", help="default: printed")
    ical.set_defaults(run=run_ical)
    fhir = course_commands.add_parser(
        "fhir", help="the course, consents and injections as a FHIR R4 Bundle"
    )
    fhir.add_argument("course", type=int, metavar="COURSE")
    fhir.add_argument("--output", type=Path, metavar="FILE.json", help="default: printed")
    fhir.set_defaults(run=run_fhir)
    statuses = []
    for name in ("pause", "resume", "end"):
        status = course_commands.add_parser(name, help=f"{name} a course, with a reason")
        status.add_argument("course", type=int, metavar="COURSE")
        status.add_argument("--reason", required=name != "resume", default="resumed")
        status.set_defaults(run=run_status, status=name)
        statuses.append(status)
    for command in (plan, show, listed, change, ical, fhir, *statuses):
        acting(command)


def print_course(course: CourseView, courses: CourseService, out: TextIO) -> None:
    for line in course_lines(course, courses.zone_names()):
        print(line, file=out)


def run_plan(args: argparse.Namespace, out: TextIO) -> int:
    courses = services(args).courses
    zones = courses.read_zones(args.zones)
    course = courses.plan(
        args.actor, args.patient, args.indication, args.formula, zones, args.start, args.schedule
    )
    print_course(course, courses, out)
    return 0


def run_show(args: argparse.Namespace, out: TextIO) -> int:
    courses = services(args).courses
    print_course(courses.course(args.actor, args.course), courses, out)
    return 0


def run_list(args: argparse.Namespace, out: TextIO) -> int:
    found = services(args).courses.courses(args.actor, args.patient)
    for course in found:
        print(
            f"course {course.id}: {course.indication.name}, {course.status}, "
            f"{course.held} of {len(course.sessions)} sessions held",
            file=out,
        )
    print(f"{len(found)} course(s) for {args.patient}", file=out)
    return 0


def run_change(args: argparse.Namespace, out: TextIO) -> int:
    courses = services(args).courses
    zones = courses.read_zones(args.zones) if args.zones.strip() else ()
    course = courses.change(
        args.actor,
        args.course,
        args.reason,
        schedule=args.schedule,
        formula=args.formula,
        zones=zones,
    )
    print_course(course, courses, out)
    return 0


def run_status(args: argparse.Namespace, out: TextIO) -> int:
    courses = services(args).courses
    change = {"pause": courses.pause, "resume": courses.resume, "end": courses.end}[args.status]
    print_course(change(args.actor, args.course, args.reason), courses, out)
    return 0


def run_ical(args: argparse.Namespace, out: TextIO) -> int:
    _written(services(args).courses.calendar(args.actor, args.course), args.output, out)
    return 0


def run_fhir(args: argparse.Namespace, out: TextIO) -> int:
    bundle = services(args).courses.fhir(args.actor, args.course)
    _written(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", args.output, out)
    return 0


def _written(text: str, output: Path | None, out: TextIO) -> None:
    """Printed, or into a new file (never over one), saying where."""
    if output is None:
        print(text, end="", file=out)
        return
    write_new(output, text)
    print(f"written to {output}", file=out)
