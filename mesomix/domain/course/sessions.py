"""Where a course stands today: each session held, booked, due, late or missed, in words.

A session is late once its due date has passed unheld, and missed once it is so late that the
next one would be due: the practitioner decides whether the course goes on as planned (the
next sessions follow from the last one held) or changes. Nothing here reads a clock: the
caller hands in today, in the clinic's time zone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum

from mesomix.domain.course.schedule import Schedule


class Standing(Enum):
    HELD = "held"
    BOOKED = "booked"
    DUE = "due"  # today, or later and not yet booked
    LATE = "late"  # its day has passed, not held
    MISSED = "missed"  # so late that the session after it would be due


@dataclass(frozen=True)
class SessionLine:
    number: int
    due: date
    standing: Standing
    day: date | None  # held or booked on
    maintenance: bool

    def said(self, total: int) -> str:
        """ "session 3 of 11, due 2026-01-19: late by 4 days", as a list shows it."""
        head = f"session {self.number} of {total}"
        if self.standing is Standing.HELD:
            return f"{head}: held {self.day:%Y-%m-%d}"
        if self.standing is Standing.BOOKED:
            return f"{head}: booked {self.day:%Y-%m-%d} (due {self.due:%Y-%m-%d})"
        return f"{head}, due {self.due:%Y-%m-%d}: {self.standing.value}"


def standing(
    schedule: Schedule,
    start: date,
    held: Sequence[date],
    booked: Mapping[int, date],
    today: date,
) -> list[SessionLine]:
    """Each session's line: those held in order; each after them due `spacing` after the one
    before, as booked or, where the one before is overdue, as if held today (a course goes on
    from where the patient is: one late session does not make every later one late too). A
    session booked for a day now past and not held is overdue as an unbooked one is. A session
    booked earlier than its least gap is the booking's own refusal (too_soon)."""
    if len(held) > len(schedule.steps):
        raise ValueError(f"{len(held)} sessions held but the course has {len(schedule.steps)}")
    lines: list[SessionLine] = []
    previous: date | None = None
    for index, step in enumerate(schedule.steps):
        number = index + 1
        due = start if previous is None else step.spacing.after(previous)
        if index < len(held):
            lines.append(SessionLine(number, due, Standing.HELD, held[index], step.maintenance))
            previous = held[index]
            continue
        day = booked.get(number)
        if day is not None and day >= today:
            state, previous = Standing.BOOKED, day
        elif day is None and due >= today:
            state, previous = Standing.DUE, due
        else:  # overdue: its day (or the day it was booked for) passed, and it was not held
            overdue = day or due
            following = schedule.steps[index + 1] if index + 1 < len(schedule.steps) else None
            missed = following is not None and following.spacing.after(overdue) <= today
            state, previous = (Standing.MISSED if missed else Standing.LATE), today
        lines.append(SessionLine(number, due, state, day, step.maintenance))
    return lines
