"""`mesomix reaction record|correct|confirm|list`: what happened to a patient after a batch,
traced to the lots it drew; staff record, a practitioner confirms."""

from __future__ import annotations

import argparse
import json
from enum import Enum
from pathlib import Path
from typing import Any, TextIO

from mesomix.cli.arguments import acting, group
from mesomix.cli.files import write_new
from mesomix.cli.signin import services
from mesomix.domain.reactions import (
    Outcome,
    ReactionKind,
    ReactionWords,
    Seriousness,
    Severity,
)
from mesomix.services.reactions import ReactionView


def register(commands: Any) -> None:
    reaction_commands = group(
        commands, "reaction", "reactions after a batch, traced to its lots", "reaction_command"
    )
    record = reaction_commands.add_parser("record", help="record a reaction after a batch")
    record.add_argument("patient", metavar="PATIENT_REF")
    record.add_argument("--batch", type=int, required=True, metavar="BATCH_ID")
    _words(record)
    record.set_defaults(run=run_record)
    correct = reaction_commands.add_parser("correct", help="a new version, with its reason")
    correct.add_argument("reaction_id", type=int, metavar="REACTION_ID")
    _words(correct)
    correct.add_argument("--reason", required=True, help="why it is corrected")
    correct.set_defaults(run=run_correct)
    confirm = reaction_commands.add_parser("confirm", help="a practitioner confirms it")
    confirm.add_argument("reaction_id", type=int, metavar="REACTION_ID")
    confirm.set_defaults(run=run_confirm)
    allergy = reaction_commands.add_parser(
        "allergy", help="confirm the allergy an allergic reaction proposes, narrow it, or decline"
    )
    allergy.add_argument("reaction_id", type=int, metavar="REACTION_ID")
    choice = allergy.add_mutually_exclusive_group(required=True)
    choice.add_argument("--confirm", action="store_true", help="to every substance of the batch")
    choice.add_argument("--substance", metavar="CODE", help="to this one substance of the batch")
    choice.add_argument("--decline", metavar='"why"', help="no allergy, and why")
    allergy.set_defaults(run=run_allergy)
    export = reaction_commands.add_parser(
        "export", help="a patient's reactions as FHIR R4 AdverseEvent, suspecting the lots"
    )
    export.add_argument("patient", metavar="PATIENT_REF")
    export.add_argument("--output", type=Path, metavar="FILE")
    export.set_defaults(run=run_export)
    listing = reaction_commands.add_parser("list", help="a patient's reactions as they stand")
    listing.add_argument("patient", metavar="PATIENT_REF")
    listing.set_defaults(run=run_list)
    for command in (record, correct, confirm, allergy, export, listing):
        acting(command)


def _words(command: argparse.ArgumentParser) -> None:
    """The reaction's fields; each is read (and refused with words) by domain/reactions.py."""
    command.add_argument("--kind", required=True, help=_said(ReactionKind))
    command.add_argument("--what", default="", help="what was seen, in your words")
    command.add_argument(
        "--onset", required=True, help='"2026-12-03 14:00", "2026-12-03" or "2 days after"'
    )
    command.add_argument("--zone", default="", help="a zone code; blank when not at a site")
    command.add_argument("--severity", required=True, help=_said(Severity))
    command.add_argument("--serious", default="", help="blank, or why: " + _said(Seriousness))
    command.add_argument("--treatment", default="", help="what was done for it")
    command.add_argument("--outcome", required=True, help=_said(Outcome))


def _said(kind: type[Enum]) -> str:
    return ", ".join(str(member.value) for member in kind)


def _typed(args: argparse.Namespace) -> ReactionWords:
    return ReactionWords(
        args.kind,
        args.what,
        args.onset,
        args.zone,
        args.severity,
        args.serious,
        args.treatment,
        args.outcome,
    )


def _print(view: ReactionView, out: TextIO) -> None:
    reaction = view.reaction
    print(view.said, file=out)
    print(
        f"  {view.patient_ref}, batch {view.batch_id}, onset {reaction.onset:%Y-%m-%d %H:%M}"
        + (f", {reaction.zone}" if reaction.zone else ""),
        file=out,
    )
    for words in (reaction.what, reaction.treatment and f"treated: {reaction.treatment}"):
        if words:
            print(f"  {words}", file=out)
    print(f"  lots: {', '.join(view.lots) or 'none drawn'}", file=out)
    if view.course:
        print(f"  {view.course}", file=out)
    for signal in view.signals:
        print(f"  {signal}", file=out)
    if view.proposed:
        print(
            f"  proposes an allergy to {', '.join(view.proposed)}: "
            f'mesomix reaction allergy {view.id} --confirm|--substance CODE|--decline "why"',
            file=out,
        )
    elif view.allergy:
        print(f"  allergy {view.allergy}", file=out)


def run_record(args: argparse.Namespace, out: TextIO) -> int:
    _print(services(args).reactions.record(args.actor, args.patient, args.batch, _typed(args)), out)
    return 0


def run_correct(args: argparse.Namespace, out: TextIO) -> int:
    view = services(args).reactions.correct(args.actor, args.reaction_id, _typed(args), args.reason)
    _print(view, out)
    return 0


def run_confirm(args: argparse.Namespace, out: TextIO) -> int:
    _print(services(args).reactions.confirm(args.actor, args.reaction_id), out)
    return 0


def run_allergy(args: argparse.Namespace, out: TextIO) -> int:
    programme = services(args)
    ids = programme.allergies.decide_reaction(
        args.actor, args.reaction_id, args.substance, args.decline or ""
    )
    said = f"allerg{'y' if len(ids) == 1 else 'ies'} {', '.join(map(str, ids))} recorded, confirmed"
    print(f"reaction {args.reaction_id}: " + (said if ids else "no allergy (declined)"), file=out)
    return 0


def run_export(args: argparse.Namespace, out: TextIO) -> int:
    bundle = services(args).reactions.export_fhir(args.actor, args.patient)
    text = json.dumps(bundle, indent=2, ensure_ascii=False)
    if args.output is None:
        print(text, file=out)
    else:
        write_new(args.output, text + "\n")
        print(f"{len(bundle['entry'])} reaction(s) written to {args.output}", file=out)
    return 0


def run_list(args: argparse.Namespace, out: TextIO) -> int:
    views = services(args).reactions.reactions(args.actor, args.patient)
    for view in views:
        _print(view, out)
    print(f"{len(views)} reaction(s) for {args.patient.strip()}", file=out)
    return 0
