"""A session of a course made from Compose's service like any mixture: prefilled from its
course, refused without a consent in force, on a paused course, twice, out of order or too
soon after the one before (a practitioner may sign that off); the label's limits across
sessions counted over everything the patient received; the batch records its session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from mesomix.db.tables import BatchRow
from mesomix.domain.course import Standing
from mesomix.domain.course.plan import ZoneVolume
from mesomix.services.courses import CourseRefused
from mesomix.services.mixtures import DispenseRefused, Signature
from mesomix.services.uow import unit_of_work
from tests.factories import PASSWORD, counts, mixture, receive

B12 = "cyanocobalamin_1000mcg_1ml_vial"
KYBELLA = "kybella_2ml_vial"


@pytest.fixture
def clinic(clinic_on_both):
    """Every journey here runs on SQLite and on PostgreSQL."""
    return clinic_on_both


@pytest.fixture
def consented(clinic):
    """A hair course for P-1 starting today, consented, its formula in stock."""
    receive(clinic, B12, "B1", 40, 900)
    receive(clinic, "sodium_chloride_09_10ml_vial", "NS1", 40, 900)
    clinic.formulas.save(
        "drchen", "Hair B12", mixture(("cyanocobalamin", "1000 mcg"), final="2 mL"), "hair loss"
    )
    course = clinic.courses.plan(
        "drchen", "P-1", "hair", "hair_b12", (ZoneVolume("scalp", 2000),), clinic.clock.today()
    )
    text = clinic.courses.consent_text("drchen", course.id)
    clinic.courses.sign_consent("drchen", course.id, text, "explained; the patient agreed")
    return clinic, course.id


def _codes(plan) -> set[str]:
    return {f.code for f in plan.findings}


def test_staff_prepare_session_one_from_its_course_and_the_batch_records_it(consented):
    services, course = consented
    draft = services.courses.session_draft("sam", course)
    assert (draft.course, draft.session, draft.patient) == (course, 1, "P-1")
    assert draft.final_volume == "2 mL" and draft.purpose == "hair loss"
    assert not services.mixtures.check(draft, "sam").blocked
    made = services.mixtures.dispense(draft, "sam", acknowledge_all=True)
    assert f"Course {course}, session 1" in made.label.splitlines()[1]
    shown = services.courses.course("sam", course)
    assert shown.sessions[0].line.standing is Standing.HELD
    assert shown.next_session is not None and shown.next_session.number == 2
    with unit_of_work(services.engine) as session:
        batch = session.get(BatchRow, made.batch_id)
        assert batch is not None and batch.course_session_id is not None
        assert batch.draft["course"] == course and batch.draft["session"] == 1
    again = services.mixtures.check(draft, "sam")
    assert "course.session_held" in _codes(again)


def test_no_session_is_made_without_a_consent_in_force(consented):
    services, course = consented
    services.courses.withdraw_consent("sam", course, "patient phoned to stop")
    draft = services.courses.session_draft("sam", course)
    plan = services.mixtures.check(draft, "sam")
    (finding,) = [f for f in plan.findings if f.code == "course.no_consent"]
    assert not finding.overridable and "takes the patient's consent" in finding.message
    before = counts(services)
    with pytest.raises(DispenseRefused):
        services.mixtures.dispense(draft, "sam", acknowledge_all=True)
    assert counts(services) == before


def test_a_paused_course_makes_no_session(consented):
    services, course = consented
    draft = services.courses.session_draft("sam", course)
    services.courses.pause("drchen", course, "holiday")
    assert "course.not_active" in _codes(services.mixtures.check(draft, "sam"))


def test_a_session_out_of_order_is_refused(consented):
    services, course = consented
    plan = services.mixtures.check(services.courses.session_draft("sam", course, 3), "sam")
    assert "course.session_order" in _codes(plan)
    with pytest.raises(CourseRefused, match="sessions 1 to 11, not 12"):
        services.courses.session_draft("sam", course, 12)


def test_a_session_too_soon_blocks_until_a_practitioner_signs_it_off(consented):
    services, course = consented
    services.mixtures.dispense(
        services.courses.session_draft("sam", course), "sam", acknowledge_all=True
    )
    services.clock.advance(timedelta(days=3))
    draft = services.courses.session_draft("sam", course)
    plan = services.mixtures.check(draft, "sam")
    (block,) = [f for f in plan.findings if f.code == "course.too_soon"]
    assert block.overridable and "at least 5 days apart" in block.message
    with pytest.raises(DispenseRefused):
        services.mixtures.dispense(draft, "sam", acknowledge_all=True)
    signed = Signature(
        block.key, "drchen", PASSWORD, "benefit_outweighs_risk", "travelling next week"
    )
    made = services.mixtures.dispense(draft, "sam", [signed], acknowledge_all=True)
    assert made.overrides and services.courses.course("sam", course).held == 2


def test_a_session_booked_early_by_a_practitioner_is_a_warning_to_read(consented):
    services, course = consented
    services.mixtures.dispense(
        services.courses.session_draft("sam", course), "sam", acknowledge_all=True
    )
    day = services.clock.today() + timedelta(days=3)
    at = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
    services.courses.book("drchen", course, 2, at, early_reason="travelling next week")
    services.clock.advance(timedelta(days=3))
    plan = services.mixtures.check(services.courses.session_draft("sam", course), "sam")
    (warning,) = [f for f in plan.findings if f.code == "course.booked_early"]
    assert "booked early by Dr Mei Chen: travelling next week" in warning.message
    assert not plan.blocked


def test_two_terminals_cannot_both_make_one_session(consented):
    services, course = consented
    draft = services.courses.session_draft("sam", course)
    services.mixtures.dispense(draft, "sam", acknowledge_all=True)
    with pytest.raises(DispenseRefused) as refused:
        services.mixtures.dispense(draft, "sam", acknowledge_all=True)
    assert "course.session_held" in {f.code for f in refused.value.plan.findings}


@pytest.fixture
def submental(clinic):
    """Deoxycholic acid alone (Kybella), monthly: the label's six treatments."""
    receive(clinic, KYBELLA, "KY1", 60, 900)
    clinic.formulas.save(
        "drchen", "Submental", mixture(("deoxycholic acid", "20 mg")), "localised fat"
    )
    course = clinic.courses.plan(
        "drchen",
        "P-1",
        "localised_fat",
        "submental",
        (ZoneVolume("submental", 2000),),
        clinic.clock.today(),
        schedule="8 x 1 month (min 1 month)",
    )
    text = clinic.courses.consent_text("drchen", course.id)
    clinic.courses.sign_consent("drchen", course.id, text, "explained; the patient agreed")
    return clinic, course.id


def test_a_cumulative_limit_blocks_session_seven_of_a_six_treatment_product(submental):
    services, course = submental
    for _ in range(6):
        draft = services.courses.session_draft("sam", course)
        assert not services.mixtures.check(draft, "sam").blocked
        services.mixtures.dispense(draft, "sam", acknowledge_all=True)
        services.clock.advance(timedelta(days=31))
    plan = services.mixtures.check(services.courses.session_draft("sam", course), "sam")
    (block,) = [f for f in plan.findings if f.code == "course.max_sessions"]
    assert block.overridable
    assert "session 7 would be treatment 7; at most 6" in block.message
    for number in range(1, 7):
        assert f"session {number} (" in block.message
    assert "Kybella" in block.message or "label" in block.message


def test_a_limit_counts_mixtures_made_outside_the_course_too(submental):
    services, course = submental
    outside = mixture(("deoxycholic acid", "20 mg"))
    services.mixtures.dispense(outside, "sam", acknowledge_all=True)
    services.clock.advance(timedelta(days=10))
    plan = services.mixtures.check(services.courses.session_draft("sam", course), "sam")
    (block,) = [f for f in plan.findings if f.code == "course.min_interval"]
    assert "less than 1 month from batch" in block.message
    with unit_of_work(services.engine) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(BatchRow)).scalar() == 1


def test_a_session_made_too_long_before_its_booking_is_a_warning_to_read(consented):
    services, course = consented
    tomorrow = services.clock.now() + timedelta(days=1, hours=5)
    services.courses.book("sam", course, 1, tomorrow)
    plan = services.mixtures.check(services.courses.session_draft("sam", course), "sam")
    (warning,) = [f for f in plan.findings if f.code == "course.made_too_early"]
    assert f"booked for {tomorrow:%Y-%m-%d %H:%M}" in warning.message
    assert "make it closer to the session" in warning.message
    services.courses.book("sam", course, 1, services.clock.now() + timedelta(hours=2))
    plan = services.mixtures.check(services.courses.session_draft("sam", course), "sam")
    assert "course.made_too_early" not in _codes(plan)
