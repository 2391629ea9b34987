"""Verifying at the bench in Compose, at 80×24: Ctrl+B opens the scanner's dialog; each vial
scanned (the scanner's keys, its group separator as Ctrl+], Enter after each) is checked with
the mixture at once — ticked, followed, or a BLOCK naming what was scanned and what was
expected, put back with Ctrl+R — and the batch records the draws verified by scan."""

from __future__ import annotations

import tomllib
from datetime import timedelta

from sqlmodel import select
from textual.widgets import Button, Static

from mesomix.db.tables import BatchLineRow
from mesomix.reference import data_dir
from mesomix.services.uow import unit_of_work
from mesomix.tui.app import make_app
from mesomix.tui.screens.bench import BenchScanScreen
from mesomix.tui.screens.compose import ComposeScreen, LabelScreen
from tests.factories import assert_ledger_exact, set_lot
from tests.tui.pilot import settle
from tests.tui.test_compose import choose_patient, compose

SIZE = (80, 24)
GTINS = tomllib.loads((data_dir() / "demo" / "gtins.toml").read_text(encoding="utf-8"))["gtin"]
BOX = {g["product"]: g["code"] for g in GTINS if g["packaging"] == "box"}


def keys_of(gtin: str, lot: str, expiry, serial: str = "S1") -> list[str]:
    """What the scanner types: identifier, GTIN, expiry, lot, separator, serial."""
    return [*f"]d201{gtin}17{expiry:%y%m%d}10{lot}", "ctrl+right_square_bracket", *f"21{serial}"]


def said(app) -> str:
    return str(app.screen.query_one("#bench-lines", Static).render())


async def scan(pilot, keys: list[str]) -> None:
    await pilot.press(*keys, "enter")
    await settle(pilot)
    await settle(pilot)


async def test_each_vial_is_scanned_at_the_bench_and_the_batch_says_so(demo):
    today = demo.clock.today()
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        await choose_patient(pilot, "P-0003")
        await compose(
            pilot,
            ("lidocaine", "20 mg"),
            ("tranexamic acid", "50 mg"),
            ("cyanocobalamin", "500 mcg"),
        )
        compose_screen = app.screen
        drawn = [draw.product.code for draw in compose_screen._plan.draws]
        assert len(drawn) == 3
        expiry = today + timedelta(days=700)  # later than every demo lot: followed, and said
        expired = today - timedelta(days=1)
        for at, code in enumerate(drawn):
            demo.stock.receive("nadia", code, f"BENCH-{at}", expiry, 3)
        old = demo.stock.receive("nadia", drawn[0], "OLD-1", today + timedelta(days=10), 2)
        set_lot(demo, old, expiry=expired)

        await pilot.press("ctrl+b")
        await settle(pilot)
        assert isinstance(app.screen, BenchScanScreen)
        await scan(pilot, keys_of(BOX[drawn[0]], "BENCH-0", expiry))
        assert "verified by scan:" in said(app) and "BENCH-0" in said(app)
        # a vial of a product the mixture does not draw: a BLOCK naming both, then put back
        await scan(pilot, keys_of(BOX["kybella_2ml_vial"], "KB-9", expiry))
        assert "BLOCK: scan 2: Kybella" in said(app) and "expected" in said(app)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await settle(pilot)
        assert "Kybella" not in said(app)
        # an expired lot of the right product: a BLOCK, put back
        await scan(pilot, keys_of(BOX[drawn[0]], "OLD-1", expired))
        assert "EXPIRED" in said(app)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await settle(pilot)
        # typing is not scanning: refused, not kept; a syringe's label is read back as its batch
        await scan(pilot, list("lidocaine"))
        assert "is not a scan" in said(app)
        await scan(pilot, list("MXB000000042"))
        assert "the label of batch 42" in said(app)
        for at, code in enumerate(drawn[1:], start=1):
            await scan(pilot, keys_of(BOX[code], f"BENCH-{at}", expiry))
        assert said(app).count("verified by scan:") == 3 and "BLOCK" not in said(app), said(app)
        assert "so it is drawn from instead of lot" in said(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is compose_screen
        assert not compose_screen.query_one("#dispense", Button).disabled
        await pilot.press("f9")
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, LabelScreen), compose_screen.query_one(
            "#status", Static
        ).render()
        for key, form in (("d", "pdf"), ("z", "zpl")):  # for the label printer
            await pilot.press(key)
            await settle(pilot)
            saved = str(app.screen.query_one("#label-status", Static).render())
            assert saved.startswith("saved to ") and saved.endswith(f"-label-62mm.{form}")
    with unit_of_work(demo.engine) as session:
        lines = session.exec(select(BatchLineRow).order_by(BatchLineRow.id.desc()).limit(3)).all()
    assert {line.product_code: line.verified for line in lines} == dict.fromkeys(drawn, "scan")
    assert_ledger_exact(demo)
