"""Compose while typing: the check waits for a pause and is always of what the fields hold; the
plan and findings are drawn in views that wrap every word (a real demo database, 80×24)."""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input

from mesomix.services.demo import load_demo
from mesomix.tui.app import make_app
from mesomix.tui.screens.compose import FindingsView, PlanView
from tests.tui.pilot import settle

SIZE = (80, 24)


@pytest.fixture
def demo(services):
    load_demo(services)
    return services


def checked_volumes(services) -> list[str]:
    """The final volume of every draft the real service checks, in order."""
    seen: list[str] = []
    check = services.mixtures.check

    def recording(draft, user):  # type: ignore[no-untyped-def]
        seen.append(draft.final_volume)
        return check(draft, user)

    services.mixtures.check = recording
    return seen


async def start(pilot, patient: str, what: str, amount: str) -> None:
    screen = pilot.app.screen
    await settle(pilot)
    screen.query_one("#patient").value = patient
    first, dose = screen.query(".ingredient-row").first().query(Input)
    first.value, dose.value = what, amount
    screen.query_one("#final-volume", Input).focus()
    await settle(pilot)


def type_burst(app, text: str) -> None:
    """Keys as a terminal sends them in a burst: posted at once, not waiting for the app."""
    for key in text:
        app.post_message(events.Key({" ": "space"}.get(key, key), key))


async def test_a_burst_is_checked_for_its_last_value_and_shown(demo):
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, "P-0003", "lidocaine", "20 mg")
        seen = checked_volumes(demo)
        type_burst(app, "12 mL")
        await settle(pilot)
        assert app.screen.query_one("#final-volume", Input).value == "12 mL"
        assert seen and seen[-1] == "12 mL", seen
        assert app.screen.query_one(PlanView).rows[-1] == ("12 mL", "final volume", "")


async def test_a_key_typed_during_the_check_is_checked_again(demo):
    """The check of "5" is running when "0" is typed: its plan (5 mL) is never shown, and
    "50 mL" is checked once typing pauses again."""
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, "P-0003", "lidocaine", "20 mg")
        seen: list[str] = []
        check = demo.mixtures.check

        def typing_meanwhile(draft, user):  # type: ignore[no-untyped-def]
            seen.append(draft.final_volume)
            if len(seen) == 1:  # while this check runs, the person types on
                app.call_from_thread(type_burst, app, "0 mL")
            return check(draft, user)

        demo.mixtures.check = typing_meanwhile
        type_burst(app, "5")
        await settle(pilot)
        assert app.screen.query_one("#final-volume", Input).value == "50 mL"
        assert seen[0] == "5" and seen[-1] == "50 mL", seen
        assert app.screen.query_one(PlanView).rows[-1] == ("50 mL", "final volume", "")


async def test_a_long_finding_is_wrapped_whole_in_a_narrow_column(demo):
    """At 80 columns a warning takes several lines of the findings box: every word is there to
    read (scrolled to if the box is full), none cut off at the box's edge."""
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, "P-0009", "lidocaine", "40 mg")  # an unconfirmed lidocaine allergy
        view = app.screen.query_one(FindingsView)
        (warning,) = [text for text in view.texts if text.startswith("WARNING:")]
        lines = view.text()
        assert len(warning) > view.scrollable_content_region.width  # it had to wrap
        assert all(len(line) <= view.scrollable_content_region.width for line in lines)
        assert " ".join(warning.split()) in " ".join(" ".join(lines).split())
        assert view.line_count > view.scrollable_content_region.height  # so the box scrolls
