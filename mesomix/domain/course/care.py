"""What a course is for and where it is injected: indications, zones and the consent template.

A clinic plans courses from these: an indication brings its usual schedule (a template the
practitioner changes per patient) and the consent text a patient reads and signs before the
first session; a zone is a named injection area a session's volume is given into.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from mesomix.domain.course.schedule import Schedule

CONSENT_FIELDS = frozenset({"patient", "indication", "sessions", "schedule", "zones"})


@dataclass(frozen=True)
class Zone:
    code: str
    name: str  # as a practitioner says it: "scalp", "face, lower third"
    region: str  # face, neck, scalp, body, limbs: how a list of zones is grouped


@dataclass(frozen=True)
class Indication:
    code: str
    name: str
    schedule: Schedule  # the usual course, a template changed per patient
    schedule_said: str  # the same in words, for the consent and the course form
    zones: tuple[str, ...]  # the zones it is usually given into
    consent: str  # the consent template's text, with {patient}, {sessions}...
    source: str

    def __post_init__(self) -> None:
        fields = {name for _, name, _, _ in string.Formatter().parse(self.consent) if name}
        unknown = fields - CONSENT_FIELDS
        if unknown:
            raise ValueError(
                f"{self.code}: the consent names {', '.join(sorted(unknown))}; it may use "
                f"{', '.join(sorted(CONSENT_FIELDS))}"
            )
        if not self.source.strip():
            raise ValueError(f"{self.code}: an indication's usual course carries its source")

    def consent_for(
        self,
        patient: str,
        sessions: int,
        zones: tuple[str, ...],
        schedule: Schedule | None = None,
    ) -> str:
        """The text the patient reads, filled in: what they sign is exactly what was shown. The
        usual course in plain words, or the course's own schedule where it differs."""
        said = (
            self.schedule_said if schedule is None or schedule == self.schedule else schedule.said
        )
        return self.consent.format(
            patient=patient,
            indication=self.name,
            sessions=sessions,
            schedule=said,
            zones=", ".join(zones) or "as the practitioner marks them",
        )
