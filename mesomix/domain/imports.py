"""Reading products and stock receipts from CSV: every row checked before anything is written.

A file is refused whole when any row is wrong, and each problem names its row (as a spreadsheet
numbers it: the header is row 1), its column and what is wrong, so the person can fix the file and
try again. Nothing here touches the database: the service hands in what the database knows (the
catalogue, the lots on record, today's date) and writes what comes out.
"""

from __future__ import annotations

import calendar
import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from mesomix.domain.catalog import Catalog, ContainerKind, Substance
from mesomix.domain.inventory import price_cents
from mesomix.domain.text import readable
from mesomix.domain.units import (
    Field,
    Quantity,
    QuantityError,
    canonical,
    format_decimal,
    parse_quantity,
)

MAX_ROWS = 200_000
MAX_PROBLEMS_SHOWN = 50
_CODE = re.compile(r"[a-z0-9][a-z0-9_]{1,59}")
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}

PRODUCT_COLUMNS = {
    "code": True,
    "name": True,
    "container": True,
    "container_volume": True,
    "source": True,
    "strengths": False,
    "excipients": False,
    "form": False,
    "reconstitute_with": False,
    "pack_size": False,
    "latex_stopper": False,
    "diluent": False,
    "in_use_days": False,
    "reorder_level": False,
    "reorder_quantity": False,
}  # column -> required
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
class RowProblem:
    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str  # empty when the problem is the whole row or the file
    message: str

    def __str__(self) -> str:
        if not self.row:
            return readable(self.message)
        where = f"row {self.row}, column '{self.column}'" if self.column else f"row {self.row}"
        return readable(f"{where}: {self.message}")  # cells and headers quoted are typed text


class ImportRefused(Exception):
    """The file was refused; nothing was written. Carries every problem found."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        shown = [str(p) for p in problems[:MAX_PROBLEMS_SHOWN]]
        more = len(problems) - len(shown)
        tail = [f"... and {more} more problem(s)"] if more > 0 else []
        super().__init__("\n".join(["nothing was imported:", *shown, *tail]))


@dataclass(frozen=True)
class ProductImport:
    """A product row as checked: the same record the shipped catalogue uses, ready to store."""

    row: int
    record: dict[str, Any]
    container_volume_ul: int
    reorder_level: int | None
    reorder_quantity: int | None


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


Progress = Callable[[int, int], None]


@dataclass
class CsvRows:
    """The rows of a CSV file, with the problems found in reading them."""

    header: list[str]
    rows: list[tuple[int, dict[str, str]]]
    problems: list[RowProblem] = field(default_factory=list)


def read_rows(text: str, columns: Mapping[str, bool], what: str) -> CsvRows:
    """The file's rows as column -> text; the header and the shape of each row are checked."""
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise ImportRefused([RowProblem(0, "", "this is not a text CSV file (it holds NUL bytes)")])
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ImportRefused(
            [
                RowProblem(
                    0,
                    "",
                    f"the file is empty: the first row names the columns ({', '.join(columns)})",
                )
            ]
        )
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except csv.Error as exc:
        raise ImportRefused(
            [RowProblem(1, "", f"the header cannot be read as CSV ({exc})")]
        ) from None
    problems = _header_problems(header, columns, what)
    if problems:
        raise ImportRefused(problems)
    found = CsvRows(header, [])
    number = 1
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, as spreadsheets leave at the end
            if len(cells) != len(header):
                found.problems.append(
                    RowProblem(
                        number, "", f"{len(cells)} cells where the header has {len(header)} columns"
                    )
                )
                continue
            found.rows.append((number, dict(zip(header, cells, strict=True))))
            if len(found.rows) > MAX_ROWS:
                raise ImportRefused(
                    [RowProblem(number, "", f"more than {MAX_ROWS:,} rows: split the file")]
                )
    except csv.Error as exc:
        found.problems.append(RowProblem(number + 1, "", f"cannot be read as CSV ({exc})"))
    if not found.rows and not found.problems:
        found.problems.append(RowProblem(0, "", f"no {what} rows under the header"))
    return found  # fmt: skip


def _header_problems(header: list[str], columns: Mapping[str, bool], what: str) -> list[RowProblem]:
    problems = []
    for name in header:
        if name not in columns:
            problems.append(
                RowProblem(
                    1, name, f"unknown column for {what}: the columns are {', '.join(columns)}"
                )
            )
    for name, required in columns.items():
        if required and name not in header:
            problems.append(RowProblem(1, name, "this column is required and missing"))
    seen = set()
    for name in header:
        if name in seen:
            problems.append(RowProblem(1, name, "this column appears twice"))
        seen.add(name)
    return problems  # fmt: skip


class _RowCheck:
    """Checks the cells of one row, collecting a problem per bad cell rather than stopping."""

    def __init__(self, number: int, cells: dict[str, str], problems: list[RowProblem]) -> None:
        self.number, self.cells, self.problems = number, cells, problems
        self.failed = False

    def problem(self, column: str, message: str) -> None:
        self.problems.append(RowProblem(self.number, column, message))
        self.failed = True

    def text(self, column: str, *, required: bool = False, longest: int = 200) -> str:
        value = self.cells.get(column, "").strip()
        if required and not value:
            self.problem(column, "empty: this cell is required")
        elif len(value) > longest:
            self.problem(column, f"longer than {longest} characters")
        elif not value.isprintable():
            self.problem(column, "holds control or invisible characters")
        return value

    def whole(self, column: str, *, smallest: int, largest: int) -> int | None:
        typed = self.text(column)
        if not typed:
            return None
        if not typed.isascii() or not typed.isdigit():
            self.problem(column, f"'{typed}' is not a whole number")
            return None
        value = int(typed)
        if not smallest <= value <= largest:
            self.problem(column, f"{value} is outside {smallest} to {largest:,}")
            return None
        return value

    def flag(self, column: str) -> bool:
        typed = self.text(column).lower()
        if typed in _YES:
            return True
        if typed not in _NO:
            self.problem(column, f"'{typed}' is not yes or no")
        return False


def check_products(
    rows: CsvRows,
    catalog: Catalog,
    codes_on_record: Mapping[str, dict[str, Any]],
    progress: Progress | None = None,
) -> tuple[list[ProductImport], int]:
    """The products to add (from `read_rows(text, PRODUCT_COLUMNS, "products")`), and how many
    rows repeat a product already on record unchanged."""
    problems, found, unchanged = rows.problems, [], 0
    seen: dict[str, int] = {}
    for done, (number, cells) in enumerate(rows.rows, start=1):
        check = _RowCheck(number, cells, problems)
        checked = _product(check, catalog)
        if progress:
            progress(done, len(rows.rows))
        if checked is None:
            continue
        code = checked.record["code"]
        if code in seen:
            check.problem("code", f"'{code}' is also on row {seen[code]}")
            continue
        seen[code] = number
        if code in codes_on_record:
            if codes_on_record[code] == checked.record:
                unchanged += 1
            else:
                check.problem(
                    "code",
                    f"'{code}' is already in the catalogue with other details: give the new product its own code",
                )
            continue
        found.append(checked)
    if problems:
        raise ImportRefused(problems)
    return found, unchanged  # fmt: skip


def _product(check: _RowCheck, catalog: Catalog) -> ProductImport | None:
    code = check.text("code", required=True, longest=60)
    if code and not _CODE.fullmatch(code):
        check.problem(
            "code", f"'{code}' is not a product code: 2 to 60 lower-case letters, digits or _"
        )
    name = check.text("name", required=True)
    container = check.text("container", required=True).lower().replace("-", "_").replace(" ", "_")
    if container and container not in {kind.value for kind in ContainerKind}:
        check.problem("container", f"'{container}' is not single_dose or multi_dose")
    volume = _volume(check, "container_volume")
    form = check.text("form").lower() or "solution"
    if form not in ("solution", "powder"):
        check.problem("form", f"'{form}' is not solution or powder")
    reconstitute_with = check.text("reconstitute_with")
    if form == "powder" and not reconstitute_with:
        check.problem(
            "reconstitute_with", "a powder needs the code of the diluent it is made up with"
        )
    elif reconstitute_with and reconstitute_with not in catalog.products:
        check.problem("reconstitute_with", f"no product with code '{reconstitute_with}'")
    strengths = _strengths(check, catalog)
    excipients = [
        _substance(check, "excipients", typed, catalog)
        for typed in _items(check.text("excipients", longest=1000))
    ]
    diluent = check.flag("diluent")
    if not strengths and not diluent:
        check.problem(
            "strengths",
            "a product that is not a diluent needs at least one strength, e.g. lidocaine_hcl 20 mg/mL",
        )
    pack_size = check.whole("pack_size", smallest=1, largest=10_000) or 1
    in_use_days = check.whole("in_use_days", smallest=1, largest=365)
    if in_use_days and container != "multi_dose":
        check.problem("in_use_days", "only a multi-dose container has an in-use period once opened")
    latex = check.flag("latex_stopper")
    reorder_level = check.whole("reorder_level", smallest=0, largest=100_000)
    reorder_quantity = check.whole("reorder_quantity", smallest=1, largest=100_000)
    source = check.text("source", required=True, longest=500)
    if check.failed or volume is None:
        return None
    record: dict[str, Any] = {
        "code": code, "name": name, "form": form, "container": container,
        "container_volume": volume[0], "pack_size": pack_size, "latex_stopper": latex,
        "source": source,
    }  # fmt: skip
    if strengths:
        record["strength"] = [{"substance": s, "per_ml": per_ml} for s, per_ml in strengths]
    if excipients:
        record["excipient"] = [{"substance": s.code} for s in excipients if s is not None]
    if diluent:
        record["diluent"] = True
    if reconstitute_with:
        record["reconstitute_with"] = reconstitute_with
    if in_use_days:
        record["in_use_days"] = in_use_days
    return ProductImport(check.number, record, volume[1], reorder_level, reorder_quantity)


def _items(text: str) -> Iterator[str]:
    return (item.strip() for item in text.split(";") if item.strip())


def _volume(check: _RowCheck, column: str) -> tuple[str, int] | None:
    typed = check.text(column, required=True)
    if not typed:
        return None
    try:
        quantity = parse_quantity(typed, Field.VOLUME)
    except QuantityError as exc:
        check.problem(column, str(exc))
        return None
    microlitres = _microlitres(quantity)
    if microlitres != int(microlitres) or not 1 <= microlitres <= 1_000_000_000:
        check.problem(column, f"{typed} is not a container volume mesomix can count in microlitres")
        return None
    return typed, int(microlitres)


def _substance(check: _RowCheck, column: str, typed: str, catalog: Catalog) -> Substance | None:
    found = catalog.substances.get(typed) or catalog.resolve(typed)
    if isinstance(found, Substance):
        return found
    meanings = catalog.meanings(typed)
    if len(meanings) > 1:
        check.problem(
            column, f"'{typed}' could be {' or '.join(m.code for m in meanings)}: use the code"
        )
    else:
        check.problem(column, f"no substance '{typed}' in the catalogue")
    return None


def _strengths(check: _RowCheck, catalog: Catalog) -> list[tuple[str, str]]:
    """`substance strength` pairs separated by ';', e.g. "lidocaine_hcl 20 mg/mL; adrenaline 1:100000".

    The strength is the first run of words, starting with a digit, that reads as one."""
    found = []
    for item in _items(check.text("strengths", longest=1000)):
        words = item.split()
        split = next(
            (
                n
                for n in range(1, len(words))
                if words[n][0].isdigit() and _reads_as_strength(" ".join(words[n:]))
            ),
            None,
        )
        if split is None:
            check.problem(
                "strengths",
                f"'{item}': write the substance then its strength, e.g. lidocaine_hcl 20 mg/mL",
            )
            continue
        substance = _substance(check, "strengths", " ".join(words[:split]), catalog)
        if substance is not None:
            found.append((substance.code, " ".join(words[split:])))
    return found  # fmt: skip


def _reads_as_strength(typed: str) -> bool:
    try:
        parse_quantity(typed, Field.STRENGTH)
    except QuantityError:
        return False
    return True


def _microlitres(quantity: Quantity) -> Decimal:
    millilitres, _ = canonical(quantity)
    return millilitres * 1000


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
        check = _RowCheck(number, cells, problems)
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
    return found  # fmt: skip


def _receipt(check: _RowCheck, volumes: Mapping[str, int], today: date) -> Receipt | None:
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
    return Receipt(check.number, product, lot_number, expiry, containers, supplier, cost, typed)  # fmt: skip


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


def _date(check: _RowCheck, column: str, today: date) -> date | None:
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


def _containers(check: _RowCheck, volume: int | None) -> int | None:
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
    whole, rest = divmod(_microlitres(quantity), volume)
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
    receipt = _receipt(_RowCheck(0, dict(cells), problems), volumes, today)
    if receipt is not None:
        on_record = lots_on_record.get((receipt.product_code, receipt.lot_number))
        if on_record is not None and on_record != receipt.expiry:
            problems.append(
                RowProblem(0, "expiry", f"lot {receipt.lot_number} is on record with expiry {on_record.isoformat()}, not {receipt.expiry_read}: check the label")
            )  # fmt: skip
            receipt = None
    return receipt, problems
