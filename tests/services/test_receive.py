"""Receiving stock (the minimum the foundation needs; the inventory issue builds on it)."""

from datetime import timedelta

import pytest

from mesomix.services.errors import NotFound, PermissionDenied, ServiceError
from tests.factories import assert_ledger_exact, counts, lot_row, receive


def test_receive_and_receive_again_into_the_same_lot(clinic):
    lot = receive(clinic, "lidocaine_2pct_2ml_amp", "A1", 10)
    again = receive(clinic, "lidocaine_2pct_2ml_amp", "A1", 5)
    assert lot == again and lot_row(clinic, lot).on_hand_ul == 30_000
    assert_ledger_exact(clinic)


@pytest.mark.parametrize(
    ("kwargs", "error", "says"),
    [
        ({"product_code": "no_such"}, NotFound, "unknown product 'no_such'"),
        ({"expiry_days": -1}, ServiceError, "expired on"),
        ({"containers": 0}, ServiceError, "whole number"),
        ({"containers": -3}, ServiceError, "whole number"),
        ({"lot_number": "  "}, ServiceError, "lot number"),
        ({"lot_number": "A\x00B"}, ServiceError, "lot number"),
        ({"user": "sam"}, PermissionDenied, "may not receive stock"),
    ],
)
def test_bad_receipts_are_refused_and_write_nothing(clinic, kwargs, error, says):
    values = {
        "user": "nadia",
        "product_code": "lidocaine_2pct_2ml_amp",
        "lot_number": "A1",
        "expiry_days": 100,
        "containers": 5,
    }
    values.update(kwargs)
    before = counts(clinic)
    with pytest.raises(error, match=says):
        clinic.stock.receive(
            values["user"],
            values["product_code"],
            values["lot_number"],
            clinic.clock.now().date() + timedelta(days=values["expiry_days"]),
            values["containers"],
        )
    assert counts(clinic) == before


def test_same_lot_with_another_expiry_is_refused(clinic):
    receive(clinic, "lidocaine_2pct_2ml_amp", "A1", 10, expires_in_days=100)
    with pytest.raises(ServiceError, match="check the label"):
        receive(clinic, "lidocaine_2pct_2ml_amp", "A1", 10, expires_in_days=200)
