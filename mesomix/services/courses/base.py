"""What every part of the course service shares: the templates, a zone looked up, the course
read back as it stands, and the domain's refusals given as the service's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlmodel import Session

from mesomix.clock import Clock
from mesomix.db.tables import CourseRow
from mesomix.domain.course import CourseError, Zone
from mesomix.domain.course.plan import ZoneVolume, read_zones
from mesomix.domain.text import plain_text
from mesomix.reference import CourseTemplates
from mesomix.services.base import Service
from mesomix.services.courses.reading import CourseRefused, CourseView, view

LONGEST_REASON = 500  # characters of a reason or a signed statement


@contextmanager
def refusals() -> Iterator[None]:
    try:
        yield
    except CourseError as exc:
        raise CourseRefused(str(exc)) from None


class CourseBase(Service):
    def __init__(self, engine: sa.Engine, clock: Clock, templates: CourseTemplates) -> None:
        super().__init__(engine, clock)
        self._templates = templates

    @property
    def templates(self) -> CourseTemplates:
        return self._templates

    def read_zones(self, text: str) -> tuple[ZoneVolume, ...]:
        """Zones as typed ("scalp 4 mL, neck 1 mL"), refused in words where one cannot be meant."""
        with refusals():
            return read_zones(text, self._templates.zones)

    def _zone(self, code: str) -> Zone:
        zone = self._templates.zones.get(code)
        if zone is None:
            raise CourseRefused(
                f"'{code}' is not a zone; the zones are {', '.join(sorted(self._templates.zones))}"
            )
        return zone

    def _view(self, session: Session, course: CourseRow) -> CourseView:
        session.flush()
        return view(session, self._templates, course, self._clock.today(), self._clock.zone)


def given_reason(text: str, what: str) -> str:
    """Free words a change needs (why, or the statement signed), refused when empty, too
    long or unprintable."""
    text = (text or "").strip()
    if not text:
        raise CourseRefused(f"{what} needs a reason, in words")
    if not plain_text(text, LONGEST_REASON):
        raise CourseError(
            f"the reason for {what} is over {LONGEST_REASON} characters or holds characters "
            "that cannot be shown"
        )
    return text
