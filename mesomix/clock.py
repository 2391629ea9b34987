"""The one source of 'now': timezone-aware UTC, injectable so tests control time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    @property
    def zone(self) -> tzinfo:
        """The clinic's time zone: for its calendar and for showing times."""
        ...

    def today(self) -> date:
        """The clinic's calendar date: what expiry dates are compared with."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return datetime.now().astimezone().date()

    @property
    def zone(self) -> tzinfo:
        return datetime.now().astimezone().tzinfo or UTC


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
