"""When a course's sessions fall due, and whether a booked date keeps its minimum gap.

A step is one session: its offset from the session before (the planned spacing) and the least
gap a practitioner accepts without signing an override. Offsets are kept as a gap from the
previous session, not from the first, because a late session moves the ones after it: a hair
course booked weekly stays weekly after a missed week.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later, or the month's last day (31 Jan + 1 = 28/29 Feb):
    a label's "at least 1 month apart" is a calendar month, never a fixed 28 or 30 days."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Gap:
    """A span between sessions in weeks, days or calendar months (one of them, or days and
    months added)."""

    days: int = 0
    months: int = 0

    def __post_init__(self) -> None:
        if self.days < 0 or self.months < 0:
            raise ValueError("a gap between sessions is never negative")

    def after(self, day: date) -> date:
        return add_months(day, self.months) + timedelta(days=self.days)

    @property
    def said(self) -> str:
        parts: list[str] = []
        if self.months:
            parts.append(f"{self.months} month{'s' if self.months != 1 else ''}")
        if self.days and self.days % 7 == 0:
            weeks = self.days // 7
            parts.append(f"{weeks} week{'s' if weeks != 1 else ''}")
        elif self.days:
            parts.append(f"{self.days} day{'s' if self.days != 1 else ''}")
        return " and ".join(parts) or "no gap"


@dataclass(frozen=True)
class Step:
    """One session of the plan: `spacing` after the session before (the first: after the start),
    never sooner than `least` after it without a practitioner's override."""

    spacing: Gap
    least: Gap
    maintenance: bool = False


@dataclass(frozen=True)
class Schedule:
    steps: tuple[Step, ...]

    @classmethod
    def blocks(
        cls, *blocks: tuple[int, Gap, Gap], maintenance: Sequence[tuple[int, Gap, Gap]] = ()
    ) -> Schedule:
        """A schedule from blocks of (sessions, spacing, least gap), as a practitioner says it:
        "8 weekly (at least 5 days), then 2 every 2 weeks, then 1 after 4 weeks"."""
        steps: list[Step] = []
        for kept, group in ((False, blocks), (True, maintenance)):
            for count, spacing, least in group:
                if count < 1:
                    raise ValueError("a block of a schedule has at least one session")
                steps.extend(Step(spacing, least, kept) for _ in range(count))
        if not steps:
            raise ValueError("a course has at least one session")
        steps[0] = Step(Gap(), Gap(), steps[0].maintenance)  # the first is due at the start
        return cls(tuple(steps))

    def due(self, start: date, held: Sequence[date] = ()) -> list[date]:
        """Each session's due date: those held on the days they were held, the rest planned
        from the last one held, each `spacing` after the one before."""
        if len(held) > len(self.steps):
            raise ValueError(f"{len(held)} sessions held but the course has {len(self.steps)}")
        dates = list(held)
        previous = dates[-1] if dates else None
        for step in self.steps[len(dates) :]:
            previous = start if previous is None else step.spacing.after(previous)
            dates.append(previous)
        return dates

    def too_soon(self, number: int, previous: date | None, booked: date) -> str:
        """Why session `number` (1-based) may not be booked on `booked`, the session before it
        held or booked on `previous`; "" when it keeps its least gap."""
        if not 1 <= number <= len(self.steps):
            raise ValueError(f"session {number}: the course has sessions 1 to {len(self.steps)}")
        if previous is None:
            return ""
        step = self.steps[number - 1]
        earliest = step.least.after(previous)
        if booked >= earliest:
            return ""
        return (
            f"session {number} on {booked:%Y-%m-%d} is {(booked - previous).days} days after "
            f"session {number - 1} ({previous:%Y-%m-%d}): at least {step.least.said} apart, "
            f"so not before {earliest:%Y-%m-%d} (a practitioner may override with a reason)"
        )
