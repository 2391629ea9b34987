"""When a course's sessions fall due, and whether a booked date keeps its minimum gap.

A step is one session: its offset from the session before (the planned spacing) and the least
gap a practitioner accepts without signing an override. Offsets are kept as a gap from the
previous session, not from the first, because a late session moves the ones after it: a hair
course booked weekly stays weekly after a missed week.
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from mesomix.errors import Refused

# A course longer than this is a typing slip ("80 x 1 week" for 8), not a plan.
MAX_SESSIONS = 60
_GAP_PART = re.compile(r"(\d+)\s*(days|day|d|weeks|week|wk|w|months|month|mo)\b")
_DAYS_IN = {"day": 1, "days": 1, "d": 1, "week": 7, "weeks": 7, "wk": 7, "w": 7}
_BLOCK = re.compile(
    r"^(\d+)\s*[x×]\s*(.+?)(?:\s*\(\s*(?:min|at least|>=|≥)\s*(.+?)\s*\))?$", re.IGNORECASE
)


class CourseError(Refused, ValueError):
    """A course, schedule, booking or consent refused: the message says what to change."""


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
            raise CourseError("a gap between sessions is never negative")

    @classmethod
    def parse(cls, text: str) -> Gap:
        """ "1 month", "2 weeks", "10 days", "1 month and 2 weeks" (also 2w, 10d, 1mo): months
        are calendar months, weeks seven days."""
        rest = text.strip().lower().replace(" and ", " ").replace(",", " ")
        if not rest:
            raise CourseError("a gap between sessions is missing: say e.g. 2 weeks")
        if rest == "no gap":
            return cls()
        days = months = 0
        position = 0
        for match in _GAP_PART.finditer(rest):
            if rest[position : match.start()].strip():
                break
            number, word = int(match.group(1)), match.group(2)
            if word in ("month", "months", "mo"):
                months += number
            else:
                days += number * _DAYS_IN[word]
            position = match.end()
        if position == 0 or rest[position:].strip():
            raise CourseError(
                f"'{text.strip()}' is not a gap between sessions: say days, weeks or months, "
                "e.g. 10 days, 2 weeks, 1 month"
            )
        if days > 366 or months > 12:
            raise CourseError(f"'{text.strip()}' between two sessions is over a year")
        return cls(days=days, months=months)

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
class Block:
    """Sessions planned alike: `sessions` of them, each `spacing` after the one before and never
    sooner than `least` after it."""

    sessions: int
    spacing: Gap
    least: Gap
    maintenance: bool = False

    @property
    def said(self) -> str:
        return f"{self.sessions} x {self.spacing.said} (min {self.least.said})"


@dataclass(frozen=True)
class Schedule:
    steps: tuple[Step, ...]
    parts: tuple[Block, ...] = ()  # as planned, for saying and storing it

    @classmethod
    @functools.lru_cache(maxsize=1024)  # a clinic's courses share a few schedules, read often
    def parse(cls, text: str) -> Schedule:
        """A schedule as a practitioner types it: blocks "N x SPACING (min LEAST)" separated by
        commas, then after ";" the maintenance sessions the same way:
        "8 x 1 week (min 5 days), 2 x 2 weeks (min 10 days); 1 x 3 months (min 2 months)".
        A block without a minimum keeps its spacing as the minimum: the cautious reading."""
        main, _, kept = text.partition(";")
        kept = re.sub(r"^\s*maintenance:?\s*", "", kept, flags=re.IGNORECASE)
        groups = [
            [cls._block(part) for part in half.split(",") if part.strip()] for half in (main, kept)
        ]
        if not groups[0]:
            raise CourseError("a schedule needs at least one block, e.g. 4 x 3 weeks (min 2 weeks)")
        return cls.blocks(*groups[0], maintenance=groups[1])

    @staticmethod
    def _block(text: str) -> tuple[int, Gap, Gap]:
        match = _BLOCK.match(text.strip())
        if not match:
            raise CourseError(
                f"'{text.strip()}' is not a block of sessions: say how many, x, and how far "
                "apart, e.g. 8 x 1 week (min 5 days)"
            )
        count = int(match.group(1))
        spacing = Gap.parse(match.group(2))
        if spacing == Gap():
            raise CourseError(f"'{text.strip()}': sessions no time apart are one session")
        least = Gap.parse(match.group(3)) if match.group(3) else spacing
        if least.after(date(2001, 1, 1)) > spacing.after(date(2001, 1, 1)):
            raise CourseError(
                f"'{text.strip()}': the minimum gap ({least.said}) is longer than the spacing "
                f"({spacing.said})"
            )
        return count, spacing, least

    @property
    def said(self) -> str:
        """The schedule in the words `parse` reads back."""
        main = ", ".join(b.said for b in self.parts if not b.maintenance)
        kept = ", ".join(b.said for b in self.parts if b.maintenance)
        return f"{main}; maintenance {kept}" if kept else main

    @classmethod
    def blocks(
        cls, *blocks: tuple[int, Gap, Gap], maintenance: Sequence[tuple[int, Gap, Gap]] = ()
    ) -> Schedule:
        """A schedule from blocks of (sessions, spacing, least gap), as a practitioner says it:
        "8 weekly (at least 5 days), then 2 every 2 weeks, then 1 after 4 weeks"."""
        steps: list[Step] = []
        parts: list[Block] = []
        for kept, group in ((False, blocks), (True, maintenance)):
            for count, spacing, least in group:
                if count < 1:
                    raise CourseError("a block of a schedule has at least one session")
                parts.append(Block(count, spacing, least, kept))
                steps.extend(Step(spacing, least, kept) for _ in range(count))
        if not steps:
            raise CourseError("a course has at least one session")
        if len(steps) > MAX_SESSIONS:
            raise CourseError(
                f"{len(steps)} sessions: a course has at most {MAX_SESSIONS}; plan a new course "
                "for more"
            )
        steps[0] = Step(Gap(), Gap(), steps[0].maintenance)  # the first is due at the start
        return cls(tuple(steps), tuple(parts))

    def due(self, start: date, held: Sequence[date] = ()) -> list[date]:
        """Each session's due date: those held on the days they were held, the rest planned
        from the last one held, each `spacing` after the one before."""
        if len(held) > len(self.steps):
            raise CourseError(f"{len(held)} sessions held but the course has {len(self.steps)}")
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
            raise CourseError(f"session {number}: the course has sessions 1 to {len(self.steps)}")
        if previous is None:
            return ""
        step = self.steps[number - 1]
        earliest = step.least.after(previous)
        if booked >= earliest:
            return ""
        return (
            f"session {number} on {booked:%Y-%m-%d} is {_days(booked - previous)} after "
            f"session {number - 1} ({previous:%Y-%m-%d}): at least {step.least.said} apart, "
            f"so not before {earliest:%Y-%m-%d} (a practitioner may override with a reason)"
        )


def _days(span: timedelta) -> str:
    return f"{span.days} day{'s' if span.days != 1 else ''}"
