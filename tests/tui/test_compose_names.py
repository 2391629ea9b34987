"""Compose reads an ingredient by the name on the box, strength and size matched whole, and
offers the names it may mean to pick with the arrows and Ctrl+Space — at 80×24, on the demo
database, then the batch and the ledger read back."""

from __future__ import annotations

import pytest
from sqlmodel import select
from textual.widgets import Input, OptionList

from mesomix.db.tables import BatchLineRow, LotRow, MovementRow
from mesomix.services.demo import load_demo
from mesomix.services.uow import unit_of_work
from mesomix.tui.app import make_app
from mesomix.tui.screens.compose import PlanView
from mesomix.tui.screens.label import LabelScreen
from tests.factories import assert_ledger_exact
from tests.tui.pilot import settle
from tests.tui.test_compose import choose_patient, compose, findings, type_into

SIZE = (80, 24)


@pytest.fixture
def demo(services):
    load_demo(services)
    return services


def offered(screen) -> list[str]:
    picks = screen.query_one("#picks", OptionList)
    return [str(picks.get_option_at_index(i).prompt)[2:] for i in range(picks.option_count)]


def plan_products(screen) -> list[str]:
    return [row[1] for row in screen.query_one(PlanView).rows]


async def test_lidocaine_2_percent_is_planned_and_a_listed_name_is_taken_with_the_arrows(demo):
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_patient(pilot, "P-0003")
        await compose(pilot, ("lidocaine 2%", "20 mg"), final="5 mL")
        screen = app.screen
        said = findings(screen)
        assert not any("part of" in f or f.startswith("BLOCK") for f in said), said
        drawn = plan_products(screen)[0]
        assert "2%" in drawn and "1%" not in drawn and "0.3%" not in drawn
        names = offered(screen)
        assert len(names) > 2 and all("2%" in name for name in names), names
        assert not any("Juvederm" in name or "1%" in name for name in names)
        what = screen.query(".ingredient-row").first().query(Input).first()
        what.focus()
        await pilot.press("down", "down", "up", "down")  # the second below the first
        await pilot.press("ctrl+space")
        await settle(pilot)
        assert what.value == names[2] and what.has_focus
        assert screen.query_one("#picks", OptionList).option_count == 0
        assert plan_products(screen)[0].startswith(names[2])
        await pilot.press("f9")
        await settle(pilot)
        if not isinstance(app.screen, LabelScreen):  # warnings are read first
            await pilot.press(*["enter"] * 6)
            await settle(pilot)
        assert isinstance(app.screen, LabelScreen)
    code = next(p.code for p in demo.catalog.catalog().products.values() if p.name == names[2])
    with unit_of_work(demo.engine) as session:
        batch = session.exec(select(BatchLineRow.batch_id).order_by(BatchLineRow.id.desc())).first()
        lines = session.exec(select(BatchLineRow).where(BatchLineRow.batch_id == batch)).all()
        taken = session.exec(
            select(MovementRow, LotRow)
            .join(LotRow, LotRow.id == MovementRow.lot_id)
            .where(MovementRow.batch_id == batch, MovementRow.kind == "dispense")
        ).all()
    assert [line.product_code for line in lines if line.ingredient == 0] == [code]
    assert code in {lot.product_code for _, lot in taken}  # stock left the chosen product's lot
    assert_ledger_exact(demo)


@pytest.mark.parametrize(
    "typed, product",
    [
        ("Xylocaine 2% 10 mL", "xylocaine_2pct_10ml_mdv"),
        ("Lidocaine Hydrochloride Injection 2% 2 mL ampoule", "lidocaine_2pct_2ml_amp"),
        ("lidocaine 20mg/ml 5 mL", "lidocaine_2pct_5ml_amp"),
    ],
)
async def test_a_name_as_on_the_box_finds_its_product(demo, typed, product):
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_patient(pilot, "P-0003")
        await compose(pilot, (typed, "1 mL"), final="5 mL")
        name = demo.catalog.catalog().products[product].name
        assert plan_products(app.screen)[0].startswith(name)
        assert not any(f.startswith("BLOCK") for f in findings(app.screen))


async def test_a_strength_no_product_has_is_refused_saying_which_there_are(demo):
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_patient(pilot, "P-0003")
        await compose(pilot, ("lidocaine 3%", "20 mg"), final="5 mL")
        said = findings(app.screen)
        assert any("no lidocaine product is 3%: there are 1% and 2%" in f for f in said), said
        assert not plan_products(app.screen) or "Lidocaine" not in plan_products(app.screen)[0]
        what = app.screen.query(".ingredient-row").first().query(Input).first()
        await type_into(pilot, what, "")
        assert offered(app.screen) == []  # nothing of 3% to offer
