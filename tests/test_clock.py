"""Time: UTC in storage, the clinic's own zone (with its daylight-saving changes) for dates."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from mesomix.clock import SystemClock, local_zone


def test_the_clinic_zone_is_a_real_zone(monkeypatch):
    monkeypatch.setenv("MESOMIX_TIMEZONE", "Europe/Paris")
    assert local_zone() == ZoneInfo("Europe/Paris")
    assert SystemClock().zone == ZoneInfo("Europe/Paris")


def test_an_unknown_zone_name_falls_back_rather_than_failing(monkeypatch):
    monkeypatch.setenv("MESOMIX_TIMEZONE", "Mars/Olympus_Mons")
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert local_zone() == ZoneInfo("Asia/Tokyo")


def test_system_clock_is_aware_utc():
    now = SystemClock().now()
    assert now.tzinfo is UTC and abs((datetime.now(UTC) - now).total_seconds()) < 5
