"""A course for other systems: its sessions as an iCalendar file for the clinic's calendar
(RFC 5545), and the course, its consents and injection records as FHIR R4 CarePlan, Consent
and Procedure resources. Pure mapping from the course as read; nothing here touches the
database."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from mesomix.domain.course import Standing
from mesomix.domain.course.plan import ZoneVolume
from mesomix.services.courses.reading import CourseView

# How long a session is booked for in the calendar: the booking keeps the start only.
SESSION_LENGTH = timedelta(minutes=30)
_LONGEST_LINE = 75  # octets, before folding (RFC 5545 3.1)
_CAREPLAN_STATUS = {"active": "active", "paused": "on-hold", "ended": "completed"}
_ACTIVITY_STATUS = {
    Standing.HELD: "completed",
    Standing.BOOKED: "scheduled",
    Standing.DUE: "not-started",
    Standing.LATE: "not-started",
    Standing.MISSED: "not-started",
}


def icalendar(course: CourseView, zones: dict[str, str], now: datetime) -> str:
    """The course's sessions booked and held as timed events, those not yet booked as
    all-day events on their due date: one VCALENDAR, CRLF line ends, long lines folded."""
    stamp = _utc(now)
    where = ", ".join(f"{zones.get(z.zone, z.zone)} {z.volume_said}" for z in course.zones)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//mesomix//courses of treatment//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    for session in course.sessions:
        line = session.line
        summary = (
            f"{course.patient_name} ({course.patient_ref}): {course.indication.name}, "
            f"session {line.number} of {len(course.sessions)}"
        )
        event = [
            "BEGIN:VEVENT",
            f"UID:mesomix-course-{course.id}-session-{line.number}",
            f"DTSTAMP:{stamp}",
        ]
        start = session.held_at or session.booked_for
        if start is not None and line.standing in (Standing.HELD, Standing.BOOKED):
            event += [f"DTSTART:{_utc(start)}", f"DTEND:{_utc(start + SESSION_LENGTH)}"]
        else:
            summary += f" (to book, due {line.due:%Y-%m-%d})"
            event += [
                f"DTSTART;VALUE=DATE:{line.due:%Y%m%d}",
                f"DTEND;VALUE=DATE:{line.due + timedelta(days=1):%Y%m%d}",
            ]
        event += [
            f"SUMMARY:{_text(summary)}",
            f"DESCRIPTION:{_text(f'{course.formula_name} into {where}; {line.standing.value}')}",
            "STATUS:CONFIRMED" if line.standing is not Standing.MISSED else "STATUS:TENTATIVE",
            "END:VEVENT",
        ]
        lines += event
    lines.append("END:VCALENDAR")
    return "".join(_folded(line) + "\r\n" for line in lines)


def fhir_bundle(course: CourseView, zones: dict[str, str]) -> dict[str, Any]:
    """The course as a CarePlan, each consent as a Consent and each zone injected as a
    Procedure based on the plan, in one collection Bundle."""
    plan_id = f"mesomix-course-{course.id}"
    patient = {"reference": f"Patient/{course.patient_ref}", "display": course.patient_name}
    held = {s.number: s.held_at for s in course.sessions}
    care_plan: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": plan_id,
        "status": _CAREPLAN_STATUS[course.status],
        "intent": "plan",
        "title": f"{course.indication.name}: {len(course.sessions)} sessions",
        "description": f"{course.schedule.said}; {course.formula_name} (version "
        f"{course.formula_version}) into "
        + ", ".join(f"{zones.get(z.zone, z.zone)} {z.volume_said}" for z in course.zones),
        "subject": patient,
        "period": {"start": course.starts_on.isoformat()},
        "activity": [
            {
                "detail": {
                    "status": _ACTIVITY_STATUS[s.line.standing],
                    "description": f"session {s.number}: {s.line.standing.value}",
                    "scheduledString": (s.line.day or s.line.due).isoformat(),
                }
            }
            for s in course.sessions
        ],
    }
    if course.status_reason:
        care_plan["note"] = [{"text": course.status_reason}]
    consents = [
        {
            "resourceType": "Consent",
            "id": f"mesomix-consent-{c.id}",
            "status": "active" if c.in_force else "inactive",
            "scope": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                        "code": "treatment",
                    }
                ]
            },
            "category": [
                {"text": f"consent to {course.indication.name} (template {c.template_version})"}
            ],
            "patient": patient,
            "dateTime": c.signed_at.isoformat(),
            "performer": [{"display": c.explained_by}],
            "policyRule": {"text": c.statement},
            "sourceAttachment": {
                "contentType": "text/plain; charset=utf-8",
                "data": base64.b64encode(c.text.encode("utf-8")).decode("ascii"),
                "title": "the text as the patient read it",
            },
            **(
                {"provision": {"type": "deny", "period": {"start": c.withdrawn_at.isoformat()}}}
                if c.withdrawn_at
                else {}
            ),
        }
        for c in course.consents
    ]
    procedures = []
    for index, i in enumerate(course.injections, start=1):
        performed = held.get(i.session) or i.recorded_at
        procedures.append(
            {
                "resourceType": "Procedure",
                "id": f"mesomix-course-{course.id}-injection-{index}",
                "status": "completed",
                "basedOn": [{"reference": f"CarePlan/{plan_id}"}],
                "code": {"text": "mesotherapy injection"},
                "subject": patient,
                "performedDateTime": performed.isoformat(),
                "performer": [{"actor": {"display": i.injected_by}}],
                "bodySite": [{"text": zones.get(i.zone, i.zone)}],
                "note": [
                    {
                        "text": f"session {i.session}: {ZoneVolume('', i.volume_ul).volume_said}, "
                        f"{i.technique}, depth {i.depth}, needle {i.needle}"
                        + (f"; {i.note}" if i.note else "")
                    }
                ],
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in (care_plan, *consents, *procedures)],
    }


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newline escaped."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _folded(line: str) -> str:
    """A content line folded at 75 octets, never inside a UTF-8 character."""
    parts: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = _LONGEST_LINE if not parts else _LONGEST_LINE - 1  # a fold starts with a space
        if size + width > limit:
            parts.append(current)
            current, size = "", 0
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)
