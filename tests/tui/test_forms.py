"""The one dialog every small job uses: Enter goes on to the next field and submits only from the
last, so a form is never sent with the fields after the cursor still at their defaults."""

from __future__ import annotations

from sqlmodel import select
from textual.widgets import Input

from mesomix.db.tables import LotRow
from mesomix.services.uow import unit_of_work
from mesomix.tui.app import MesomixApp, make_app
from mesomix.tui.screens.inventory import InventoryScreen
from mesomix.tui.widgets.form import FormScreen
from tests.tui.pilot import settle


def lots_numbered(services, number: str) -> list[LotRow]:
    with unit_of_work(services.engine) as session:
        return list(session.exec(select(LotRow).where(LotRow.lot_number == number)))


def manager(services) -> MesomixApp:
    return make_app(services, services.accounts.sign_in("nadia", "demo-manager-2026"))


async def open_form(pilot, key: str) -> None:
    """Inventory (F5), then the form a key opens there."""
    for pressed in ("", "f5", key):
        if pressed:
            await pilot.press(pressed)
        await settle(pilot)


async def test_enter_goes_on_field_by_field_and_submits_from_the_last(demo):
    app = manager(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_form(pilot, "r")
        form = app.screen
        assert isinstance(form, FormScreen)
        typed = {
            "product": "kybella",
            "lot_number": "KB-ENTER",
            "expiry": "2028-03-31",
            "containers": "2",
            "supplier": "Pharma Direct",
        }
        for key, value in typed.items():
            assert app.focused is form.query_one(f"#form-{key}", Input)
            await pilot.press(*value, "enter")
            await settle(pilot)
            assert app.screen is form and not lots_numbered(demo, "KB-ENTER")
        assert app.focused is form.query_one("#form-unit_cost", Input)
        await pilot.press(*"12.50", "enter")  # the last field: this one submits
        await settle(pilot)
        assert isinstance(app.screen, InventoryScreen)
    (lot,) = lots_numbered(demo, "KB-ENTER")
    assert lot.product_code == "kybella_2ml_vial"


async def test_a_choice_first_takes_the_cursor_and_enter_goes_on_from_it(demo):
    app = manager(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_form(pilot, "a")  # adjust: its first field is the direction, a choice
        form = app.screen
        assert isinstance(form, FormScreen)
        direction = form.query_one("#form-direction")
        assert app.focused is direction
        await pilot.press("enter")
        assert app.focused is form.query_one("#form-volume", Input)


async def test_a_long_refusal_scrolls_and_the_buttons_stay_on_a_24_row_screen(demo):
    app = manager(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_form(pilot, "r")
        form = app.screen
        for key, value in {
            "product": "lidocaine",  # fits several products: each named
            "lot_number": "X-1",
            "expiry": "2028-02-30",
            "containers": "ten",
        }.items():
            form.query_one(f"#form-{key}", Input).value = value
        await pilot.click("#form-go")
        await settle(pilot)
        assert app.screen is form
        screen = form.region
        for button in ("#form-go", "#form-cancel"):
            region = form.query_one(button).region
            assert screen.contains_region(region) and region.height == 1, button
        problems = form.query_one("#form-problems")
        assert str(problems.render()).startswith("product:")
        assert form.query_one(".form-body").region.overlaps(problems.region)  # scrolled to
