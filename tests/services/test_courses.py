"""Courses through the service on a real database: planned, changed, paused and ended; sessions
booked and refused when too soon; consent signed, checked against the text shown, withdrawn;
every refusal in words with nothing written, every change on the trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from mesomix.db.tables import CourseSessionRow
from mesomix.domain.course import Standing
from mesomix.domain.course.plan import ZoneVolume
from mesomix.services.courses import CourseRefused, Technique
from mesomix.services.errors import NotFound, PermissionDenied, ServiceError
from mesomix.services.uow import unit_of_work
from tests.factories import audit_rows, mixture, receive, snapshot

B12 = "cyanocobalamin_1000mcg_1ml_vial"
SCALP = (ZoneVolume("scalp", 2000),)


@pytest.fixture
def clinic(clinic_on_both):
    """Every case here runs on SQLite and on PostgreSQL."""
    return clinic_on_both


@pytest.fixture
def clinic_with_formula(clinic):
    receive(clinic, B12, "B1", 20)
    clinic.formulas.save(
        "drchen", "Hair B12", mixture(("cyanocobalamin", "1000 mcg"), final="2 mL"), "hair loss"
    )
    return clinic


def _plan(services, **changes):
    fields = {
        "patient_ref": "P-1",
        "indication": "hair",
        "formula": "hair_b12",
        "zones": SCALP,
        "starts_on": services.clock.today() + timedelta(days=1),
    }
    fields.update(changes)
    return services.courses.plan("drchen", **fields)


def _at(services, days: int, hour: int = 10) -> datetime:
    day = services.clock.today() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_a_course_planned_from_the_indications_usual_schedule(clinic_with_formula):
    course = _plan(clinic_with_formula)
    assert (course.patient_ref, course.indication.code, course.status) == ("P-1", "hair", "active")
    assert course.version == 1 and course.formula_code == "hair_b12"
    assert len(course.sessions) == 11  # 8 weekly, 2 fortnightly, 1 after 4 weeks
    assert course.sessions[0].line.standing is Standing.DUE
    assert course.sessions[1].line.due == course.starts_on + timedelta(weeks=1)
    assert course.consent is None
    (row,) = [r for r in audit_rows(clinic_with_formula) if r.action == "course.plan"]
    assert row.new["schedule"].startswith("8 x 1 week (min 5 days)")


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        ({"patient_ref": "P-404"}, NotFound, "no patient with reference 'P-404'"),
        ({"indication": "tattoo"}, CourseRefused, "'tattoo' is not an indication"),
        ({"formula": "nothing"}, NotFound, "no formula 'nothing'"),
        ({"starts_on_days": -1}, CourseRefused, "is past"),
        ({"starts_on_days": 800}, CourseRefused, "over a year from now"),
        ({"zones": (ZoneVolume("scalp", 3000),)}, CourseRefused, "the zones take 3 mL"),
        ({"zones": (ZoneVolume("elbow", 1000),)}, CourseRefused, "'elbow' is not a zone"),
        ({"zones": ()}, CourseRefused, "at least one zone"),
        ({"schedule": "8 x weekly"}, CourseRefused, "not a gap between sessions"),
        ({"schedule": "2 x 1 week (min 2 weeks)"}, CourseRefused, "longer than the spacing"),
    ],
)
def test_a_course_that_cannot_be_meant_is_refused_and_nothing_is_written(
    clinic_with_formula, changes, error, words
):
    services = clinic_with_formula
    if "starts_on_days" in changes:
        changes["starts_on"] = services.clock.today() + timedelta(
            days=changes.pop("starts_on_days")
        )
    before = snapshot(services), len(audit_rows(services))
    with pytest.raises(error, match=words):
        _plan(services, **changes)
    assert (snapshot(services), len(audit_rows(services))) == before


def test_a_second_active_course_of_one_indication_is_refused(clinic_with_formula):
    first = _plan(clinic_with_formula)
    with pytest.raises(CourseRefused, match=f"already has course {first.id} for hair loss"):
        _plan(clinic_with_formula)
    clinic_with_formula.courses.end("drchen", first.id, "moved away")
    assert _plan(clinic_with_formula).id != first.id


def test_staff_may_not_plan_a_course(clinic_with_formula):
    with pytest.raises(PermissionDenied, match=r"sam \(staff\) may not"):
        clinic_with_formula.courses.plan(
            "sam", "P-1", "hair", "hair_b12", SCALP, clinic_with_formula.clock.today()
        )


def test_a_change_is_a_new_version_from_the_next_session_and_the_old_is_kept(
    clinic_with_formula,
):
    services = clinic_with_formula
    course = _plan(services)
    with pytest.raises(CourseRefused, match="needs a reason"):
        services.courses.change("drchen", course.id, "  ", schedule="4 x 2 weeks")
    with pytest.raises(CourseRefused, match="nothing changed"):
        services.courses.change("drchen", course.id, "same", schedule=course.schedule.said)
    changed = services.courses.change(
        "drchen", course.id, "slow responder", schedule="6 x 2 weeks (min 10 days)"
    )
    assert changed.version == 2 and len(changed.sessions) == 6
    assert changed.zones == SCALP
    (row,) = [r for r in audit_rows(services) if r.action == "course.change"]
    assert row.old["version"] == 1 and row.new["version"] == 2 and row.reason == "slow responder"


def test_pause_resume_and_end_with_reasons_and_a_paused_course_is_not_booked(
    clinic_with_formula,
):
    services = clinic_with_formula
    course = _plan(services)
    assert services.courses.pause("drchen", course.id, "holiday").status == "paused"
    with pytest.raises(CourseRefused, match="paused: resume it first"):
        services.courses.book("sam", course.id, 1, _at(services, 1))
    with pytest.raises(CourseRefused, match="is paused: it cannot be paused now"):
        services.courses.pause("drchen", course.id, "again")
    assert services.courses.resume("drchen", course.id).status == "active"
    ended = services.courses.end("drchen", course.id, "patient satisfied")
    assert (ended.status, ended.status_reason) == ("ended", "patient satisfied")
    with pytest.raises(CourseRefused, match="has ended"):
        services.courses.change("drchen", course.id, "more", schedule="2 x 1 week")
    actions = [r.action for r in audit_rows(services) if r.action.startswith("course.")]
    assert actions == ["course.plan", "course.paused", "course.active", "course.ended"]


def test_a_session_booked_too_soon_is_refused_naming_the_earliest_day(clinic_with_formula):
    services = clinic_with_formula
    course = _plan(services)
    booked = services.courses.book("sam", course.id, 1, _at(services, 1))
    assert booked.sessions[0].line.standing is Standing.BOOKED
    before = snapshot(services)
    with pytest.raises(CourseRefused) as refused:
        services.courses.book("sam", course.id, 2, _at(services, 4))
    earliest = services.clock.today() + timedelta(days=6)
    assert f"not before {earliest:%Y-%m-%d}" in str(refused.value)
    assert "at least 5 days apart" in str(refused.value)
    with pytest.raises(CourseRefused, match="only a practitioner may book it early"):
        services.courses.book("sam", course.id, 2, _at(services, 4), early_reason="travelling")
    assert snapshot(services) == before
    early = services.courses.book("drchen", course.id, 2, _at(services, 4), "travelling")
    assert early.sessions[1].early_reason == "travelling"
    (row,) = [r for r in audit_rows(services) if r.action == "session.book" and r.reason]
    assert row.reason.startswith("early: session 2") and row.reason.endswith("travelling")
    # moving session 1 later would now leave session 2 too close after it
    with pytest.raises(CourseRefused, match="session 2 on"):
        services.courses.book("sam", course.id, 1, _at(services, 2))


@pytest.mark.parametrize(
    ("number", "days", "words"),
    [
        (1, -1, "is past"),
        (1, 0, "starts on"),
        (12, 90, "has sessions 1 to 11, not 12"),
        (0, 5, "has sessions 1 to 11, not 0"),
        (1, 500, "over a year from now"),
    ],
)
def test_a_booking_that_cannot_be_meant_is_refused(clinic_with_formula, number, days, words):
    services = clinic_with_formula
    course = _plan(services)
    with pytest.raises(CourseRefused, match=words):
        services.courses.book("sam", course.id, number, _at(services, days, hour=23))


def test_a_cancelled_booking_makes_the_session_due_again(clinic_with_formula):
    services = clinic_with_formula
    course = _plan(services)
    services.courses.book("sam", course.id, 1, _at(services, 1))
    with pytest.raises(CourseRefused, match="needs a reason"):
        services.courses.cancel("sam", course.id, 1, "")
    again = services.courses.cancel("sam", course.id, 1, "patient called")
    assert again.sessions[0].line.standing is Standing.DUE
    with pytest.raises(CourseRefused, match="is not booked"):
        services.courses.cancel("sam", course.id, 1, "twice")


def test_consent_is_signed_on_the_text_shown_and_withdrawn(clinic_with_formula):
    services = clinic_with_formula
    course = _plan(services)
    text = services.courses.consent_text("drchen", course.id)
    assert "Amélie Laurent" in text and "11 sessions" in text and "scalp" in text
    with pytest.raises(CourseRefused, match="not the one this course has now"):
        services.courses.sign_consent("drchen", course.id, text + " edited", "read and agreed")
    with pytest.raises(PermissionDenied):
        services.courses.sign_consent("sam", course.id, text, "read and agreed")
    with pytest.raises(CourseRefused, match="needs a reason"):
        services.courses.sign_consent("drchen", course.id, text, " ")
    signed = services.courses.sign_consent(
        "drchen", course.id, text, "Explained in person; the patient read it and agreed"
    )
    assert signed.consent is not None and signed.consent.text == text
    assert signed.consent.explained_by == "Dr Mei Chen"
    with pytest.raises(CourseRefused, match="consent in force already"):
        services.courses.sign_consent("drchen", course.id, text, "again")
    withdrawn = services.courses.withdraw_consent("sam", course.id, "patient phoned to stop")
    assert withdrawn.consent is None and withdrawn.consents[0].withdrawn_reason
    with pytest.raises(CourseRefused, match="no consent in force"):
        services.courses.withdraw_consent("sam", course.id, "again")


def test_a_changed_course_needs_its_consent_text_shown_again(clinic_with_formula):
    services = clinic_with_formula
    course = _plan(services)
    shown = services.courses.consent_text("drchen", course.id)
    services.courses.change("drchen", course.id, "fewer", schedule="4 x 2 weeks")
    with pytest.raises(CourseRefused, match="show the patient the current text"):
        services.courses.sign_consent("drchen", course.id, shown, "read and agreed")
    assert "4 sessions" in services.courses.consent_text("drchen", course.id)


def test_an_injection_is_recorded_only_for_a_held_session(clinic_with_formula):
    services = clinic_with_formula
    course = _plan(services)
    how = Technique("nappage", "2 mm", "30G 4 mm")
    with pytest.raises(CourseRefused, match="is not held: dispense its mixture first"):
        services.courses.record_injection("drchen", course.id, 1, SCALP, how)
    with unit_of_work(services.engine, write=True) as session:
        session.add(CourseSessionRow(course_id=course.id, number=1, held_at=services.clock.now()))
    with pytest.raises(CourseRefused, match="2 mL injected but session 1's mixture was 0 mL"):
        services.courses.record_injection("drchen", course.id, 1, SCALP, how)
    with pytest.raises(PermissionDenied):
        services.courses.record_injection("sam", course.id, 1, SCALP, how)


def test_courses_of_a_patient_newest_first(clinic_with_formula):
    services = clinic_with_formula
    first = _plan(services)
    second = _plan(services, indication="face", zones=(ZoneVolume("face_lower", 1000),))
    assert [c.id for c in services.courses.courses("sam", "P-1")] == [second.id, first.id]
    assert services.courses.courses("sam", "P-2") == []
    with pytest.raises(NotFound):
        services.courses.courses("sam", "P-404")
    with unit_of_work(services.engine) as session:
        assert session.execute(sa.text("select count(*) from course_version")).scalar() == 2


def test_no_course_for_a_patient_the_clinic_no_longer_treats(clinic_with_formula):
    services = clinic_with_formula
    with pytest.raises(ServiceError, match="needs a reason"):
        services.people.set_active("drchen", "P-1", False, " ")
    services.people.set_active("drchen", "P-1", False, "moved abroad")
    before = snapshot(services)
    with pytest.raises(CourseRefused, match=r"Amélie Laurent \(P-1\) is inactive"):
        _plan(services)
    assert snapshot(services) == before
    with pytest.raises(ServiceError, match="inactive already"):
        services.people.set_active("drchen", "P-1", False, "again")
    services.people.set_active("drchen", "P-1", True, "back in town")
    assert _plan(services).status == "active"
    assert [r.action for r in audit_rows(services) if r.action == "patient.active"] == [
        "patient.active",
        "patient.active",
    ]


def test_a_consent_text_of_another_indication_is_not_signed(clinic_with_formula):
    services = clinic_with_formula
    hair = _plan(services)
    face = _plan(services, indication="face", zones=(ZoneVolume("face_lower", 1000),))
    hair_text = services.courses.consent_text("drchen", hair.id)
    with pytest.raises(CourseRefused, match="not the one this course has now"):
        services.courses.sign_consent("drchen", face.id, hair_text, "read and agreed")
    assert services.courses.course("drchen", face.id).consent is None
