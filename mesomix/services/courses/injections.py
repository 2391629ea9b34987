"""What was injected at a session, zone by zone, kept by the practitioner once the session's
mixture was dispensed: the zone, the volume, the technique, the depth, the needle, who injected."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from mesomix.db.tables import BatchRow, InjectionRow, UserRow
from mesomix.domain.course.plan import ZoneVolume, check_zones
from mesomix.domain.permissions import Action, Role
from mesomix.domain.text import plain_text
from mesomix.services.courses.base import CourseBase, refusals
from mesomix.services.courses.reading import CourseRefused, CourseView, course_row, session_rows

LONGEST_WORDS = 80
LONGEST_NOTE = 500


@dataclass(frozen=True)
class Technique:
    """How the zones of one session were injected, in the practitioner's words."""

    technique: str  # nappage, point by point, papule, linear retrotracing...
    depth: str  # "2 mm", "intradermal"
    needle: str  # "30G 4 mm"
    injected_by: str = ""  # user name of the practitioner; empty: the one recording
    note: str = ""


class Injections(CourseBase):
    def record_injection(
        self, user: str, course_id: int, number: int, zones: tuple[ZoneVolume, ...], how: Technique
    ) -> CourseView:
        """The injection record of a held session. Refused: a session not held (its mixture is
        dispensed first), one already recorded, an unknown zone, more into the zones than the
        session's mixture held, an injector who is not an active practitioner, and empty or
        unprintable words."""
        with self.writing(user, Action.RECORD_INJECTION) as (session, actor), refusals():
            course = course_row(session, course_id)
            row = session_rows(session, course_id).get(number)
            if row is None or row.held_at is None or row.id is None:
                raise CourseRefused(
                    f"session {number} of course {course_id} is not held: dispense its mixture "
                    "first"
                )
            if session.exec(
                select(InjectionRow.id).where(InjectionRow.course_session_id == row.id)
            ).first():
                raise CourseRefused(
                    f"session {number} of course {course_id} has its injection record already"
                )
            zones = check_zones(list(zones))
            for zone in zones:
                self._zone(zone.zone)
            made = session.exec(
                select(BatchRow.final_volume_ul).where(BatchRow.course_session_id == row.id)
            ).all()
            given = sum(z.volume_ul for z in zones)
            if given > sum(made):
                raise CourseRefused(
                    f"{ZoneVolume('', given).volume_said} injected but session {number}'s "
                    f"mixture was {ZoneVolume('', sum(made)).volume_said}"
                )
            technique = _words(how.technique, "technique")
            depth, needle = _words(how.depth, "depth"), _words(how.needle, "needle")
            words = {"technique": technique, "depth": depth, "needle": needle}
            note = (how.note or "").strip()
            if not plain_text(note, LONGEST_NOTE):
                raise CourseRefused(f"the note is over {LONGEST_NOTE} characters or unprintable")
            injector = _injector(session, how.injected_by or user)
            now = self._clock.now()
            for zone in zones:
                session.add(
                    InjectionRow(
                        course_session_id=row.id,
                        zone=zone.zone,
                        volume_ul=zone.volume_ul,
                        injected_by=injector.id or 0,
                        note=note,
                        recorded_at=now,
                        recorded_by=actor.id or 0,
                        technique=technique,
                        depth=depth,
                        needle=needle,
                    )
                )
            self.audit(
                session,
                actor,
                "session.injection",
                ("course_session", row.id),
                patient_id=course.patient_id,
                new={
                    "course": course_id,
                    "number": number,
                    "zones": [{"zone": z.zone, "volume_ul": z.volume_ul} for z in zones],
                    "injected_by": injector.name,
                    **words,
                },
            )
            return self._view(session, course)


def _words(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise CourseRefused(f"the injection record needs the {what}")
    if not plain_text(text, LONGEST_WORDS):
        raise CourseRefused(f"the {what} is over {LONGEST_WORDS} characters or unprintable")
    return text


def _injector(session: Session, name: str) -> UserRow:
    row = session.exec(select(UserRow).where(UserRow.name == name.strip())).first()
    if row is None or not row.active or Role(row.role) is not Role.PRACTITIONER:
        raise CourseRefused(f"'{name.strip()}' is not an active practitioner: who injected?")
    return row
