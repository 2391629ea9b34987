"""A delivery whose box prints its expiry as a month is received to that month's last day, by the
Inventory form's rules and by the CSV import alike; a month gone by is refused, this one is not."""

from __future__ import annotations

from datetime import date

import pytest

from mesomix.services.errors import ServiceError
from tests.factories import audit_rows, lot_row, snapshot

VIAL = "lidocaine_2pct_2ml_amp"  # the clinic's clock reads 2026-11-24


def cells(expiry: str, lot: str = "M-1") -> dict[str, str]:
    return {
        "product": VIAL,
        "lot_number": lot,
        "expiry": expiry,
        "containers": "2",
        "supplier": "",
        "unit_cost": "",
    }


@pytest.mark.parametrize(
    ("typed", "day"),
    [("2028-05", date(2028, 5, 31)), ("05/2028", date(2028, 5, 31)), ("2/2028", date(2028, 2, 29))],
)
def test_a_month_is_received_to_its_last_day(clinic, typed, day):
    receipt, problems = clinic.stock.check_receipt(cells(typed))
    assert problems == [] and receipt is not None
    assert receipt.expiry_read == f"{typed} → {day.isoformat()}"  # what the form can show
    done = clinic.stock.receive_typed("nadia", cells(typed))
    assert lot_row(clinic, done.lot_id).expiry == day
    (received,) = [row for row in audit_rows(clinic) if row.action == "stock.receive"]
    assert received.new["expiry"] == day.isoformat()


def test_the_same_lot_by_its_month_or_its_last_day_is_one_lot(clinic):
    first = clinic.stock.receive_typed("nadia", cells("2028-05"))
    again = clinic.stock.receive_typed("nadia", cells("2028-05-31"))
    assert first.lot_id == again.lot_id and lot_row(clinic, first.lot_id).on_hand_ul == 4 * 2000
    with pytest.raises(
        ServiceError, match="on record with expiry 2028-05-31, not 2028-06 → 2028-06-30"
    ):
        clinic.stock.receive_typed("nadia", cells("2028-06"))


def test_this_month_is_received_and_last_month_is_refused(clinic):
    done = clinic.stock.receive_typed("nadia", cells("11/2026"))
    assert lot_row(clinic, done.lot_id).expiry == date(2026, 11, 30)
    before = snapshot(clinic)
    with pytest.raises(ServiceError, match=r"expired at the end of 2026-10 \(2026-10-31\)"):
        clinic.stock.receive_typed("nadia", cells("2026-10", lot="M-2"))
    assert snapshot(clinic) == before


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("05/06/28", "day and month are written in either order"),
        ("05/28", "a year in two digits can be misread"),
        ("13/2028", "not a month of the calendar"),
    ],
)
def test_an_expiry_that_reads_two_ways_is_refused_and_writes_nothing(clinic, typed, says):
    before = snapshot(clinic)
    with pytest.raises(ServiceError, match=says):
        clinic.stock.receive_typed("nadia", cells(typed))
    assert snapshot(clinic) == before


def test_a_csv_import_reads_a_month_as_its_last_day(clinic):
    text = f"product,lot_number,expiry,containers\n{VIAL},CSV-1,2028-02,3\n{VIAL},CSV-2,04/2028,1\n"
    assert clinic.imports.stock("nadia", text).written == 2
    expiries = {line.lot_number: line.expiry for line in clinic.stock.lots("nadia")}
    assert expiries == {"CSV-1": date(2028, 2, 29), "CSV-2": date(2028, 4, 30)}
