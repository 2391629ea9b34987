"""Courses of treatment, one service whose work is split by job: planning.py (plan, change,
pause, resume, end), booking.py (sessions booked and cancelled), consent.py (signed and
withdrawn), injections.py (what was injected at a held session), week.py (the worklist and the
forecast) and reading.py (a course as it stands today). A session's mixture is dispensed by services/mixtures.py like any other, which
asks here whether the course lets it be made."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlmodel import col, select

from mesomix.db.repositories.formulas import formula_version
from mesomix.db.tables import CourseRow, FormulaRow, FormulaVersionRow
from mesomix.domain.formulas import to_draft
from mesomix.domain.mixture import DraftMixture
from mesomix.domain.permissions import Action
from mesomix.services.courses.base import refusals
from mesomix.services.courses.booking import Booking
from mesomix.services.courses.consent import Consenting
from mesomix.services.courses.export import fhir_bundle, icalendar
from mesomix.services.courses.injections import Injections, Technique
from mesomix.services.courses.planning import Planning, patient_row
from mesomix.services.courses.reading import CourseRefused, CourseView, course_row
from mesomix.services.courses.week import Forecast, Week, WorkItem

__all__ = [
    "CourseRefused",
    "CourseService",
    "CourseView",
    "Forecast",
    "Technique",
    "WorkItem",
]


class CourseService(Planning, Booking, Consenting, Injections, Week):
    def course(self, user: str, course_id: int) -> CourseView:
        with self.reading(user, Action.VIEW_COURSES) as (session, _), refusals():
            return self._view(session, course_row(session, course_id))

    def session_draft(self, user: str, course_id: int, number: int | None = None) -> DraftMixture:
        """The mixture of a session (the next one not held unless a number is given), from the
        formula version its course plans, for the patient, recording course and session: it is
        checked and dispensed like any other, and the dispense asks the course again."""
        with self.reading(user, Action.CHECK_MIXTURE) as (session, _), refusals():
            course = course_row(session, course_id)
            shown = self._view(session, course)
            chosen = shown.next_session if number is None else None
            if number is not None:
                if not 1 <= number <= len(shown.sessions):
                    raise CourseRefused(
                        f"course {course_id} has sessions 1 to {len(shown.sessions)}, not {number}"
                    )
                chosen = shown.sessions[number - 1]
            if chosen is None:
                raise CourseRefused(f"every session of course {course_id} is held")
            row = session.get(FormulaVersionRow, shown.formula_version_id)
            formula = session.get(FormulaRow, row.formula_id) if row else None
            assert row is not None and formula is not None  # foreign keys
            draft = to_draft(formula_version(row), shown.patient_ref, formula.purpose)
            return replace(draft, course=course_id, session=chosen.number)

    def calendar(self, user: str, course_id: int) -> str:
        """The course's sessions as an iCalendar file, for the clinic's calendar."""
        return icalendar(self.course(user, course_id), self.zone_names(), self._clock.now())

    def fhir(self, user: str, course_id: int) -> dict[str, Any]:
        """The course, its consents and injection records as a FHIR R4 Bundle."""
        return fhir_bundle(self.course(user, course_id), self.zone_names())

    def zone_names(self) -> dict[str, str]:
        """Each zone's name by its code, for a course said in words."""
        return {code: zone.name for code, zone in self._templates.zones.items()}

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
