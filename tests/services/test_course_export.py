"""A course for other systems: its sessions as iCalendar (RFC 5545: CRLF, folded at 75
octets, text escaped) and the course, consents and injections as FHIR R4 resources."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from mesomix.domain.course.plan import ZoneVolume
from mesomix.services.courses import Technique
from tests.factories import mixture, receive

B12 = "cyanocobalamin_1000mcg_1ml_vial"


@pytest.fixture
def course(clinic):
    """A hair course of P-1: consented, session 1 held and its injection recorded, session 2
    booked."""
    receive(clinic, B12, "B1", 5)
    receive(clinic, "sodium_chloride_09_10ml_vial", "NS1", 5)
    clinic.formulas.save(
        "drchen", "Hair B12", mixture(("cyanocobalamin", "1000 mcg"), final="2 mL"), "hair loss"
    )
    zones = (ZoneVolume("scalp", 1500), ZoneVolume("face_upper", 500))
    made = clinic.courses.plan("drchen", "P-1", "hair", "hair_b12", zones, clinic.clock.today())
    text = clinic.courses.consent_text("drchen", made.id)
    clinic.courses.sign_consent("drchen", made.id, text, "explained; agreed")
    draft = clinic.courses.session_draft("sam", made.id)
    clinic.mixtures.dispense(draft, "sam", acknowledge_all=True)
    clinic.courses.record_injection(
        "drchen", made.id, 1, zones, Technique("nappage", "2 mm", "30G 4 mm", note="well tolerated")
    )
    day = clinic.clock.today() + timedelta(days=7)
    clinic.courses.book("sam", made.id, 2, datetime(day.year, day.month, day.day, 9, tzinfo=UTC))
    return clinic, made.id


def _unfolded(text: str) -> list[str]:
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    raw = text.split("\r\n")[:-1]
    for line in raw:
        assert len(line.encode("utf-8")) <= 75, line
    lines: list[str] = []
    for line in raw:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def test_the_course_as_an_icalendar_file(course):
    services, course_id = course
    lines = _unfolded(services.courses.calendar("sam", course_id))
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 11
    uids = [line for line in lines if line.startswith("UID:")]
    assert len(set(uids)) == 11
    starts = [line for line in lines if line.startswith("DTSTART")]
    assert starts[0] == "DTSTART:20261124T090000Z"  # session 1, held at the clock's time
    assert starts[1] == "DTSTART:20261201T090000Z"  # session 2, booked
    assert starts[2] == "DTSTART;VALUE=DATE:20261208"  # session 3, to book
    summary = next(line for line in lines if line.startswith("SUMMARY:"))
    assert summary == "SUMMARY:Amélie Laurent (P-1): hair loss\\, session 1 of 11"
    described = next(line for line in lines if line.startswith("DESCRIPTION:"))
    assert "scalp 1.5 mL\\, face\\, upper third 0.5 mL\\; held" in described


def test_the_course_consent_and_injections_as_fhir(course):
    services, course_id = course
    bundle = services.courses.fhir("drchen", course_id)
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    plan, consent, *procedures = [e["resource"] for e in bundle["entry"]]
    assert (plan["resourceType"], plan["status"], plan["intent"]) == ("CarePlan", "active", "plan")
    assert plan["subject"]["reference"] == "Patient/P-1"
    statuses = [a["detail"]["status"] for a in plan["activity"]]
    assert statuses[:3] == ["completed", "scheduled", "not-started"] and len(statuses) == 11
    assert (consent["resourceType"], consent["status"]) == ("Consent", "active")
    text = base64.b64decode(consent["sourceAttachment"]["data"]).decode("utf-8")
    assert text == services.courses.consent_text("drchen", course_id)
    assert [p["bodySite"][0]["text"] for p in procedures] == ["scalp", "face, upper third"]
    assert all(p["basedOn"] == [{"reference": f"CarePlan/{plan['id']}"}] for p in procedures)
    assert (
        "nappage, depth 2 mm, needle 30G 4 mm; well tolerated" in procedures[0]["note"][0]["text"]
    )
    services.courses.withdraw_consent("sam", course_id, "patient phoned")
    withdrawn = services.courses.fhir("drchen", course_id)["entry"][1]["resource"]
    assert withdrawn["status"] == "inactive" and withdrawn["provision"]["type"] == "deny"
