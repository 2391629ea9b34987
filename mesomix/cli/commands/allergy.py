"""`mesomix allergy export|import|code|verify`: a patient's allergies as FHIR R4
AllergyIntolerance, and the work of making them checkable."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from mesomix.cli.arguments import acting, group
from mesomix.cli.files import FHIR_FILE_LIMIT, read_text
from mesomix.cli.signin import services
from mesomix.domain.allergy import VERIFICATIONS
from mesomix.options import BadInput


def register(commands: Any) -> None:
    allergy_commands = group(
        commands,
        "allergy",
        "a patient's allergies as FHIR R4 AllergyIntolerance",
        "allergy_command",
    )
    export = allergy_commands.add_parser("export", help="print or save a FHIR Bundle")
    export.add_argument("patient", metavar="PATIENT_REF")
    acting(export)
    export.add_argument("--output", type=Path, metavar="FILE")
    export.set_defaults(run=run_export)
    load = allergy_commands.add_parser("import", help="record the allergies of a FHIR JSON file")
    load.add_argument("file", type=Path)
    load.add_argument("--patient", required=True, metavar="PATIENT_REF")
    acting(load)
    load.set_defaults(run=run_import)
    code = allergy_commands.add_parser("code", help="code a free-text allergy so it is checked")
    code.add_argument("allergy_id", type=int, metavar="ALLERGY_ID")
    target = code.add_mutually_exclusive_group(required=True)
    target.add_argument("--substance", metavar="CODE")
    target.add_argument("--group", metavar="CODE")
    acting(code)
    code.set_defaults(run=run_code)
    verify = allergy_commands.add_parser("verify", help="confirm, refute or mark entered-in-error")
    verify.add_argument("allergy_id", type=int, metavar="ALLERGY_ID")
    verify.add_argument("verification", choices=VERIFICATIONS)
    verify.add_argument(
        "--reason", default="", help="why (needed to refute); added to the allergy's note"
    )
    acting(verify)
    verify.set_defaults(run=run_verify)


def run_code(args: argparse.Namespace, out: TextIO) -> int:
    services(args).allergies.code(args.allergy_id, args.actor, args.substance, args.group)
    print(f"allergy {args.allergy_id} coded", file=out)
    return 0


def run_verify(args: argparse.Namespace, out: TextIO) -> int:
    services(args).allergies.set_verification(
        args.allergy_id, args.actor, args.verification, args.reason
    )
    print(f"allergy {args.allergy_id} is now {args.verification}", file=out)
    return 0


def run_import(args: argparse.Namespace, out: TextIO) -> int:
    try:
        data = json.loads(read_text(args.file, FHIR_FILE_LIMIT, "an allergy file"))
    except ValueError as exc:  # JSONDecodeError, and a number too long to read
        raise BadInput(f"{args.file}: not valid JSON: {exc}") from None
    ids = services(args).allergies.import_fhir(args.patient, args.actor, data)
    print(
        f"recorded {len(ids)} allerg{'y' if len(ids) == 1 else 'ies'} for {args.patient}",
        file=out,
    )
    return 0


def run_export(args: argparse.Namespace, out: TextIO) -> int:
    bundle = services(args).allergies.export_fhir(args.patient, args.actor)
    text = json.dumps(bundle, indent=2, ensure_ascii=False)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
        print(f"{len(bundle['entry'])} allergies written to {args.output}", file=out)
    else:
        print(text, file=out)
    return 0
