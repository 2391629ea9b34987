"""Who ordered a mixture, chosen in Compose at 80×24 from the practitioners on record: kept on the
batch, printed on its label and counted under their name in the mixtures report."""

from __future__ import annotations

from sqlmodel import select
from textual.widgets import Select, Static

from mesomix.db.tables import BatchRow, UserRow
from mesomix.services.uow import unit_of_work
from mesomix.tui.app import make_app
from mesomix.tui.screens.compose import ComposeScreen, LabelScreen
from tests.tui.pilot import settle
from tests.tui.test_compose import choose_patient, compose

SIZE = (80, 24)


def last_batch(services) -> tuple[BatchRow, str | None]:
    with unit_of_work(services.engine) as session:
        batch = session.exec(select(BatchRow).order_by(BatchRow.id.desc())).first()
        ordered = session.get(UserRow, batch.prescriber_id) if batch.prescriber_id else None
        return batch, ordered.name if ordered else None


def ordered_by(services, who: str) -> int:
    frame = services.reports.report("nadia", "mixtures")
    return int(frame[frame["practitioner"] == who]["mixtures"].sum())


async def test_staff_chooses_who_ordered_the_mixture_by_keyboard(demo):
    before = ordered_by(demo, "Dr Hélène Dubois")
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ComposeScreen)
        picker = screen.query_one("#prescriber", Select)
        assert picker.is_blank()  # staff ordered nothing: they choose who did
        assert [value for _, value in picker._options if isinstance(value, str)] == [
            "drchen",
            "drdubois",
        ]
        await choose_patient(pilot, "P-0003")
        picker.focus()
        await pilot.press("enter", "down", "down", "enter")  # the list: blank, drchen, drdubois
        assert picker.value == "drdubois"
        await compose(pilot, ("lidocaine", "20 mg"), final="5 mL")
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, LabelScreen)
        label = str(app.screen.query_one("#label-text", Static).render())
        assert "Ordered by Dr Hélène Dubois" in label
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.query_one("#prescriber", Select).is_blank()  # the next one is chosen anew
    batch, ordered = last_batch(demo)
    assert ordered == "drdubois"
    assert "Ordered by Dr Hélène Dubois" in batch.label
    assert ordered_by(demo, "Dr Hélène Dubois") == before + 1


async def test_a_practitioner_making_a_mixture_ordered_it_unless_they_say_otherwise(demo):
    app = make_app(demo, demo.accounts.sign_in("drchen", "demo-practitioner-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#prescriber", Select).value == "drchen"
        await choose_patient(pilot, "P-0003")
        await compose(pilot, ("lidocaine", "20 mg"), final="5 mL")
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, LabelScreen)
    _, ordered = last_batch(demo)
    assert ordered == "drchen"
