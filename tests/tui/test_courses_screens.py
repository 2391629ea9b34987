"""Courses in the application, driven by the Pilot on the demo database and checked in the
database afterwards: a practitioner plans a course and takes the consent on the Courses screen;
staff prepare session 1 from the worklist (Sessions) and dispense it in Compose; a session
booked too soon is refused in the form, naming the earliest day."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select
from textual import events
from textual.widgets import DataTable, Input, Select, Static

from mesomix.db.tables import BatchRow
from mesomix.domain.course.plan import ZoneVolume
from mesomix.services.uow import unit_of_work
from mesomix.tui import app as tui_app
from mesomix.tui.app import make_app
from mesomix.tui.screens.compose import ComposeScreen
from mesomix.tui.screens.consent import ConsentScreen
from mesomix.tui.screens.courses import CoursesScreen
from mesomix.tui.screens.sessions import SessionsScreen
from tests.tui.pilot import settle
from tests.tui.test_journeys import fill, problems, submit

SIZE = (80, 24)


def consented_course(demo, patient: str = "P-0010") -> int:
    """A hair course for a patient from today, consented, session 1 booked for this afternoon."""
    course = demo.courses.plan(
        "drchen",
        patient,
        "hair",
        "hair_restoration",
        (ZoneVolume("scalp", 4000),),
        demo.clock.today(),
    )
    text = demo.courses.consent_text("drchen", course.id)
    demo.courses.sign_consent("drchen", course.id, text, "explained; agreed")
    demo.courses.book("sam", course.id, 1, demo.clock.now() + timedelta(hours=5))
    return course.id


async def to_worklist(pilot) -> None:
    """Staff on Compose, as they sign in, press F12."""
    await settle(pilot)
    await pilot.press("f12")
    await settle(pilot)


async def test_staff_prepare_session_one_from_the_worklist(demo):
    course = consented_course(demo)
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await to_worklist(pilot)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        table = screen.query_one("#session-list", DataTable)
        assert f"{course}/1" in [row.value for row in table.rows]
        table.move_cursor(row=table.get_row_index(f"{course}/1"))
        await settle(pilot)
        detail = str(screen.query_one("#session-detail", Static).render())
        assert "session 1 of 11" in detail and "Ready" in detail
        await pilot.press("enter")
        await settle(pilot)
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        await settle(pilot)
        draft = compose.draft()
        assert (draft.course, draft.session, draft.patient) == (course, 1, "P-0010")
        assert f"Session 1 of course {course}" in str(compose.query_one("#status", Static).render())
        await pilot.press("f9")
        await settle(pilot)
        assert "Dispensed batch" in str(compose.query_one("#status", Static).render())
    with unit_of_work(demo.engine) as session:
        batch = session.exec(select(BatchRow).order_by(BatchRow.id.desc())).first()
    assert batch is not None and batch.course_session_id is not None
    assert demo.courses.course("sam", course).held == 1


def worklist_rows(app) -> list[str]:
    screen = app.screen
    assert isinstance(screen, SessionsScreen)
    return [str(row.value) for row in screen.query_one("#session-list", DataTable).rows]


async def test_keys_typed_after_f12_go_to_the_worklist_never_to_compose(demo):
    """The worklist is read before it is shown: keys typed meanwhile wait for it at the gate,
    and are not typed into the Compose field that had the cursor."""
    consented_course(demo)
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        field = app.screen.query_one("#final-volume", Input)
        field.focus()
        await settle(pilot)
        before = field.value
        for key in ("f12", "w", "x", "1"):  # a burst, as a terminal sends it
            app.post_message(events.Key(key, None if key == "f12" else key))
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
        heading = str(app.screen.query_one("#sessions-heading", Static).render())
        assert heading.endswith("to prepare in the next 7 days")
        assert field.value == before


async def test_the_worklist_read_again_on_return_shows_a_session_booked_meanwhile(demo):
    course = consented_course(demo)
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await to_worklist(pilot)
        assert f"{course}/1" in worklist_rows(app)
        await pilot.press("f2")
        await settle(pilot)
        other = consented_course(demo, "P-0009")  # another terminal, meanwhile
        await pilot.press("f12")
        await settle(pilot)
        assert {f"{course}/1", f"{other}/1"} <= set(worklist_rows(app))


async def test_a_worklist_not_read_in_time_ahead_is_read_by_the_screen(demo, monkeypatch):
    """The App waits a moment at most for the rows; past it, the screen opens and reads them."""
    course = consented_course(demo)
    monkeypatch.setattr(tui_app, "AHEAD", timedelta(0))
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await to_worklist(pilot)
        assert f"{course}/1" in worklist_rows(app)


async def test_a_practitioner_plans_a_course_and_takes_the_consent(demo):
    app = make_app(demo, demo.accounts.sign_in("drchen", "demo-practitioner-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f11")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CoursesScreen)
        screen.query_one("#courses-patient", Select).value = "P-0010"
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await fill(pilot, indication="face", formula="hair_restoration", zones="scalp 40 mL")
        await submit(pilot)
        assert "check the decimal point" in problems(pilot)  # refused in the form, kept open
        app.screen.query_one("#form-zones", Input).value = ""
        await fill(pilot, zones="face_middle 2 mL")
        await submit(pilot)
        assert isinstance(app.screen, CoursesScreen)
        table = screen.query_one("#course-list", DataTable)
        assert table.row_count == 1
        table.focus()
        await settle(pilot)
        card = str(screen.query_one("#course-card", Static).render())
        assert "facial rejuvenation" in card.lower() or "face" in card
        assert "consent: none in force" in card
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, ConsentScreen)
        app.screen.query_one("#consent-statement", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CoursesScreen)
        assert "consent: signed" in str(screen.query_one("#course-card", Static).render())
    (course,) = demo.courses.courses("drchen", "P-0010")
    assert course.consent is not None and course.consent.explained_by == "Dr Mei Chen"


async def test_a_session_booked_too_soon_is_refused_in_the_form(demo):
    course = consented_course(demo)
    draft = demo.courses.session_draft("sam", course)
    demo.mixtures.dispense(draft, "sam", acknowledge_all=True)
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f11")
        await settle(pilot)
        screen = app.screen
        screen.query_one("#courses-patient", Select).value = "P-0010"
        await settle(pilot)
        screen.query_one("#course-list", DataTable).focus()
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        tomorrow = demo.clock.today() + timedelta(days=1)
        await fill(pilot, when=f"{tomorrow} 10:00")
        await submit(pilot)
        said = problems(pilot)
        earliest = demo.clock.today() + timedelta(days=5)
        assert f"not before {earliest}" in said
        await fill(pilot, early="travelling")
        await submit(pilot)
        assert "only a practitioner may book it early" in problems(pilot)


async def test_the_manager_sees_a_shortfall_three_weeks_ahead_in_reports(demo):
    """Three booked sessions a week apart and stock in date for two: the forecast's chart and
    table say which day is short and what to order."""
    from mesomix.tui.screens.reports import ReportsScreen

    formula = mixture_formula(demo)
    course = demo.courses.plan(
        "drchen", "P-0010", "hair", formula, (ZoneVolume("scalp", 2000),), demo.clock.today()
    )
    for number, days in ((1, 6), (2, 13), (3, 21)):
        demo.courses.book("sam", course.id, number, demo.clock.now() + timedelta(days=days))
    app = make_app(demo, demo.accounts.sign_in("nadia", "demo-manager-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReportsScreen)
        screen.query_one("#report-name", Select).value = "forecast"
        await settle(pilot)
        chart = str(screen.query_one("#report-chart", Static).render())
        short_day = demo.clock.today() + timedelta(days=21)
        assert f"{short_day:%m-%d}" in chart and "SHORT 2 mL" in chart
        table = screen.query_one("#report-table", DataTable)
        assert table.row_count >= 1


def mixture_formula(demo) -> str:
    """A formula drawing one 2 mL vial a session, of which the only lot in use holds one."""
    from mesomix.domain.mixture import DraftIngredient, DraftMixture

    for lot in demo.stock.lots("nadia"):
        if lot.product_code == "kybella_2ml_vial" and lot.status == "available":
            demo.stock.set_status("nadia", lot.lot_id, "quarantined", "kept aside for the test")
    demo.stock.receive(
        "nadia", "kybella_2ml_vial", "FORECAST1", demo.clock.today() + timedelta(days=200), 2
    )
    draft = DraftMixture((DraftIngredient("deoxycholic acid", "20 mg", "kybella_2ml_vial"),))
    code, _ = demo.formulas.save("drchen", "Forecast test", draft, "localised fat")
    return code
