"""`mesomix lot …`: the manager's stock work on one lot."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TextIO

from mesomix.cli.arguments import acting, group
from mesomix.cli.signin import services
from mesomix.domain.inventory import ADJUSTMENT_REASONS, COUNT_REASONS
from mesomix.options import BadInput
from mesomix.services.stock import StockService


def register(commands: Any) -> None:
    lot_commands = group(commands, "lot", "the manager's stock work on one lot", "lot_command")
    receive = lot_commands.add_parser(
        "receive", help="a delivery: scan the box's code, or name the product, lot and expiry"
    )
    receive.add_argument(
        "--scan",
        default="",
        metavar="CODE",
        help="what the scanner reads from the box (GS1 DataMatrix or Digital Link): "
        "the product, lot and expiry",
    )
    receive.add_argument("--product", default="", help="the name on the box, or our code")
    receive.add_argument("--lot", default="", help="lot number (from the scan if not given)")
    receive.add_argument("--expiry", default="", help="YYYY-MM-DD or YYYY-MM")
    receive.add_argument("--containers", required=True, help="how many sealed")
    receive.add_argument("--supplier", default="")
    receive.add_argument("--unit-cost", default="", help="one container, e.g. 12.50")
    receive.set_defaults(run=run_receive)
    adjust = lot_commands.add_parser("adjust", help="put stock on or take it off, with a reason")
    adjust.add_argument("lot_id", type=int)
    direction = adjust.add_mutually_exclusive_group(required=True)
    direction.add_argument("--add", metavar='"2 mL"', help='a volume, or containers: "1 vial"')
    direction.add_argument("--remove", metavar='"2 mL"', help='a volume, or containers: "1 vial"')
    adjust.add_argument("--reason", required=True, choices=ADJUSTMENT_REASONS)
    adjust.add_argument("--note", default="")
    adjust.set_defaults(run=_done(_adjust))
    waste = lot_commands.add_parser("waste", help="take stock off as waste, with a reason")
    waste.add_argument("lot_id", type=int)
    waste.add_argument("volume", metavar='"2 mL"', help='a volume, or containers: "1 vial"')
    waste.add_argument("--reason", required=True, choices=ADJUSTMENT_REASONS)
    waste.add_argument("--note", default="")
    waste.set_defaults(run=_done(_waste))
    back = lot_commands.add_parser("return", help="containers returned to the supplier")
    back.add_argument("lot_id", type=int)
    back.add_argument("--containers", type=int, required=True)
    back.add_argument("--note", default="")
    back.set_defaults(run=_done(_return))
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
    count.set_defaults(run=_done(_count))
    status = lot_commands.add_parser("status", help="quarantine, release or recall")
    status.add_argument("lot_id", type=int)
    status.add_argument("status", choices=("available", "quarantined", "recalled"))
    status.add_argument("--reason", required=True)
    status.set_defaults(run=_done(_status))
    correct = lot_commands.add_parser("correct", help="undo a mistaken movement with a new one")
    correct.add_argument("movement_id", type=int)
    correct.add_argument("--note", required=True)
    correct.set_defaults(run=_done(_correct))
    transfer = lot_commands.add_parser(
        "transfer", help="send sealed containers to another site's shelves"
    )
    transfer.add_argument("lot_id", type=int)
    transfer.add_argument("--to", required=True, metavar="SITE", dest="to_site")
    transfer.add_argument("--containers", type=int, required=True)
    transfer.add_argument("--note", default="")
    transfer.set_defaults(run=run_transfer)
    trace = lot_commands.add_parser("trace", help="every batch and patient that received the lot")
    trace.add_argument("lot_id", type=int)
    trace.set_defaults(run=run_trace)
    signals = lot_commands.add_parser(
        "signals", help="lots whose reactions meet a vigilance rule (data/vigilance.toml)"
    )
    signals.set_defaults(run=run_signals)
    for command in (receive, adjust, waste, back, count, status, correct, transfer, trace, signals):
        acting(command)


def run_receive(args: argparse.Namespace, out: TextIO) -> int:
    """The receive form's checks and booking, the scan in the product's place."""
    if args.scan.strip() and args.product.strip():
        raise BadInput("give --scan or --product, not both: the scan names the product")
    if not (args.scan.strip() or args.product.strip()):
        raise BadInput("say what was received: --scan with the box's code, or --product")
    done = services(args).inventory.receive_typed(
        args.actor,
        {
            "product": args.scan or args.product,
            "lot_number": args.lot,
            "expiry": args.expiry,
            "containers": args.containers,
            "supplier": args.supplier,
            "unit_cost": args.unit_cost,
        },
    )
    print(
        f"received lot {done.lot_number} (lot id {done.lot_id}): {done.containers} × "
        f"{done.product_name} ({done.product_code})"
        + (f"; expiry {done.expiry_read}" if done.expiry_read else ""),
        file=out,
    )
    return 0


def run_transfer(args: argparse.Namespace, out: TextIO) -> int:
    sent = services(args).inventory.transfer(
        args.actor, args.lot_id, args.to_site, args.containers, args.note
    )
    print(
        f"lot {args.lot_id}: {args.containers} container{'' if args.containers == 1 else 's'} "
        f"sent to {sent.to_site} (lot {sent.to_lot_id} there; movements {sent.out_movement_id} "
        f"and {sent.in_movement_id})",
        file=out,
    )
    return 0


def run_trace(args: argparse.Namespace, out: TextIO) -> int:
    lines = services(args).inventory.recall_trace(args.actor, args.lot_id)
    for line in lines:
        print(
            f"batch {line.batch_id:>6}  {line.made_at:%Y-%m-%d %H:%M}  {line.patient_ref:<10} {line.patient_name:<30} {line.volume_ul / 1000:g} mL  by {line.made_by}"
            + (f"  REACTIONS: {', '.join(line.reactions)}" if line.reactions else ""),
            file=out,
        )
    print(f"{len(lines)} batch(es) received lot {args.lot_id}", file=out)
    return 0


def run_signals(args: argparse.Namespace, out: TextIO) -> int:
    """Each signal with what it counted; the lots to consider quarantining and whom to call."""
    found = services(args).reactions.signals(args.actor)
    for view in found:
        signal = view.signal
        print(f"SIGNAL {signal.rule}: {signal.said}", file=out)
        print(f"  proposed: {view.proposal}", file=out)
        if view.lot_status == "available":
            print(f'    mesomix lot status {signal.lot_id} quarantined --reason "…"', file=out)
        print("  patients to call:", file=out)
        for patient in view.patients:
            print(f"    {patient}", file=out)
    print(f"{len(found)} signal(s)", file=out)
    return 0


def _adjust(inventory: StockService, args: argparse.Namespace) -> int | None:
    direction, typed = ("add", args.add) if args.add is not None else ("remove", args.remove)
    return inventory.adjust_typed(args.actor, args.lot_id, typed, direction, args.reason, args.note)


def _waste(inventory: StockService, args: argparse.Namespace) -> int | None:
    return inventory.waste_typed(args.actor, args.lot_id, args.volume, args.reason, args.note)


def _return(inventory: StockService, args: argparse.Namespace) -> int | None:
    return inventory.return_to_supplier(args.actor, args.lot_id, args.containers, args.note)


def _count(inventory: StockService, args: argparse.Namespace) -> int | None:
    return inventory.count(args.actor, args.lot_id, args.sealed, args.open, args.reason, args.note)


def _status(inventory: StockService, args: argparse.Namespace) -> int | None:
    inventory.set_status(args.actor, args.lot_id, args.status, args.reason)
    return None


def _correct(inventory: StockService, args: argparse.Namespace) -> int | None:
    return inventory.correct(args.actor, args.movement_id, args.note)


Work = Callable[[StockService, argparse.Namespace], int | None]


def _done(work: Work) -> Callable[[argparse.Namespace, TextIO], int]:
    """One piece of stock work, said done with the movement it booked (if it booked one)."""

    def run(args: argparse.Namespace, out: TextIO) -> int:
        done = work(services(args).inventory, args)
        print(f"lot {args.lot_command}: done" + (f" (movement {done})" if done else ""), file=out)
        return 0

    return run
