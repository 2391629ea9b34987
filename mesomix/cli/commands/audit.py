"""`mesomix audit verify|anchor|show`: the audit trail, its chain verified, its head anchored
outside the database, its rows shown."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from mesomix.cli.arguments import acting, day, group
from mesomix.cli.files import ANCHOR_FILE_LIMIT, append_line, read_limited
from mesomix.cli.output import EXIT_BLOCKED
from mesomix.cli.signin import services
from mesomix.domain.anchors import Anchor, AnchorError, parse_anchors, utc_text
from mesomix.options import BadInput


def register(commands: Any) -> None:
    audit_commands = group(
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
    acting(verify)
    verify.set_defaults(run=run_verify)
    anchor = audit_commands.add_parser(
        "anchor", help="print the chain's head (id, hash, UTC time) to keep outside the database"
    )
    anchor.add_argument(
        "--output", type=Path, metavar="FILE", help="append the line to FILE instead"
    )
    acting(anchor)
    anchor.set_defaults(run=run_anchor)
    show = audit_commands.add_parser("show", help="rows filtered by user, patient, lot and time")
    show.add_argument("--by", metavar="USER", help="rows written by this user")
    show.add_argument("--patient", metavar="REF")
    show.add_argument("--lot", type=int, metavar="LOT_ID")
    show.add_argument("--since", type=day, metavar="YYYY-MM-DD")
    show.add_argument("--until", type=day, metavar="YYYY-MM-DD")
    show.add_argument("--limit", type=int, default=200)
    acting(show)
    show.set_defaults(run=run_show)


def run_verify(args: argparse.Namespace, out: TextIO) -> int:
    anchors = _anchors(args.anchor) if args.anchor else []
    verdict = services(args).audit.verify(args.actor, anchors)
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


def run_anchor(args: argparse.Namespace, out: TextIO) -> int:
    """The chain's head, printed or appended to the file the clinic keeps elsewhere."""
    output: Path | None = args.output
    if output is not None:
        _anchors(output, empty_ok=True)  # refused before anything is written
    head = services(args).audit.anchor(args.actor, output)
    if output is None:
        print(head.text(), file=out)
        return 0
    try:
        append_line(output, head.text())
    except OSError as exc:
        raise BadInput(
            f"the head was anchored (audit row {head.row_id}) but could not be written to "
            f"{output} ({exc.strerror}): keep this line instead: {head.text()}"
        ) from None
    print(f"anchored row {head.row_id} at {utc_text(head.at)} in {output}", file=out)
    return 0


def run_show(args: argparse.Namespace, out: TextIO) -> int:
    program = services(args)
    lines = program.audit.show(
        args.actor,
        by=args.by,
        patient_ref=args.patient,
        lot_id=args.lot,
        since=args.since,
        until=args.until,
        limit=args.limit,
    )
    zone = program.clock.zone
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
