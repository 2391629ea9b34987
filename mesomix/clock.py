"""The one source of 'now': timezone-aware UTC, injectable so tests control time."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class Clock(Protocol):
    def now(self) -> datetime: ...

    @property
    def zone(self) -> tzinfo:
        """The clinic's time zone: for its calendar and for showing times."""
        ...

    def today(self) -> date:
        """The clinic's calendar date: what expiry dates are compared with."""
        ...


def local_zone() -> tzinfo:
    """The clinic's time zone as a real IANA zone, so daylight-saving changes are honoured:
    MESOMIX_TIMEZONE, else TZ, else the system's zone; a fixed offset only as a last resort."""
    for name in (os.environ.get("MESOMIX_TIMEZONE", ""), os.environ.get("TZ", "").lstrip(":")):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    try:
        target = str(Path("/etc/localtime").readlink())
        if "zoneinfo/" in target:
            return ZoneInfo(target.split("zoneinfo/", 1)[1])
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    return datetime.now().astimezone().tzinfo or UTC


def day_start(day: date, zone: tzinfo) -> datetime:
    """The first instant of a day of the clinic's calendar, in UTC (local midnight)."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


class SystemClock:
    def __init__(self) -> None:
        self._zone = local_zone()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return datetime.now(self._zone).date()

    @property
    def zone(self) -> tzinfo:
        return self._zone


@dataclass
class FixedClock:
    """A clock that only moves when told to: for tests and for back-dated demo history."""

    current: datetime = field(default_factory=lambda: datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    zone: tzinfo = UTC  # the clinic's time zone, for its calendar date

    def now(self) -> datetime:
        return self.current

    def today(self) -> date:
        return self.current.astimezone(self.zone).date()

    def advance(self, delta: timedelta) -> None:
        self.current += delta
