"""The clock going backwards (an injected clock): expiry and beyond-use decisions follow the
clock they are given, and a clock that reads earlier than the newest audit row refuses every
write — with the two times in the message — until it is put right (see services/uow.py for why
refusing is the safe choice). Reading goes on.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mesomix.services.errors import ClockBehind
from mesomix.services.mixtures import DispenseRefused
from mesomix.services.uow import CLOCK_TOLERANCE
from tests.factories import PASSWORD, audit_rows, counts, lot_row, mixture, receive, snapshot

B12 = "cyanocobalamin_1000mcg_1ml_vial"
SALINE = "sodium_chloride_09_10ml_vial"
ONE_AMPOULE = mixture(("cyanocobalamin", "1000 mcg"))
MESOMIX = Path(__file__).resolve().parents[2] / "mesomix"


def test_a_lot_expiring_tomorrow_by_the_injected_clock_is_used_until_it_expires(clinic):
    lot = receive(clinic, B12, "TMRW01", 5, expires_in_days=1)
    result = clinic.mixtures.dispense(ONE_AMPOULE, "sam")
    assert result.at == clinic.clock.now()
    assert result.beyond_use.at == clinic.clock.now() + timedelta(hours=12)  # category 1, room

    clinic.clock.advance(timedelta(days=2))
    assert clinic.mixtures.check(ONE_AMPOULE, "sam").blocked
    with pytest.raises(DispenseRefused, match="not enough stock"):
        clinic.mixtures.dispense(ONE_AMPOULE, "sam")
    assert lot_row(clinic, lot).on_hand_ul == 4_000


def test_a_clock_set_back_refuses_writes_with_both_times_and_writes_nothing(clinic):
    lot = receive(clinic, B12, "BACK01", 5, expires_in_days=1)
    clinic.clock.advance(timedelta(days=2))  # the lot has expired ...
    receive(clinic, SALINE, "NS0001", 5)  # ... and the trail's newest row says so
    before, trail = snapshot(clinic), len(audit_rows(clinic))

    clinic.clock.advance(timedelta(days=-2))  # the clock jumps back: the lot looks usable again
    assert not clinic.mixtures.check(ONE_AMPOULE, "sam").blocked  # reading goes on
    expected = (
        "the clock reads 2026-11-24 09:00:00 UTC, earlier than the last audit row at "
        "2026-11-26 09:00:00 UTC: check the system time; nothing was written"
    )
    with pytest.raises(ClockBehind) as refused:
        clinic.mixtures.dispense(ONE_AMPOULE, "sam")  # so the expired lot is not dispensed
    assert str(refused.value) == expected
    with pytest.raises(ClockBehind, match="check the system time"):
        receive(clinic, B12, "BACK02", 5)
    with pytest.raises(ClockBehind, match="check the system time"):
        clinic.accounts.sign_in("nadia", PASSWORD)  # a sign-in is audited: refused too
    assert snapshot(clinic) == before and len(audit_rows(clinic)) == trail
    assert [line.lot_number for line in clinic.stock.lots("nadia")] == ["BACK01", "NS0001"]

    clinic.clock.advance(timedelta(days=2, minutes=1))  # the time is put right
    with pytest.raises(DispenseRefused, match="not enough stock"):
        clinic.mixtures.dispense(ONE_AMPOULE, "sam")  # the expiry decision uses the right time
    assert lot_row(clinic, lot).on_hand_ul == 5_000
    clinic.accounts.sign_in("nadia", PASSWORD)


def test_a_step_back_within_the_tolerance_is_accepted(clinic):
    receive(clinic, B12, "STEP01", 5)
    clinic.clock.advance(-CLOCK_TOLERANCE + timedelta(seconds=1))
    clinic.mixtures.dispense(ONE_AMPOULE, "sam")
    assert counts(clinic)["batches"] == 1


def test_the_message_reads_in_the_clinics_time_zone(clinic):
    from zoneinfo import ZoneInfo

    clinic.clock.zone = ZoneInfo("Europe/Paris")
    receive(clinic, B12, "ZONE01", 5)
    clinic.clock.current = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with pytest.raises(ClockBehind, match=r"reads 2026-11-23 10:00:00 CET, .* at 2026-11-24 10:00"):
        clinic.mixtures.dispense(ONE_AMPOULE, "sam")


def test_every_now_and_today_come_from_the_injected_clock():
    """No code but clock.py reads the wall clock, so every decision uses the clock it is given."""
    wall_clock = re.compile(r"\b(datetime\.(now|today|utcnow)|date\.today)\(")
    readers = [
        f"{path.relative_to(MESOMIX.parent)}:{number}"
        for path in sorted(MESOMIX.rglob("*.py"))
        if path.name != "clock.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if wall_clock.search(line)
    ]
    assert readers == []
