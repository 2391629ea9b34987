"""Exported cells a spreadsheet reads as text, never runs: a product, lot or patient name is
typed by somebody, and a name such as `=HYPERLINK(…)` or `=cmd|' /C calc'!A0` would be a live
formula in whoever opens the export (CSV injection, as OWASP names it).

Pure: pandas in, pandas out; every CSV and XLSX export goes through `inert` (reports/service.py)."""

from __future__ import annotations

import pandas as pd

# What makes a spreadsheet read a cell as a formula (OWASP's list): =, +, -, @, tab, return;
# and their full-width forms (＝ ＋ － ＠), which a spreadsheet with an East Asian input method
# may take for the ASCII ones: the cautious reading, though OWASP does not list them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Excel's error values: in a CSV, or written by openpyxl, they are errors, not text.
ERROR_VALUES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})


def runs(cell: object) -> bool:
    """A text cell a spreadsheet would run as a formula, or read as an error value."""
    if not isinstance(cell, str):
        return False
    # A spreadsheet may trim leading blanks before it reads the cell: look past them.
    shown = cell.lstrip(" \u00a0\u3000\n")
    return shown.startswith(FORMULA_STARTS) or shown in ERROR_VALUES


def as_text(cell: object) -> object:
    """The cell with a leading apostrophe, the spreadsheet's own mark for "this is text", when it
    `runs`; any other cell as it was. Numbers are never touched: -3 stays a number, only text
    that starts with "-" is marked."""
    return "'" + cell if isinstance(cell, str) and runs(cell) else cell


def inert(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell, its header's included, made `as_text`; number, date and
    yes/no columns as they are. Only a column with a cell to mark is copied, so a large report
    is not held twice."""
    marked = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
            continue
        if values.map(runs).any():
            marked[column] = values.map(as_text)
    return frame.assign(**marked).rename(columns=as_text)
