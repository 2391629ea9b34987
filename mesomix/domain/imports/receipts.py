"""Stock receipts read from CSV or typed in a form, and the expiry dates printed on labels read
as the day they come to."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from mesomix.domain.imports.rows import (
    CsvRows,
    ImportRefused,
    Progress,
    RowCheck,
    RowProblem,
    in_microlitres,
)
from mesomix.domain.inventory import price_cents
from mesomix.domain.units import Field, QuantityError, format_decimal, parse_quantity

STOCK_COLUMNS = {
    "product": True,
    "lot_number": True,
    "expiry": True,
    "containers": False,
    "quantity": False,
    "supplier": False,
    "unit_cost": False,
}


@dataclass(frozen=True)
class Receipt:
    row: int
    product_code: str
    lot_number: str
    expiry: date
    containers: int
    supplier: str
    unit_cost_cents: int | None
    expiry_typed: str = ""  # as on the box: "2028-05" is read as 2028-05-31

    @property
    def expiry_read(self) -> str:
        """The expiry with what it was read from when that was a month ("2028-05 → 2028-05-31"),
        so the person sees the day a month-only expiry comes to."""
        day = self.expiry.isoformat()
        return day if self.expiry_typed in ("", day) else f"{self.expiry_typed} → {day}"


@dataclass(frozen=True)
class LotOnRecord:
    product_code: str
    lot_number: str
    expiry: date


def check_receipts(
    rows: CsvRows,
    catalog_volumes: Mapping[str, int],
    lots_on_record: Mapping[tuple[str, str], date],
    today: date,
    progress: Progress | None = None,
) -> list[Receipt]:
    """The receipts to book (from `read_rows(text, STOCK_COLUMNS, "stock")`);
    `catalog_volumes` is each known product's container volume (µL)."""
    if "containers" not in rows.header and "quantity" not in rows.header:
        raise ImportRefused(
            [
                RowProblem(
                    1,
                    "containers",
                    "give the quantity received: a 'containers' column or a 'quantity' column (e.g. 50 mL)",
                )
            ]
        )
    problems, found = rows.problems, []
    seen: dict[tuple[str, str], tuple[int, date]] = {}
    for done, (number, cells) in enumerate(rows.rows, start=1):
        check = RowCheck(number, cells, problems)
        receipt = _receipt(check, catalog_volumes, today)
        if progress:
            progress(done, len(rows.rows))
        if receipt is None:
            continue
        key = (receipt.product_code, receipt.lot_number)
        expiry_elsewhere = lots_on_record.get(key)
        if expiry_elsewhere is not None and expiry_elsewhere != receipt.expiry:
            check.problem(
                "expiry",
                f"lot {receipt.lot_number} is on record with expiry {expiry_elsewhere.isoformat()}, not {receipt.expiry_read}: check the label",
            )
            continue
        if key in seen and seen[key][1] != receipt.expiry:
            check.problem(
                "expiry",
                f"lot {receipt.lot_number} is on row {seen[key][0]} with expiry {seen[key][1].isoformat()}, not {receipt.expiry_read}",
            )
            continue
        seen.setdefault(key, (number, receipt.expiry))
        found.append(receipt)
    if problems:
        raise ImportRefused(problems)
    return found


def _receipt(check: RowCheck, volumes: Mapping[str, int], today: date) -> Receipt | None:
    product = check.text("product", required=True, longest=60)
    volume = volumes.get(product)
    if product and volume is None:
        check.problem("product", f"no product with code '{product}' in the catalogue")
    lot_number = check.text("lot_number", required=True, longest=40)
    expiry = _date(check, "expiry", today)
    containers = _containers(check, volume)
    supplier = check.text("supplier", longest=80)
    cost_typed = check.text("unit_cost")
    cost = None
    if cost_typed:
        try:
            cost = price_cents(cost_typed)
        except ValueError as exc:
            check.problem("unit_cost", str(exc))
    if check.failed or expiry is None or containers is None:
        return None
    typed = check.cells.get("expiry", "").strip()
    return Receipt(check.number, product, lot_number, expiry, containers, supplier, cost, typed)


_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


_YEAR_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


_MONTH_YEAR = re.compile(r"([0-9]{1,2})/([0-9]{4})")


_SHORT_YEAR = re.compile(r"[0-9]{1,2}[/.-][0-9]{2}")


_THREE_PARTS = re.compile(r"[0-9]{1,4}[/.-][0-9]{1,2}[/.-][0-9]{1,4}")


def expiry_date(typed: str) -> date:
    """The day an expiry printed on a box ends: a day as written (2028-05-31), or a month alone
    (2028-05, 05/2028, 5/2028) read as that month's last day, as a month-only expiry on a
    medicine is. Raises ValueError, in words, for anything else and for what reads two ways:
    05/06/28 (which is the day?) and 05/28 (a year in two digits)."""
    if day := _DAY.fullmatch(typed):
        try:
            return date(*(int(part) for part in day.groups()))
        except ValueError:  # the right shape, but no such day (2028-02-30) or month
            raise ValueError(
                f"'{typed}' is not a day of the calendar: check the month and day"
            ) from None
    if month := _YEAR_MONTH.fullmatch(typed):
        return _month_end(typed, *month.groups())
    if month := _MONTH_YEAR.fullmatch(typed):
        return _month_end(typed, month[2], month[1])
    if _SHORT_YEAR.fullmatch(typed):
        raise ValueError(
            f"'{typed}': a year in two digits can be misread — write the month with its year "
            "in full, as YYYY-MM or MM/YYYY"
        )
    if _THREE_PARTS.fullmatch(typed):
        raise ValueError(
            f"'{typed}': day and month are written in either order in different countries — "
            "write it as YYYY-MM-DD, e.g. 2027-03-31, or the month alone as YYYY-MM"
        )
    raise ValueError(
        f"'{typed}' is not a date: write it as YYYY-MM-DD, e.g. 2027-03-31, or the month alone "
        "as YYYY-MM or MM/YYYY (read as its last day)"
    )


def _month_end(typed: str, year: str, month: str) -> date:
    if not 1 <= int(month) <= 12 or int(year) < 1:
        raise ValueError(f"'{typed}' is not a month of the calendar: a month is 01 to 12")
    return date(int(year), int(month), calendar.monthrange(int(year), int(month))[1])


def _date(check: RowCheck, column: str, today: date) -> date | None:
    typed = check.text(column, required=True)
    if not typed:
        return None
    try:
        value = expiry_date(typed)
    except ValueError as exc:
        check.problem(column, str(exc))
        return None
    if value < today:
        when = f"on {typed}" if typed == value.isoformat() else f"at the end of {typed} ({value})"
        check.problem(column, f"the lot expired {when}: it cannot be received")
        return None
    return value


def _containers(check: RowCheck, volume: int | None) -> int | None:
    counted = check.whole("containers", smallest=1, largest=100_000)
    typed = check.text("quantity")
    if counted is not None and typed:
        check.problem("quantity", "give containers or quantity, not both")
        return None
    if counted is not None or not typed:
        if counted is None and not check.failed:
            check.problem("containers", "how many were received? give containers or quantity")
        return counted
    try:
        quantity = parse_quantity(typed, Field.VOLUME)
    except QuantityError as exc:
        check.problem("quantity", str(exc))
        return None
    if volume is None:
        return None
    whole, rest = divmod(in_microlitres(quantity), volume)
    if rest or not whole:
        size = format_decimal(Decimal(volume) / 1000)
        check.problem("quantity", f"{typed} is not a whole number of containers of {size} mL")
        return None
    if whole > 100_000:
        check.problem("quantity", f"{typed} is more than 100,000 containers")
        return None
    return int(whole)


def check_receipt_form(
    cells: Mapping[str, str],
    volumes: Mapping[str, int],
    lots_on_record: Mapping[tuple[str, str], date],
    today: date,
) -> tuple[Receipt | None, list[RowProblem]]:
    """One receipt typed into a form, checked by the same rules as a CSV row (row number 0)."""
    problems: list[RowProblem] = []
    receipt = _receipt(RowCheck(0, dict(cells), problems), volumes, today)
    if receipt is not None:
        on_record = lots_on_record.get((receipt.product_code, receipt.lot_number))
        if on_record is not None and on_record != receipt.expiry:
            problems.append(
                RowProblem(
                    0,
                    "expiry",
                    f"lot {receipt.lot_number} is on record with expiry {on_record.isoformat()}, not {receipt.expiry_read}: check the label",
                )
            )
            receipt = None
    return receipt, problems
