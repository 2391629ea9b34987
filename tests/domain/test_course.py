"""Courses, pure: the schedule's dates and gaps, and the limits across sessions, checked against
an oracle written differently (hypothesis over random histories) and on the label's own case."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mesomix.domain.course import (
    CourseError,
    CourseLimit,
    Gap,
    GivenSession,
    Schedule,
    Standing,
    add_months,
    check_course,
    standing,
)
from mesomix.domain.findings import Severity

KYBELLA = CourseLimit(
    substance="deoxycholic_acid",
    name="deoxycholic acid",
    unit="mg",
    source="Kybella label 2.1",
    max_sessions=6,
    least_interval=Gap(months=1),
)
START = date(2026, 1, 5)
days = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))
amounts = st.decimals(min_value=Decimal("0.1"), max_value=Decimal("100"), places=1)


def session(number: int, day: date, mg: Decimal | int = 100) -> GivenSession:
    return GivenSession(number, day, {"deoxycholic_acid": Decimal(mg)})


def codes(
    limits: list[CourseLimit], history: list[GivenSession], planned: GivenSession
) -> set[str]:
    return {f.code for f in check_course(limits, history, planned)}


# --- the label's own case -----------------------------------------------------------------


def test_six_monthly_treatments_pass_and_the_seventh_is_blocked_naming_all_six() -> None:
    history = [session(n, add_months(START, n - 1)) for n in range(1, 7)]
    for n in range(1, 7):
        assert check_course([KYBELLA], history[: n - 1], history[n - 1]) == []
    seventh = session(7, add_months(START, 6))
    [finding] = check_course([KYBELLA], history, seventh)
    assert finding.severity is Severity.BLOCK and finding.overridable
    assert finding.code == "course.max_sessions"
    assert "treatment 7; at most 6" in finding.message
    for n in range(1, 7):
        assert f"session {n} ({add_months(START, n - 1):%Y-%m-%d})" in finding.message
    assert "Kybella label 2.1" in finding.message


def test_a_treatment_a_day_short_of_a_calendar_month_is_blocked_and_a_month_is_not() -> None:
    first = session(1, date(2026, 1, 31))
    # One calendar month after 31 January is 28 February (2026 is not a leap year).
    assert check_course([KYBELLA], [first], session(2, date(2026, 2, 28))) == []
    [finding] = check_course([KYBELLA], [first], session(2, date(2026, 2, 27)))
    assert finding.code == "course.min_interval"
    assert "less than 1 month from session 1 (2026-01-31)" in finding.message


def test_a_session_booked_between_two_held_ones_is_measured_against_both() -> None:
    history = [session(1, date(2026, 3, 1)), session(3, date(2026, 5, 1))]
    [finding] = check_course([KYBELLA], history, session(2, date(2026, 4, 15)))
    assert "session 3 (2026-05-01)" in finding.message
    assert "session 1" not in finding.message


def test_a_mixture_without_the_substance_meets_none_of_its_limits() -> None:
    history = [session(n, START + timedelta(days=n)) for n in range(1, 10)]
    planned = GivenSession(10, START + timedelta(days=10), {"biotin": Decimal(10)})
    assert check_course([KYBELLA], history, planned) == []


def test_a_cumulative_amount_in_a_rolling_period_counts_only_the_sessions_inside_it() -> None:
    limit = CourseLimit(
        "deoxycholic_acid",
        "deoxycholic acid",
        "mg",
        "test",
        max_amount=Decimal(250),
        window_days=30,
    )
    history = [session(1, date(2026, 1, 1)), session(2, date(2026, 1, 20))]
    # 1 January is outside the 30 days ending 31 January; 20 January is inside.
    assert check_course([limit], history, session(3, date(2026, 1, 31), 150)) == []
    [finding] = check_course([limit], history, session(3, date(2026, 1, 30), 60))
    assert finding.code == "course.max_amount"
    assert (
        "260 mg in 30 days with session 1 (2026-01-01), session 2 (2026-01-20)" in finding.message
    )


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"source": " "}, "source"),
        ({"max_sessions": 0}, "allows none"),
        ({"max_amount": Decimal(0)}, "above zero"),
        ({"window_days": 30}, "rolling period"),
        ({"max_amount": Decimal(5), "window_days": 0}, "rolling period"),
    ],
)
def test_a_limit_that_could_not_be_meant_is_refused_with_words(
    fields: dict[str, object], words: str
) -> None:
    values: dict[str, object] = {
        "substance": "x",
        "name": "x",
        "unit": "mg",
        "source": "label",
        **fields,
    }
    with pytest.raises(ValueError, match=words):
        CourseLimit(**values)  # type: ignore[arg-type]  # hostile values on purpose


# --- the schedule --------------------------------------------------------------------------

HAIR = Schedule.blocks(
    (8, Gap(days=7), Gap(days=5)), (2, Gap(days=14), Gap(days=10)), (1, Gap(days=28), Gap(days=21))
)


def test_a_hair_course_falls_due_weekly_then_spreads_out() -> None:
    due = HAIR.due(START)
    assert len(due) == 11 and due[0] == START
    gaps = [(b - a).days for a, b in pairwise(due)]
    assert gaps == [7] * 7 + [14, 14, 28]


def test_a_late_session_moves_the_ones_after_it() -> None:
    held = [START, START + timedelta(days=7), START + timedelta(days=21)]  # a week missed
    due = HAIR.due(START, held)
    assert due[:3] == held and due[3] == START + timedelta(days=28)


def test_a_session_booked_before_its_least_gap_is_refused_in_words() -> None:
    said = HAIR.too_soon(9, START, START + timedelta(days=9))
    assert "session 9 on 2026-01-14 is 9 days after session 8 (2026-01-05)" in said
    assert "at least 10 days apart, so not before 2026-01-15" in said
    assert HAIR.too_soon(9, START, START + timedelta(days=10)) == ""
    assert HAIR.too_soon(1, None, START) == ""
    with pytest.raises(ValueError, match="sessions 1 to 11"):
        HAIR.too_soon(12, START, START)


def test_a_schedule_without_sessions_or_with_a_negative_gap_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="at least one session"):
        Schedule.blocks()
    with pytest.raises(ValueError, match="at least one session"):
        Schedule.blocks((0, Gap(days=7), Gap(days=7)))
    with pytest.raises(ValueError, match="never negative"):
        Gap(days=-1)


@given(day=days, months=st.integers(0, 36))
def test_a_calendar_month_later_is_the_same_day_or_the_months_last(day: date, months: int) -> None:
    later = add_months(day, months)
    assert (later.year - day.year) * 12 + later.month - day.month == months
    assert later.day == day.day or (later.day < day.day and (later + timedelta(days=1)).day == 1)


@given(
    start=days,
    blocks=st.lists(st.tuples(st.integers(1, 6), st.integers(0, 40)), min_size=1, max_size=4),
    held=st.integers(0, 5),
)
def test_due_dates_keep_what_was_held_and_space_the_rest(
    start: date, blocks: list[tuple[int, int]], held: int
) -> None:
    schedule = Schedule.blocks(*((n, Gap(days=d), Gap(days=d)) for n, d in blocks))
    planned = schedule.due(start)
    kept = planned[: min(held, len(planned))]
    due = schedule.due(start, kept)
    assert due == planned  # holding sessions on their due days changes nothing
    assert len(due) == len(schedule.steps) and due[0] == start
    for step, before, after in zip(schedule.steps[1:], due, due[1:], strict=False):
        assert after - before == timedelta(days=step.spacing.days)


@given(previous=days, booked=days, least=st.integers(0, 60))
def test_too_soon_says_something_exactly_when_the_least_gap_is_not_kept(
    previous: date, booked: date, least: int
) -> None:
    schedule = Schedule.blocks((1, Gap(), Gap()), (1, Gap(days=least), Gap(days=least)))
    assert bool(schedule.too_soon(2, previous, booked)) == ((booked - previous).days < least)


# --- the limits, against an oracle over random histories ----------------------------------

histories = st.lists(st.tuples(days, amounts), max_size=12)


@settings(max_examples=300)
@given(
    history=histories,
    planned_day=days,
    planned_mg=amounts,
    max_sessions=st.integers(1, 8),
    months=st.integers(0, 3),
    max_mg=st.none() | st.decimals(min_value=1, max_value=600, places=0),
    window=st.none() | st.integers(1, 120),
    shuffle=st.randoms(use_true_random=False),
)
def test_every_limit_blocks_exactly_when_the_history_says_it_should(
    history: list[tuple[date, Decimal]],
    planned_day: date,
    planned_mg: Decimal,
    max_sessions: int,
    months: int,
    max_mg: Decimal | None,
    window: int | None,
    shuffle: object,
) -> None:
    limit = CourseLimit(
        "deoxycholic_acid",
        "deoxycholic acid",
        "mg",
        "test",
        max_sessions=max_sessions,
        least_interval=Gap(months=months) if months else None,
        max_amount=max_mg,
        window_days=window if max_mg is not None else None,
    )
    given_sessions = [session(n, d, mg) for n, (d, mg) in enumerate(history, start=1)]
    planned = session(len(history) + 1, planned_day, planned_mg)
    found = {f.code: f for f in check_course([limit], given_sessions, planned)}

    up_to = [s for s in given_sessions if s.day <= planned_day]
    assert ("course.max_sessions" in found) == (len(up_to) >= max_sessions)

    def too_close(s: GivenSession) -> bool:
        first, last = sorted((s.day, planned_day))
        return months > 0 and last < add_months(first, months)

    assert ("course.min_interval" in found) == any(too_close(s) for s in given_sessions)

    if max_mg is None:
        assert "course.max_amount" not in found
    else:
        inside = [s for s in up_to if window is None or (planned_day - s.day).days < window]
        total = planned_mg + sum((s.amounts["deoxycholic_acid"] for s in inside), Decimal(0))
        assert ("course.max_amount" in found) == (total > max_mg)

    for finding in found.values():  # every finding names each session it counted
        assert finding.severity is Severity.BLOCK and finding.overridable
        assert f"session {planned.number}" in finding.message
    if "course.max_sessions" in found:
        for s in up_to:
            assert f"session {s.number} ({s.day:%Y-%m-%d})" in found["course.max_sessions"].message

    shuffled = list(given_sessions)
    shuffle.shuffle(shuffled)  # type: ignore[attr-defined]  # hypothesis's Random
    assert check_course([limit], shuffled, planned) == list(found.values())


# --- where a course stands ------------------------------------------------------------------


def test_a_late_session_is_late_and_the_course_goes_on_from_today() -> None:
    held = [START + timedelta(days=7 * n) for n in range(3)]  # sessions 1-3 on time
    today = START + timedelta(days=24)  # session 4 was due on day 21
    lines = standing(HAIR, START, held, {}, today)
    assert [line.standing.value for line in lines[:5]] == ["held"] * 3 + ["late", "due"]
    assert lines[3].due == START + timedelta(days=21)
    assert lines[4].due == today + timedelta(days=7)  # not every later session late too
    assert lines[3].said(11) == "session 4 of 11, due 2026-01-26: late"
    assert lines[0].said(11) == "session 1 of 11: held 2026-01-05"


def test_a_session_late_by_a_whole_spacing_is_missed() -> None:
    held = [START]
    assert standing(HAIR, START, held, {}, START + timedelta(days=13))[1].standing is Standing.LATE
    assert (
        standing(HAIR, START, held, {}, START + timedelta(days=14))[1].standing is Standing.MISSED
    )


def test_a_booking_is_kept_and_the_sessions_after_it_follow_from_it() -> None:
    booked_on = START + timedelta(days=9)
    lines = standing(HAIR, START, [START], {2: booked_on}, START + timedelta(days=8))
    assert (lines[1].standing, lines[1].day) == (Standing.BOOKED, booked_on)
    assert lines[1].said(11) == "session 2 of 11: booked 2026-01-14 (due 2026-01-12)"
    assert lines[2].due == booked_on + timedelta(days=7)
    past = standing(HAIR, START, [START], {2: booked_on}, booked_on + timedelta(days=1))
    assert (past[1].standing, past[1].day) == (Standing.LATE, booked_on)  # booked, not held


@given(
    blocks=st.lists(st.tuples(st.integers(1, 5), st.integers(0, 30)), min_size=1, max_size=4),
    held_gaps=st.lists(st.integers(0, 40), max_size=6),
    today_after=st.integers(-10, 400),
)
def test_without_bookings_at_most_one_session_is_overdue_and_none_after_it_is_past(
    blocks: list[tuple[int, int]], held_gaps: list[int], today_after: int
) -> None:
    schedule = Schedule.blocks(*((n, Gap(days=d), Gap(days=d)) for n, d in blocks))
    held: list[date] = []
    for gap in held_gaps[: len(schedule.steps)]:
        held.append((held[-1] if held else START) + timedelta(days=gap))
    today = START + timedelta(days=today_after)
    lines = standing(schedule, START, held, {}, today)
    assert len(lines) == len(schedule.steps)
    assert [line.standing for line in lines[: len(held)]] == [Standing.HELD] * len(held)
    overdue = [line for line in lines if line.standing in (Standing.LATE, Standing.MISSED)]
    assert len(overdue) <= 1
    if overdue:
        assert overdue[0].number == len(held) + 1 and overdue[0].due < today
    for line in lines[len(held) + len(overdue) :]:
        assert line.standing is Standing.DUE and line.due >= today


# --- a schedule as a practitioner types it -------------------------------------------------

gaps = st.builds(
    Gap,
    days=st.integers(min_value=0, max_value=120),
    months=st.integers(min_value=0, max_value=6),
).filter(lambda gap: gap != Gap())


@st.composite
def typed_blocks(draw: st.DrawFn) -> tuple[int, Gap, Gap]:
    spacing = draw(gaps)
    least = draw(st.sampled_from([spacing, Gap(days=spacing.days), Gap(months=spacing.months)]))
    if least.after(START) > spacing.after(START):
        least = spacing
    return draw(st.integers(min_value=1, max_value=5)), spacing, least


@settings(max_examples=200, deadline=None)
@given(st.lists(typed_blocks(), min_size=1, max_size=4), st.lists(typed_blocks(), max_size=2))
def test_a_schedule_said_reads_back_as_the_same_schedule(
    blocks: list[tuple[int, Gap, Gap]], maintenance: list[tuple[int, Gap, Gap]]
) -> None:
    schedule = Schedule.blocks(*blocks, maintenance=maintenance)
    assert Schedule.parse(schedule.said) == schedule


def test_the_hair_course_typed_as_a_practitioner_says_it() -> None:
    schedule = Schedule.parse(
        "8 x 1 week (min 5 days), 2 x 2 weeks (min 10 days), 1 x 4 weeks (min 3 weeks); "
        "maintenance 1 x 3 months (min 2 months)"
    )
    assert len(schedule.steps) == 12
    assert [s.maintenance for s in schedule.steps].count(True) == 1
    assert schedule.steps[1].least == Gap(days=5)
    assert schedule.due(START)[-1] == add_months(START + timedelta(weeks=7 + 4 + 4), 3)


def test_a_block_without_a_minimum_keeps_its_spacing_as_the_minimum() -> None:
    assert Schedule.parse("4 x 3 weeks").steps[1].least == Gap(days=21)
    assert Schedule.parse("4 × 2w (≥ 10d)").steps[1].least == Gap(days=10)


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", "at least one block"),
        ("8 weekly", "is not a block of sessions"),
        ("8 x 1 fortnight", "is not a gap between sessions"),
        ("8 x -1 week", "is not a gap between sessions"),
        ("8 x 1.5 weeks", "is not a gap between sessions"),
        ("80 x 1 week", "at most 60"),
        ("0 x 1 week", "at least one session"),
        ("2 x 1 week (min 2 weeks)", "longer than the spacing"),
        ("3 x 0 days", "one session"),
        ("2 x 14 months", "over a year"),
        ("; 1 x 3 months", "at least one block"),
    ],
)
def test_a_schedule_that_cannot_be_meant_is_refused_in_words(typed: str, words: str) -> None:
    with pytest.raises(CourseError, match=words):
        Schedule.parse(typed)
