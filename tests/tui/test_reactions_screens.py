"""Reactions in the application (the demo database, 80×24, the Pilot): a practitioner records
an allergic reaction after a mixture in a patient's history (R) and confirms the allergy it
proposes (E), which the next check then blocks on; a manager told of a lot signal on Inventory
opens it (G), reads whom to call and quarantines the lot from it (Q)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from mesomix.db.tables import AllergyRow, LotRow, PatientRow
from mesomix.domain.reactions import ReactionWords
from mesomix.services.uow import unit_of_work
from mesomix.tui.app import make_app
from mesomix.tui.screens.signals import SignalsScreen
from mesomix.tui.widgets.form import FormScreen
from tests.tui.pilot import screen_text, settle
from tests.tui.test_journeys import choose_row, fill, open_patient, submit

SIZE = (80, 24)
INFECTION = ReactionWords(
    "infection", "abscess", "1 days after", "", "moderate", "", "antibiotics", "recovering"
)


def first_batch(demo, ref: str) -> int:
    return demo.people.history("drchen", ref)[-1].batch_id


async def test_a_practitioner_records_an_allergic_reaction_and_confirms_its_allergy(demo):
    batch = first_batch(demo, "P-0004")
    demo.clock.advance(timedelta(days=1))
    app = make_app(demo, demo.accounts.sign_in("drchen", "demo-practitioner-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-0004")
        await choose_row(pilot, "#history-list", str(batch))
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        await fill(
            pilot,
            kind="allergic reaction",
            what="urticaria on the neck",
            onset="1 days after",
            severity="moderate",
            treatment="antihistamine",
        )
        await submit(pilot)
        text = screen_text(app)
        assert "REACTION reaction 1: moderate" in text
        assert "it proposes an allergy to" in text and "(E to decide)" in text
        await pilot.press("e")
        await settle(pilot)
        await fill(pilot, decision="only:lidocaine_hcl")
        await submit(pilot)
        assert "allergy recorded, confirmed (1): it blocks from now" in screen_text(app)
    with unit_of_work(demo.engine) as session:
        patient = session.execute(sa.select(PatientRow.id).where(PatientRow.ref == "P-0004"))
        allergy = session.execute(
            sa.select(AllergyRow.verification, AllergyRow.criticality).where(
                AllergyRow.patient_id == patient.scalar(),
                AllergyRow.substance_code == "lidocaine_hcl",
            )
        ).one()
    assert tuple(allergy) == ("confirmed", "high")


async def test_a_manager_opens_a_lot_signal_and_quarantines_its_lot(demo):
    one, other = first_batch(demo, "P-0002"), first_batch(demo, "P-0003")
    demo.clock.advance(timedelta(days=3))
    demo.reactions.record("drchen", "P-0002", one, INFECTION)
    demo.reactions.record("drchen", "P-0003", other, INFECTION)
    (view, *_) = demo.reactions.signals("nadia")
    app = make_app(demo, demo.accounts.sign_in("nadia", "demo-manager-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        assert "lot signal" in screen_text(app) and "G shows what and whom" in screen_text(app)
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, SignalsScreen)
        text = screen_text(app)
        assert "Patients to call:" in text and "(P-0002)" in text and "(P-0003)" in text
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        await fill(pilot, reason="signal: two infections")
        await submit(pilot)
    with unit_of_work(demo.engine) as session:
        status = session.execute(
            sa.select(LotRow.status).where(LotRow.id == view.signal.lot_id)
        ).scalar()
    assert status == "quarantined"
