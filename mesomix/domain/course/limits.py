"""Limits that count across a course's sessions, as a label sets them for one substance.

Deoxycholic acid given alone (Kybella's label) is the case these were written for: at most 6
treatments, at least 1 month apart; the amount per treatment is a dose limit per session
(domain/dose.py). A limit may also cap the amount over the course or over a rolling period.
Each is a function of the patient's history and the session planned; a finding names every
session it counted, so the practitioner who signs an override sees what they sign.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from mesomix.domain.course.schedule import Gap
from mesomix.domain.findings import Finding, Severity


@dataclass(frozen=True)
class CourseLimit:
    """What a label allows of one substance across sessions; None where it sets nothing."""

    substance: str
    name: str  # as a person reads it: "deoxycholic acid"
    unit: str  # the unit of amounts handed in ("mg", "IU")
    source: str
    max_sessions: int | None = None
    least_interval: Gap | None = None
    max_amount: Decimal | None = None  # in `unit`, over `window_days` or the whole course
    window_days: int | None = None

    def __post_init__(self) -> None:
        if not self.source.strip():
            raise ValueError(f"{self.substance}: a course limit carries its source")
        if self.max_sessions is not None and self.max_sessions < 1:
            raise ValueError(f"{self.substance}: at most {self.max_sessions} sessions allows none")
        if self.max_amount is not None and not self.max_amount > 0:
            raise ValueError(f"{self.substance}: a cumulative maximum is above zero")
        if self.window_days is not None and (self.window_days < 1 or self.max_amount is None):
            raise ValueError(f"{self.substance}: a rolling period needs a maximum and a length")


@dataclass(frozen=True)
class GivenSession:
    """A session of the course as held (or the one planned): its number, its day, and the amount
    of each substance in its mixtures (in each limit's unit)."""

    number: int
    day: date
    amounts: Mapping[str, Decimal]
    label: str = ""  # how a finding names it where "session N" would not do ("batch 12")

    @property
    def said(self) -> str:
        return self.label or f"session {self.number}"


def check_course(
    limits: Sequence[CourseLimit], history: Sequence[GivenSession], planned: GivenSession
) -> list[Finding]:
    """Every limit the planned session would break, as overridable BLOCKs naming the sessions
    counted. Sessions held after the planned day count for the interval (a session may be
    booked between two held ones) but not for the totals, which run up to the planned day."""
    findings: list[Finding] = []
    for limit in limits:
        planned_amount = planned.amounts.get(limit.substance)
        if planned_amount is None:
            continue
        given = sorted(
            (s for s in history if limit.substance in s.amounts and s.number != planned.number),
            key=lambda s: (s.day, s.number),
        )
        for found in (
            _count(limit, given, planned),
            _interval(limit, given, planned),
            _amount(limit, given, planned, planned_amount),
        ):
            if found:
                findings.append(found)
    return findings


def _block(limit: CourseLimit, code: str, message: str) -> Finding:
    return Finding(
        Severity.BLOCK,
        code,
        f"{message} [{limit.source}]",
        overridable=True,
        subject=limit.substance,
    )


def _sessions(given: Sequence[GivenSession]) -> str:
    return ", ".join(f"{s.said} ({s.day:%Y-%m-%d})" for s in given)


def _count(
    limit: CourseLimit, given: Sequence[GivenSession], planned: GivenSession
) -> Finding | None:
    if limit.max_sessions is None:
        return None
    before = [s for s in given if s.day <= planned.day]
    if len(before) < limit.max_sessions:
        return None
    return _block(
        limit,
        "course.max_sessions",
        f"{limit.name}: {planned.said} would be treatment {len(before) + 1}; "
        f"at most {limit.max_sessions} — counted {_sessions(before)}",
    )


def _interval(
    limit: CourseLimit, given: Sequence[GivenSession], planned: GivenSession
) -> Finding | None:
    gap = limit.least_interval
    if gap is None:
        return None
    near = [s for s in given if gap.after(min(s.day, planned.day)) > max(s.day, planned.day)]
    if not near:
        return None
    return _block(
        limit,
        "course.min_interval",
        f"{limit.name}: {planned.said} on {planned.day:%Y-%m-%d} is less than "
        f"{gap.said} from {_sessions(near)}",
    )


def _amount(
    limit: CourseLimit, given: Sequence[GivenSession], planned: GivenSession, amount: Decimal
) -> Finding | None:
    if limit.max_amount is None:
        return None
    if limit.window_days is None:
        counted = [s for s in given if s.day <= planned.day]
        period = "over the course"
    else:
        opens = planned.day - timedelta(days=limit.window_days - 1)
        counted = [s for s in given if opens <= s.day <= planned.day]
        period = f"in {limit.window_days} days"
    total = sum((s.amounts[limit.substance] for s in counted), amount)
    if total <= limit.max_amount:
        return None
    earlier = f" with {_sessions(counted)}" if counted else ""
    return _block(
        limit,
        "course.max_amount",
        f"{limit.name}: {_plain(total)} {limit.unit} {period}{earlier} and {planned.said} "
        f"({_plain(amount)} {limit.unit}); at most {_plain(limit.max_amount)} "
        f"{limit.unit}",
    )


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"
