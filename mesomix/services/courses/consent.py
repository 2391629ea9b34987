"""The patient's consent to a course: the indication's text filled in for this course, signed
by the practitioner who explained it, in force until withdrawn. No session of a course is
dispensed without one in force (services/mixtures.py asks `consent_in_force`)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from mesomix.db.tables import ConsentRow, CourseRow, PatientRow
from mesomix.domain.course import Schedule
from mesomix.domain.permissions import Action
from mesomix.services.courses.base import CourseBase, given_reason, refusals
from mesomix.services.courses.reading import (
    CourseRefused,
    CourseView,
    course_row,
    indication_of,
    latest_version,
    zones_of,
)


def consent_in_force(session: Session, course_id: int) -> ConsentRow | None:
    return session.exec(
        select(ConsentRow)
        .where(ConsentRow.course_id == course_id, col(ConsentRow.withdrawn_at).is_(None))
        .order_by(col(ConsentRow.id).desc())
    ).first()


class Consenting(CourseBase):
    def consent_text(self, user: str, course_id: int) -> str:
        """The text the patient reads for this course, as it will be signed."""
        with self.reading(user, Action.VIEW_COURSES) as (session, _), refusals():
            return self._text(session, course_row(session, course_id))

    def sign_consent(self, user: str, course_id: int, shown: str, statement: str) -> CourseView:
        """The practitioner signs that they explained `shown` and the patient agreed, in the
        words of `statement`. Refused: an ended course, a consent already in force, and a text
        other than the course's own now (the course or the template changed since it was shown:
        show it again), so what is kept is exactly what the patient read."""
        with self.writing(user, Action.SIGN_CONSENT) as (session, actor), refusals():
            course = course_row(session, course_id)
            if course.status == "ended":
                raise CourseRefused(f"course {course_id} has ended: it needs no consent")
            if consent_in_force(session, course_id) is not None:
                raise CourseRefused(f"course {course_id} has a consent in force already")
            text = self._text(session, course)
            if shown.strip() != text.strip():
                raise CourseRefused(
                    "the consent text is not the one this course has now: show the patient "
                    "the current text and sign again"
                )
            statement = given_reason(statement, "a consent")
            row = ConsentRow(
                course_id=course_id,
                indication=course.indication,
                template_version=self._templates.consent_version,
                text=text,
                statement=statement,
                explained_by=actor.id or 0,
                signed_at=self._clock.now(),
            )
            session.add(row)
            session.flush()
            self.audit(
                session,
                actor,
                "consent.sign",
                ("consent", row.id),
                patient_id=course.patient_id,
                new={
                    "course": course_id,
                    "indication": course.indication,
                    "template_version": row.template_version,
                    "statement": statement,
                },
            )
            return self._view(session, course)

    def withdraw_consent(self, user: str, course_id: int, reason: str) -> CourseView:
        """The patient withdraws: no session of the course is made from now on."""
        with self.writing(user, Action.WITHDRAW_CONSENT) as (session, actor), refusals():
            course = course_row(session, course_id)
            row = consent_in_force(session, course_id)
            if row is None:
                raise CourseRefused(f"course {course_id} has no consent in force to withdraw")
            reason = given_reason(reason, "a consent withdrawn")
            row.withdrawn_at, row.withdrawn_by, row.withdrawn_reason = (
                self._clock.now(),
                actor.id,
                reason,
            )
            session.add(row)
            self.audit(
                session,
                actor,
                "consent.withdraw",
                ("consent", row.id),
                patient_id=course.patient_id,
                new={"course": course_id, "withdrawn": True},
                reason=reason,
            )
            return self._view(session, course)

    def _text(self, session: Session, course: CourseRow) -> str:
        indication = indication_of(self._templates, course.indication)
        patient = session.get(PatientRow, course.patient_id)
        assert patient is not None and course.id is not None
        version = latest_version(session, course.id)
        schedule = Schedule.parse(version.schedule)
        zones = tuple(self._zone(z.zone).name for z in zones_of(version))
        return indication.consent_for(patient.name, len(schedule.steps), zones, schedule)
