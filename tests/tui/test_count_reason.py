"""A manager's count at 80×24 that differs from the books: the form says by how much as it is
typed, refuses it without a reason, books it with the one chosen; the waste report on the
Reports screen says the reason in words. The database is checked, not only the screen."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from textual.widgets import DataTable, Select

from mesomix.db.tables import MovementRow
from mesomix.services.uow import unit_of_work
from mesomix.tui.app import make_app
from mesomix.tui.screens.inventory import InventoryScreen
from mesomix.tui.widgets.form import FormScreen
from tests.factories import assert_ledger_exact
from tests.tui.pilot import screen_text, settle
from tests.tui.test_journeys import choose_row, fill, problems, submit

SIZE = (80, 24)
MDV10 = "cyanocobalamin_1000mcg_10ml_mdv"


def count_movements(services, lot: int) -> list[MovementRow]:
    with unit_of_work(services.engine) as session:
        query = sa.select(MovementRow).where(MovementRow.lot_id == lot, MovementRow.kind == "count")
        return list(session.scalars(query))


async def test_a_count_short_of_the_books_asks_why_then_reports_it_in_words(demo):
    expiry = demo.clock.today() + timedelta(days=300)
    lot = demo.stock.receive("nadia", MDV10, "CNT1", expiry, 5)  # five 10 mL vials
    app = make_app(demo, demo.accounts.sign_in("nadia", "demo-manager-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_row(pilot, "#lot-list", str(lot))
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        await fill(pilot, sealed="4")
        assert "1 vial (10 mL) less than the books: choose a reason." in screen_text(app)
        await submit(pilot)
        assert isinstance(app.screen, FormScreen)  # refused: stays open, nothing written
        assert "the shelf holds 10 mL less than the books: choose why" in problems(pilot)
        assert count_movements(demo, lot) == []
        # chosen by keyboard: Space opens the list, the arrows move, Enter takes it
        reason = app.screen.query_one("#form-reason", Select)
        reason.focus()
        await pilot.press("space", "down", "enter")
        await settle(pilot)
        assert reason.value == "breakage"
        await submit(pilot)
        assert isinstance(app.screen, InventoryScreen)
        assert "−10 mL booked: breakage" in screen_text(app)
    (movement,) = count_movements(demo, lot)
    assert movement.reason == "breakage" and movement.quantity_ul == -10_000
    assert_ledger_exact(demo)

    app = make_app(demo, demo.accounts.sign_in("nadia", "demo-manager-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        app.screen.query_one("#report-name", Select).value = "waste"
        await settle(pilot)
        table = app.screen.query_one("#report-table", DataTable)
        headings = [str(column.label) for column in table.columns.values()]
        assert "reason code" not in headings  # the screen says the words
        cells = [str(cell) for row in range(table.row_count) for cell in table.get_row_at(row)]
        assert "breakage: broken or spoilt, not booked as waste" in cells
        assert "breakage" not in cells
