"""Verifying at the bench: each vial scanned before it is drawn from, read against the plan.

A scan names a product (by its GTIN) and a lot. The right product and a lot the plan draws
from: that draw is verified. The right product and another usable lot: the allocation follows
the vial in the person's hand (the plan is made again with that lot first), and it is said.
A product the mixture does not draw, a lot not on the books, or one expired, quarantined or
recalled: BLOCK, naming what was scanned and what was expected — the vial goes back, and the
block goes with the scan (it cannot be signed off: nothing makes a wrong vial right).

Pure: the books (which GTIN names which product, the lots a scan names) are read by the
service and handed in; the clinic's setting says whether every draw must be verified by scan
before it is dispensed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from mesomix.domain.allocation import Pick
from mesomix.domain.findings import Finding, Severity
from mesomix.domain.scan import Scan, ScanError, read_scan

BY_SCAN = "scan"
BY_EYE = "eye"


@dataclass(frozen=True)
class ShelfLot:
    """A lot as a scan finds it on the books."""

    lot_id: int
    product_code: str
    lot_number: str
    expiry: date
    status: str  # available | quarantined | recalled


@dataclass(frozen=True)
class Books:
    """What the books say of the scans made: the product each scanned GTIN names, and the
    lots the scans name."""

    products_by_gtin: Mapping[str, str]
    lots: Mapping[tuple[str, str], ShelfLot]  # (product code, lot number)


@dataclass(frozen=True)
class BenchScan:
    """One scan at the bench, read against the books: the lot it names when the vial may be
    drawn from, else the BLOCK saying why it goes back."""

    lot: ShelfLot | None
    problem: Finding | None


def read_bench(
    typed: Sequence[str],
    books: Books,
    drawn: Mapping[str, str],
    names: Mapping[str, str],
    today: date,
) -> list[BenchScan]:
    """Each scan made at the bench, in the order made; `drawn` names the products the plan
    draws, `names` every product by its code."""
    return [
        _read_one(at, text, books, drawn, names, today) for at, text in enumerate(typed, start=1)
    ]


def scanned(typed: Sequence[str]) -> list[Scan]:
    """The scans that could be read, for the service to look their GTINs and lots up."""
    found = []
    for text in typed:
        try:
            found.append(read_scan(text))
        except ScanError:
            continue
    return found


def preferred(scans: Sequence[BenchScan]) -> dict[str, list[int]]:
    """The lots scanned and fit to draw, by product: the allocation takes them first."""
    lots: dict[str, list[int]] = {}
    for item in scans:
        if item.lot is not None and item.problem is None:
            lots.setdefault(item.lot.product_code, []).append(item.lot.lot_id)
    return lots


def verified_draws(scans: Sequence[BenchScan], picks: Mapping[str, list[Pick]]) -> dict[str, str]:
    """By product drawn: BY_SCAN when every lot it is drawn from was scanned, else BY_EYE."""
    seen = {item.lot.lot_id for item in scans if item.lot is not None and item.problem is None}
    return {
        code: BY_SCAN if all(p.lot_id in seen for p in product_picks) else BY_EYE
        for code, product_picks in picks.items()
    }


def bench_findings(
    scans: Sequence[BenchScan],
    picks: Mapping[str, list[Pick]] | None,
    first_expiry_picks: Mapping[str, list[Pick]] | None,
    names: Mapping[str, str],
    required: bool,
) -> list[Finding]:
    """What the scans say of the plan: each scan's BLOCK; a WARNING for a vial scanned that
    is not needed; each draw verified, or followed to the lot scanned (where first-expiry-
    first-out would have drawn another); and, where the clinic requires it, a BLOCK for each
    draw not yet verified by scan."""
    found = [item.problem for item in scans if item.problem is not None]
    if picks is None:  # the stock cannot cover the mixture: the plan says so already
        return found
    by_draw = verified_draws(scans, picks)
    picked = {p.lot_id for product_picks in picks.values() for p in product_picks}
    for at, item in enumerate(scans, start=1):
        if item.lot is not None and item.problem is None and item.lot.lot_id not in picked:
            name = names.get(item.lot.product_code, item.lot.product_code)
            found.append(
                Finding(
                    Severity.WARN,
                    "scan.not_drawn",
                    f"scan {at}: lot {item.lot.lot_number} of {name} is not drawn from — the "
                    "vials scanned before it cover the draw: put this one back",
                    subject=f"scan{at}",
                )
            )
    for code, product_picks in picks.items():
        name = names.get(code, code)
        lots = ", ".join(p.lot_number for p in product_picks)
        fefo = {p.lot_number for p in (first_expiry_picks or {}).get(code, [])}
        if by_draw[code] == BY_SCAN:
            moved = {p.lot_number for p in product_picks} - fefo
            if moved and fefo:
                found.append(
                    Finding(
                        Severity.INFO,
                        "scan.followed",
                        f"{name}: lot {', '.join(sorted(moved))} scanned, so it is drawn from "
                        f"instead of lot {', '.join(sorted(fefo))} (first expiry first)",
                    )
                )
            found.append(
                Finding(Severity.INFO, "scan.verified", f"verified by scan: {name}, lot {lots}")
            )
        elif required:
            found.append(
                Finding(
                    Severity.BLOCK,
                    "scan.required",
                    f"not verified: scan the vial of {name} (lot {lots}) before it is drawn — "
                    "the clinic requires every draw verified by scan",
                )
            )
    return found


def _read_one(
    at: int,
    typed: str,
    books: Books,
    drawn: Mapping[str, str],
    names: Mapping[str, str],
    today: date,
) -> BenchScan:
    def block(code: str, said: str) -> BenchScan:
        finding = Finding(Severity.BLOCK, code, f"scan {at}: {said}", subject=f"scan{at}")
        return BenchScan(None, finding)

    try:
        scan = read_scan(typed)
    except ScanError as unread:
        return block("scan.unreadable", str(unread))
    expected = "; ".join(drawn.values()) or "nothing yet"
    product = books.products_by_gtin.get(scan.gtin)
    if product is None:
        return block(
            "scan.unknown_gtin",
            f"GTIN {scan.gtin} is linked to no product — put the vial back; the mixture "
            f"draws {expected}",
        )
    name = names.get(product, product)
    if product not in drawn:
        return block(
            "scan.wrong_product",
            f"{name} scanned, which this mixture does not draw — put it back; expected {expected}",
        )
    if not scan.lot:
        return block(
            "scan.no_lot", f"{name}: the code carries no lot — verify this vial by eye instead"
        )
    lot = books.lots.get((product, scan.lot))
    if lot is None:
        return block(
            "scan.unknown_lot",
            f"lot {scan.lot} of {name} is not on the books — put it back and take a vial of "
            "a lot received",
        )
    if scan.expiry is not None and scan.expiry != lot.expiry:
        return block(
            "scan.expiry_mismatch",
            f"lot {scan.lot} of {name}: the vial says expiry {scan.expiry.isoformat()}, the "
            f"books {lot.expiry.isoformat()} — put it back and tell the manager",
        )
    if lot.status in ("recalled", "quarantined"):
        return block(
            f"scan.{lot.status}",
            f"lot {scan.lot} of {name} is {lot.status.upper()} — put it back; do not draw from it",
        )
    if lot.expiry < today:
        return block(
            "scan.expired",
            f"lot {scan.lot} of {name} EXPIRED on {lot.expiry.isoformat()} — put it back",
        )
    return BenchScan(lot, None)
