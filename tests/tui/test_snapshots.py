"""A few pictures of the main screens at 80×24 on a demo database with a fixed clock; every
screen's logic is tested elsewhere, these catch layouts that break (pytest-textual-snapshot)."""

from __future__ import annotations

from textual.widgets import Input

from mesomix.tui.app import make_app
from tests.tui.pilot import settle

SIZE = (80, 24)
PASSWORDS = {
    "sam": "demo-staff-2026",
    "drchen": "demo-practitioner-2026",
    "nadia": "demo-manager-2026",
}


def app_for(demo, name: str):
    app = make_app(demo, demo.accounts.sign_in(name, PASSWORDS[name]))
    app.cursor_blink = False  # type: ignore[attr-defined]
    return app


async def still(pilot) -> None:
    await settle(pilot)
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    # A DataTable sizes its columns when the app is idle after rows arrive: let it get there.
    for _ in range(3):
        await pilot.pause(0.05)
        await pilot.wait_for_scheduled_animations()


def test_sign_in(demo, snap_compare):
    app = make_app(demo)
    assert snap_compare(app, terminal_size=SIZE, run_before=still)


def test_compose_with_a_warning(demo, snap_compare):
    async def compose(pilot) -> None:
        await still(pilot)
        screen = pilot.app.screen
        screen.query_one("#patient").value = "P-0003"
        what, amount = screen.query(".ingredient-row").first().query(Input)
        what.value, amount.value = "lidocaine", "40 mg"
        screen.query_one("#final-volume", Input).value = "5 mL"
        await still(pilot)

    assert snap_compare(app_for(demo, "sam"), terminal_size=SIZE, run_before=compose)


def test_inventory(demo, snap_compare):
    assert snap_compare(app_for(demo, "nadia"), terminal_size=SIZE, run_before=still)


def test_patients(demo, snap_compare):
    async def patients(pilot) -> None:
        await still(pilot)
        await pilot.press("f3")
        await still(pilot)

    assert snap_compare(app_for(demo, "drchen"), terminal_size=SIZE, run_before=patients)


def test_reports(demo, snap_compare):
    async def reports(pilot) -> None:
        await still(pilot)
        await pilot.press("f6")
        await still(pilot)

    assert snap_compare(app_for(demo, "nadia"), terminal_size=SIZE, run_before=reports)
