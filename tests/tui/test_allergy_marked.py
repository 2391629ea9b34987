"""The allergy the Patients screen's keys act on is marked by a character, not by the cursor's
colour alone, at 80×24: on the row under the cursor while the allergy list has focus, and on no
row otherwise; the allergy marked is the one changed in the database."""

from __future__ import annotations

from sqlmodel import select

from mesomix.db.tables import AllergyRow, PatientRow
from mesomix.services.uow import unit_of_work
from mesomix.tui.app import make_app
from mesomix.tui.screens.patients import CHOSEN
from tests.tui.pilot import screen_text, settle
from tests.tui.test_journeys import fill, open_patient, submit

SIZE = (80, 24)
DRCHEN = ("drchen", "demo-practitioner-2026")


def allergies_of(services, ref: str) -> list[AllergyRow]:
    with unit_of_work(services.engine) as session:
        patient = session.exec(select(PatientRow).where(PatientRow.ref == ref)).one()
        query = select(AllergyRow).where(AllergyRow.patient_id == patient.id)
        return list(session.exec(query.order_by(AllergyRow.id)))


def marked_lines(app) -> list[str]:
    return [line for line in screen_text(app).splitlines() if CHOSEN in line]


async def press(pilot, *keys: str) -> None:
    await settle(pilot)
    await pilot.press(*keys)
    await settle(pilot)


async def test_the_allergy_acted_on_is_marked_in_words_not_colour_alone(demo):
    methylparaben, parabens = allergies_of(demo, "P-0004")
    app = make_app(demo, demo.accounts.sign_in(*DRCHEN))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-0004")
        assert marked_lines(app) == []  # the patient list has focus: no allergy is chosen
        await press(pilot, "tab")  # to the allergy list
        assert app.focused.id == "allergy-list"
        (line,) = marked_lines(app)
        assert f"{CHOSEN}Methylparaben" in line.replace(" ", "")
        await press(pilot, "down")
        (line,) = marked_lines(app)
        assert f"{CHOSEN}Parabens" in line.replace(" ", "")
        await press(pilot, "x")
        await fill(pilot, reason="patch test negative for the parabens mix")
        await submit(pilot)
        await press(pilot, "shift+tab")
        assert app.focused.id != "allergy-list" and marked_lines(app) == []
    rows = {row.id: row.verification for row in allergies_of(demo, "P-0004")}
    assert rows[parabens.id] == "refuted" and rows[methylparaben.id] == "confirmed"
