"""Compose at 80×24: ingredients over the final volume asked are shown as the ingredients' total,
beside the volume asked, never under the name of the final volume; nothing is dispensed."""

from __future__ import annotations

from textual.widgets import Button

from mesomix.tui.app import make_app
from tests.factories import counts
from tests.tui.pilot import screen_text, settle
from tests.tui.test_compose import choose_patient, compose, findings


async def test_over_the_final_volume_says_what_was_asked(demo):
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    before = counts(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await choose_patient(pilot, "P-0003")
        await compose(pilot, ("lidocaine", "20 mg"), ("tranexamic acid", "3000 mg"), final="5 mL")
        shown = screen_text(app)
        assert "ingredients: over the 5 mL asked" in shown
        assert "32 mL" in shown.split("ingredients: over the 5 mL asked")[0].splitlines()[-1]
        assert any("more than the final volume 5 mL asked" in text for text in findings(app.screen))
        assert app.screen.query_one("#dispense", Button).disabled
    assert counts(demo) == before
