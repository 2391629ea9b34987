"""Reading a CSV file into rows, and checking its cells: every problem named by row and column."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from mesomix.domain.text import readable
from mesomix.domain.units import Quantity, canonical
from mesomix.errors import Refused

MAX_ROWS = 200_000


MAX_PROBLEMS_SHOWN = 50


_YES = {"yes", "y", "true", "1"}


_NO = {"no", "n", "false", "0", ""}


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


class ImportRefused(Refused):
    """The file was refused; nothing was written. Carries every problem found."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        shown = [str(p) for p in problems[:MAX_PROBLEMS_SHOWN]]
        more = len(problems) - len(shown)
        tail = [f"... and {more} more problem(s)"] if more > 0 else []
        super().__init__("\n".join(["nothing was imported:", *shown, *tail]))


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
    return found


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
    return problems


class RowCheck:
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


def in_microlitres(quantity: Quantity) -> Decimal:
    """A volume in microlitres, the unit stock is counted in (maybe not whole: the caller says)."""
    millilitres, _ = canonical(quantity)
    return millilitres * 1000
