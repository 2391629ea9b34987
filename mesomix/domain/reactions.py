"""Reactions: what happened to a patient after a session, as a practitioner records it.

A reaction is read from words (the form's fields, the command line's options) into a `Reaction`
or refused with the reason: a kind, a severity, a seriousness or an outcome outside their lists,
an onset before the session it follows or after now, a serious reaction without its reason.
The kinds are those mesotherapy's risks are named by (infection, bruising, swelling, redness,
pain, nodules, allergic reactions; rarely necrosis or an atypical mycobacterial infection);
severity, seriousness and outcome are FHIR R4 AdverseEvent's (ICH E2A's seriousness criteria).
Pure: no database, no clock of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TypeVar

from mesomix.domain.text import plain_text
from mesomix.errors import Refused

LONGEST_WORDS = 200
E = TypeVar("E", bound=Enum)


class ReactionError(Refused):
    """A reaction that cannot be recorded as given."""


class ReactionKind(Enum):
    INFECTION = "infection"
    MYCOBACTERIAL = "atypical mycobacterial infection"
    NODULE = "nodule"
    BRUISING = "bruising"
    SWELLING = "swelling"
    REDNESS = "redness"
    PAIN = "pain"
    ALLERGIC = "allergic reaction"
    NECROSIS = "necrosis"
    PIGMENTATION = "hyperpigmentation"
    OTHER = "other"


class Severity(Enum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class Seriousness(Enum):
    """Why a reaction is serious (ICH E2A): one reason is enough."""

    DEATH = "death"
    LIFE_THREATENING = "life-threatening"
    HOSPITALISATION = "hospitalisation"
    DISABILITY = "disability"
    MEDICALLY_IMPORTANT = "medically important"


class Outcome(Enum):
    RECOVERING = "recovering"
    RESOLVED = "resolved"
    SEQUELAE = "resolved with sequelae"
    NOT_RESOLVED = "not resolved"


@dataclass(frozen=True)
class Reaction:
    kind: ReactionKind
    what: str  # in the practitioner's words: "tender red nodule, 5 mm"
    onset: datetime
    zone: str  # a zone code, or "" when not at an injection site (a rash, a fever)
    severity: Severity
    serious: Seriousness | None
    treatment: str
    outcome: Outcome

    @property
    def said(self) -> str:
        serious = f", serious ({self.serious.value})" if self.serious else ""
        return f"{self.severity.value} {self.kind.value}{serious}, {self.outcome.value}"


@dataclass(frozen=True)
class ReactionWords:
    """A reaction as typed: every field a string, read by `read_reaction`."""

    kind: str
    what: str
    onset: str  # "2026-12-03 14:00", "2026-12-03", or "2 days after" (the session)
    zone: str
    severity: str
    serious: str  # "", "no", or one of Seriousness
    treatment: str
    outcome: str


_AFTER = re.compile(r"^(\d{1,3})\s*(h|hours?|d|days?)\s*(after)?$", re.IGNORECASE)


def read_reaction(
    words: ReactionWords, session_at: datetime, now: datetime, zones: set[str]
) -> Reaction:
    """The reaction the words say, after a session made at `session_at`; refused with every
    reason at once (one a line) if any field cannot be read."""
    problems: list[str] = []

    kind = _chosen(ReactionKind, words.kind, "the kind", problems)
    severity = _chosen(Severity, words.severity, "the severity", problems)
    outcome = _chosen(Outcome, words.outcome, "the outcome", problems)
    serious = None
    if words.serious.strip().lower() not in ("", "no", "not serious"):
        serious = _chosen(Seriousness, words.serious, "serious because", problems)
    what = _words(words.what, "what was seen", problems, needed=kind is ReactionKind.OTHER)
    treatment = _words(words.treatment, "the treatment given", problems)
    zone = words.zone.strip()
    if zone and zone not in zones:
        problems.append(f"zone '{zone}' is not a zone ({', '.join(sorted(zones))})")
    onset = _onset(words.onset, session_at, now, problems)
    if problems:
        raise ReactionError("\n".join(problems))
    assert kind and severity and outcome and onset  # each refused above when missing
    return Reaction(kind, what, onset, zone, severity, serious, treatment, outcome)


def _chosen(kind: type[E], text: str, what: str, problems: list[str]) -> E | None:
    """The member a word names (its value or its name), or None with the list said."""
    for member in kind:
        if text.strip().lower() in (member.value, member.name.lower()):
            return member
    names = ", ".join(str(m.value) for m in kind)
    problems.append(f"{what} '{text.strip()}' is not one of: {names}")
    return None


def _words(text: str, what: str, problems: list[str], needed: bool = False) -> str:
    text = text.strip()
    if needed and not text:
        problems.append(f"{what} is needed for a reaction of kind 'other'")
    elif not plain_text(text, LONGEST_WORDS):
        problems.append(f"{what} is over {LONGEST_WORDS} characters or unprintable")
    return text


def _onset(text: str, session_at: datetime, now: datetime, problems: list[str]) -> datetime | None:
    """A date and time, a date (its start, in the session's zone), or a delay after the
    session; never before the session nor after now."""
    text = text.strip()
    after = _AFTER.match(text)
    onset: datetime | None = None
    if after:
        count, unit = int(after.group(1)), after.group(2).lower()
        onset = session_at + (
            timedelta(hours=count) if unit.startswith("h") else timedelta(days=count)
        )
    else:
        try:
            onset = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=session_at.tzinfo)
        except ValueError:
            try:
                day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=session_at.tzinfo)
            except ValueError:
                day = None
            if day is not None:  # a day alone: the session's own day counts from the session
                onset = session_at if day.date() == session_at.date() else day
    if onset is None:
        problems.append(
            f"onset '{text}' is not a time: type 2026-12-03 14:00, 2026-12-03 or 2 days after"
        )
        return None
    if onset < session_at:
        problems.append(
            f"onset {onset:%Y-%m-%d %H:%M} is before the session ({session_at:%Y-%m-%d %H:%M}): "
            "a reaction to it comes after it"
        )
    elif onset > now:
        problems.append(f"onset {onset:%Y-%m-%d %H:%M} is in the future")
    return onset
