"""Sessions booked on dates and times, and cancelled: a session sooner after the one before
than its least gap is refused, or booked early on a practitioner's reason."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from mesomix.db.tables import CourseSessionRow
from mesomix.domain.course import Schedule, Standing
from mesomix.domain.permissions import Action, Role
from mesomix.services.courses.base import CourseBase, given_reason, refusals
from mesomix.services.courses.reading import (
    CourseRefused,
    CourseView,
    course_row,
    latest_version,
    session_rows,
)

# A booking further off than this is a mistyped year.
LONGEST_LEAD = timedelta(days=400)


class Booking(CourseBase):
    def book(
        self, user: str, course_id: int, number: int, at: datetime, early_reason: str = ""
    ) -> CourseView:
        """Session `number` booked for `at` (an aware time). Refused: a course paused or ended,
        a session held or not in the plan, a time past or over a year off, session 1 before
        the course starts, and a day sooner than the least gap after the session before (or
        before the session after): a practitioner may book it anyway with `early_reason`."""
        if at.tzinfo is None:
            raise CourseRefused("a booking's time needs its time zone")
        with self.writing(user, Action.BOOK_SESSION) as (session, actor), refusals():
            course = course_row(session, course_id)
            if course.status != "active":
                raise CourseRefused(
                    f"course {course_id} is {course.status}"
                    + (": resume it first" if course.status == "paused" else "")
                )
            now = self._clock.now()
            if at < now:
                raise CourseRefused(f"{self._when(at)} is past: book a time from now on")
            if at - now > LONGEST_LEAD:
                raise CourseRefused(f"{self._when(at)} is over a year from now: check the year")
            shown = self._view(session, course)
            total = len(shown.sessions)
            if not 1 <= number <= total:
                raise CourseRefused(f"course {course_id} has sessions 1 to {total}, not {number}")
            line = shown.sessions[number - 1].line
            if line.standing is Standing.HELD:
                raise CourseRefused(f"session {number} of course {course_id} is already held")
            day = at.astimezone(self._clock.zone).date()
            if number == 1 and day < course.starts_on:
                raise CourseRefused(
                    f"course {course_id} starts on {course.starts_on:%Y-%m-%d}; session 1 "
                    "cannot be before it"
                )
            schedule = Schedule.parse(latest_version(session, course_id).schedule)
            days = {s.number: s.line.day for s in shown.sessions if s.line.day is not None}
            previous = shown.sessions[number - 2].line if number > 1 else None
            if previous is not None and previous.day is None:
                days[number - 1] = previous.due  # not booked yet: as it falls due
            too_soon = self._too_soon(schedule, days, number, day, total)
            early = (early_reason or "").strip()
            if too_soon and not early:
                raise CourseRefused(too_soon)
            if too_soon and Role(actor.role) is not Role.PRACTITIONER:
                raise CourseRefused(f"{too_soon}; only a practitioner may book it early")
            if early:
                early = given_reason(early, "an early session")
            rows = session_rows(session, course_id)
            row = rows.get(number) or CourseSessionRow(course_id=course_id, number=number)
            old = {"booked_for": row.booked_for.isoformat()} if row.booked_for else None
            row.booked_for, row.booked_by = at, actor.id
            row.early_reason = early if too_soon else ""
            row.early_signed_by = actor.id if too_soon else None
            session.add(row)
            session.flush()
            self.audit(
                session,
                actor,
                "session.book",
                ("course_session", row.id),
                patient_id=course.patient_id,
                old=old,
                new={"course": course_id, "number": number, "booked_for": at.isoformat()},
                reason=row.early_reason and f"early: {too_soon}; {row.early_reason}",
            )
            return self._view(session, course)

    def cancel(self, user: str, course_id: int, number: int, reason: str) -> CourseView:
        """A booking taken back, with the reason; the session is then due again."""
        with self.writing(user, Action.BOOK_SESSION) as (session, actor), refusals():
            course = course_row(session, course_id)
            row = session_rows(session, course_id).get(number)
            if row is None or row.booked_for is None:
                raise CourseRefused(f"session {number} of course {course_id} is not booked")
            if row.held_at is not None:
                raise CourseRefused(f"session {number} of course {course_id} is already held")
            reason = given_reason(reason, "a cancelled booking")
            old = row.booked_for
            row.booked_for, row.booked_by, row.early_reason, row.early_signed_by = (
                None,
                None,
                "",
                None,
            )
            session.add(row)
            self.audit(
                session,
                actor,
                "session.cancel",
                ("course_session", row.id),
                patient_id=course.patient_id,
                old={"course": course_id, "number": number, "booked_for": old.isoformat()},
                reason=reason,
            )
            return self._view(session, course)

    @staticmethod
    def _too_soon(
        schedule: Schedule, days: dict[int, date], number: int, day: date, total: int
    ) -> str:
        """Why the day breaks a least gap, with the session before or the one after it."""
        before = schedule.too_soon(number, days.get(number - 1), day)
        if before or number == total or number + 1 not in days:
            return before
        return schedule.too_soon(number + 1, day, days[number + 1])

    def _when(self, at: datetime) -> str:
        return f"{at.astimezone(self._clock.zone):%Y-%m-%d %H:%M}"
