"""An expiry as printed on a box: a day, or a month read as its last day (the usual reading of a
month-only expiry on a medicine); anything that reads two ways is refused, never guessed."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mesomix.domain.imports import (
    STOCK_COLUMNS,
    ImportRefused,
    check_receipt_form,
    check_receipts,
    expiry_date,
    read_rows,
)

TODAY = date(2026, 11, 24)
VIAL = "lidocaine_2pct_2ml_amp"
VOLUMES = {VIAL: 2000}


def form(expiry: str, lots: dict[tuple[str, str], date] | None = None):
    cells = {"product": VIAL, "lot_number": "L1", "expiry": expiry, "containers": "2"}
    return check_receipt_form(cells, VOLUMES, lots or {}, TODAY)


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2028-05-31", date(2028, 5, 31)),  # a day, as before
        ("2028-05", date(2028, 5, 31)),
        ("05/2028", date(2028, 5, 31)),
        ("5/2028", date(2028, 5, 31)),
        ("2028-02", date(2028, 2, 29)),  # a leap year's February
        ("02/2027", date(2027, 2, 28)),
        ("2027-04", date(2027, 4, 30)),
        ("12/2027", date(2027, 12, 31)),
    ],
)
def test_a_month_is_read_as_its_last_day(typed, day):
    assert expiry_date(typed) == day


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("05/06/28", "day and month are written in either order"),
        ("06/05/2028", "day and month are written in either order"),
        ("31/03/2028", "write it as YYYY-MM-DD"),
        ("05/28", "a year in two digits can be misread"),
        ("5-28", "a year in two digits can be misread"),
        ("13/2028", "'13/2028' is not a month of the calendar"),
        ("2028-13", "is not a month of the calendar"),
        ("00/2028", "is not a month of the calendar"),
        ("2028-02-30", "'2028-02-30' is not a day of the calendar"),
        ("May 2028", "or the month alone as YYYY-MM or MM/YYYY"),
        ("2028/05", "is not a date"),
        ("2028-5", "is not a date"),
        ("２０２８-05", "is not a date"),  # digits that are not ASCII
    ],
)
def test_what_reads_two_ways_or_not_at_all_is_refused_in_words(typed, says):
    with pytest.raises(ValueError, match=says):
        expiry_date(typed)


@given(st.integers(1, 9999), st.integers(1, 12))
def test_every_month_ends_on_its_last_day_whichever_way_it_is_written(year, month):
    last = expiry_date(f"{year:04d}-{month:02d}")
    assert (last.year, last.month) == (year, month)
    assert last.day == calendar.monthrange(year, month)[1]
    assert last == date(year, month, 1) + timedelta(days=last.day - 1)
    if year >= 1000:
        assert expiry_date(f"{month:02d}/{year}") == expiry_date(f"{month}/{year}") == last


def test_the_receipt_form_shows_what_a_month_was_read_as():
    receipt, problems = form("2028-05")
    assert problems == [] and receipt is not None
    assert (receipt.expiry, receipt.expiry_read) == (date(2028, 5, 31), "2028-05 → 2028-05-31")
    day, _ = form("2028-05-31")
    assert day is not None and day.expiry_read == "2028-05-31"


def test_this_month_is_received_and_last_month_is_expired():
    receipt, problems = form("2026-11")  # expires at the end of this month
    assert problems == [] and receipt is not None and receipt.expiry == date(2026, 11, 30)
    receipt, problems = form("10/2026")
    assert receipt is None
    assert [p.message for p in problems] == [
        "the lot expired at the end of 10/2026 (2026-10-31): it cannot be received"
    ]
    _, problems = form("2026-11-23")  # a day keeps its own words
    assert [p.message for p in problems] == ["the lot expired on 2026-11-23: it cannot be received"]


def test_a_lot_on_record_names_the_day_its_month_was_read_as():
    _, problems = form("2028-06", {(VIAL, "L1"): date(2028, 5, 31)})
    assert [p.message for p in problems] == [
        "lot L1 is on record with expiry 2028-05-31, not 2028-06 → 2028-06-30: check the label"
    ]
    receipt, problems = form("05/2028", {(VIAL, "L1"): date(2028, 5, 31)})
    assert problems == [] and receipt is not None  # the same lot, the same day


def test_a_csv_row_takes_a_month_and_refuses_a_day_month_guess():
    text = (
        "product,lot_number,expiry,containers\n"
        f"{VIAL},M1,2028-02,3\n"
        f"{VIAL},M2,03/2028,1\n"
        f"{VIAL},M2,2028-03-31,1\n"  # the same lot and day, written as a day
    )
    receipts = check_receipts(read_rows(text, STOCK_COLUMNS, "stock"), VOLUMES, {}, TODAY)
    assert [(r.lot_number, r.expiry) for r in receipts] == [
        ("M1", date(2028, 2, 29)),
        ("M2", date(2028, 3, 31)),
        ("M2", date(2028, 3, 31)),
    ]
    bad = f"product,lot_number,expiry,containers\n{VIAL},M3,03/04/28,1\n"
    with pytest.raises(ImportRefused) as refused:
        check_receipts(read_rows(bad, STOCK_COLUMNS, "stock"), VOLUMES, {}, TODAY)
    (problem,) = refused.value.problems
    assert (problem.row, problem.column) == (2, "expiry")
    assert "day and month are written in either order" in problem.message
