"""The pharmacy's week on SQLite and PostgreSQL: the worklist of sessions to prepare, with
consent and stock ready or not; the forecast of what booked sessions need, a shortfall three
weeks ahead seen by the manager with what to order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mesomix.domain.course import Standing
from mesomix.domain.course.plan import ZoneVolume
from mesomix.services.courses import CourseRefused
from mesomix.services.errors import PermissionDenied
from tests.factories import mixture, receive

B12 = "cyanocobalamin_1000mcg_1ml_vial"
SALINE = "sodium_chloride_09_10ml_vial"


@pytest.fixture
def clinic(clinic_on_both):
    clinic_on_both.formulas.save(
        "drchen", "Hair B12", mixture(("cyanocobalamin", "1000 mcg"), final="2 mL"), "hair loss"
    )
    return clinic_on_both


def _course(services, patient: str, consent: bool = True) -> int:
    course = services.courses.plan(
        "drchen", patient, "hair", "hair_b12", (ZoneVolume("scalp", 2000),), services.clock.today()
    )
    if consent:
        text = services.courses.consent_text("drchen", course.id)
        services.courses.sign_consent("drchen", course.id, text, "explained; agreed")
    return course.id


def _at(services, days: int, hour: int) -> datetime:
    day = services.clock.today() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_the_worklist_says_what_to_prepare_when_and_what_is_not_ready(clinic):
    receive(clinic, B12, "B1", 5)
    receive(clinic, SALINE, "NS1", 5)
    ready = _course(clinic, "P-1")
    clinic.courses.book("sam", ready, 1, _at(clinic, 0, 14))
    unconsented = _course(clinic, "P-2", consent=False)
    items = clinic.courses.worklist("sam")
    assert [(i.course_id, i.number) for i in items] == [(unconsented, 1), (ready, 1)]
    due, booked = items
    assert (due.standing, due.booked_for, due.not_ready) == (Standing.DUE, None, "no consent")
    assert booked.standing is Standing.BOOKED and booked.not_ready == ""
    assert booked.prepare_at == _at(clinic, 0, 13)
    assert (booked.total, booked.zones) == (11, "scalp 2 mL")
    assert booked.formula == "Hair B12 (version 1)"


def test_the_worklist_counts_the_stock_in_the_order_sessions_come(clinic):
    receive(clinic, B12, "B1", 1)
    receive(clinic, SALINE, "NS1", 5)
    first, second = _course(clinic, "P-1"), _course(clinic, "P-2")
    clinic.courses.book("sam", second, 1, _at(clinic, 0, 16))
    clinic.courses.book("sam", first, 1, _at(clinic, 0, 10))
    items = clinic.courses.worklist("sam")
    assert [(i.course_id, i.stock_ready) for i in items] == [(first, True), (second, False)]
    assert items[1].not_ready == "short of stock"


def test_a_week_shows_the_sessions_booked_in_it_and_nothing_held(clinic):
    receive(clinic, B12, "B1", 10)
    receive(clinic, SALINE, "NS1", 10)
    course = _course(clinic, "P-1")
    for number, days in ((1, 0), (2, 7), (3, 14)):
        clinic.courses.book("sam", course, number, _at(clinic, days, 11))
    week = clinic.courses.worklist("sam", days=7)
    assert [i.number for i in week] == [1]
    fortnight = clinic.courses.worklist("sam", days=8)
    assert [i.number for i in fortnight] == [1, 2]
    clinic.mixtures.dispense(
        clinic.courses.session_draft("sam", course), "sam", acknowledge_all=True
    )
    assert [i.number for i in clinic.courses.worklist("sam", days=8)] == [2]
    with pytest.raises(CourseRefused, match="1 to 31 days"):
        clinic.courses.worklist("sam", days=0)


def test_the_manager_sees_a_shortfall_three_weeks_ahead(clinic):
    receive(clinic, B12, "B1", 2)
    receive(clinic, SALINE, "NS1", 10)
    course = _course(clinic, "P-1")
    for number, days in ((1, 6), (2, 13), (3, 21)):
        clinic.courses.book("sam", course, number, _at(clinic, days, 11))
    seen = clinic.courses.forecast("nadia", 30)
    assert seen.sessions == 3
    (short,) = seen.short
    assert short.product == B12 and seen.names[B12].startswith("Cyanocobalamin")
    assert short.first_short == clinic.clock.today() + timedelta(days=21)
    assert (short.short_containers, short.order_containers) == (1, 1)
    assert seen.products[-1].short_ul == 0  # the saline is enough
    assert clinic.courses.forecast("nadia", 7).sessions == 1
    with pytest.raises(PermissionDenied):
        clinic.courses.forecast("sam", 30)
    with pytest.raises(CourseRefused, match="7, 30, 90 days, not 45"):
        clinic.courses.forecast("nadia", 45)


def test_a_lot_that_expires_before_the_session_is_no_stock_for_it(clinic):
    receive(clinic, B12, "SOON", 10, expires_in_days=10)
    receive(clinic, SALINE, "NS1", 10)
    course = _course(clinic, "P-1")
    clinic.courses.book("sam", course, 1, _at(clinic, 14, 11))
    (short,) = clinic.courses.forecast("nadia", 30).short
    assert (short.product, short.usable_ul, short.short_containers) == (B12, 0, 1)


def test_a_weeks_worklist_counts_a_lot_only_until_it_expires(clinic):
    """First expiry first through the week: the lot that expires on day 3 serves day 1's
    session, and day 5's takes the lot in date beyond the week, or is short without it."""
    receive(clinic, B12, "SOON", 2, expires_in_days=3)
    receive(clinic, SALINE, "NS1", 10)
    first, later = _course(clinic, "P-1"), _course(clinic, "P-2")
    clinic.courses.book("sam", first, 1, _at(clinic, 1, 10))
    clinic.courses.book("sam", later, 1, _at(clinic, 5, 10))
    week = clinic.courses.worklist("sam", days=7)
    assert [(i.course_id, i.stock_ready) for i in week] == [(first, True), (later, False)]
    receive(clinic, B12, "LATE", 1, expires_in_days=200)
    week = clinic.courses.worklist("sam", days=7)
    assert [(i.course_id, i.stock_ready) for i in week] == [(first, True), (later, True)]
