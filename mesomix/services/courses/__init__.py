"""Courses of treatment, one service whose work is split by job: planning.py (plan, change,
pause, resume, end), booking.py (sessions booked and cancelled), consent.py (signed and
withdrawn), injections.py (what was injected at a held session) and reading.py (a course as it
stands today). A session's mixture is dispensed by services/mixtures.py like any other, which
asks here whether the course lets it be made."""

from __future__ import annotations

from sqlmodel import col, select

from mesomix.db.tables import CourseRow
from mesomix.domain.permissions import Action
from mesomix.services.courses.base import refusals
from mesomix.services.courses.booking import Booking
from mesomix.services.courses.consent import Consenting
from mesomix.services.courses.injections import Injections, Technique
from mesomix.services.courses.planning import Planning, patient_row
from mesomix.services.courses.reading import CourseRefused, CourseView, course_row

__all__ = ["CourseRefused", "CourseService", "CourseView", "Technique"]


class CourseService(Planning, Booking, Consenting, Injections):
    def course(self, user: str, course_id: int) -> CourseView:
        with self.reading(user, Action.VIEW_COURSES) as (session, _), refusals():
            return self._view(session, course_row(session, course_id))

    def courses(self, user: str, patient_ref: str) -> list[CourseView]:
        """The patient's courses, newest first."""
        with self.reading(user, Action.VIEW_COURSES) as (session, _), refusals():
            patient = patient_row(session, patient_ref)
            rows = session.exec(
                select(CourseRow)
                .where(CourseRow.patient_id == patient.id)
                .order_by(col(CourseRow.id).desc())
            ).all()
            return [self._view(session, row) for row in rows]
