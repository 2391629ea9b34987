"""How a report's frame reads on screen: names first and cut, no internal codes or ids, plain
words and figures (the export keeps every column as it is)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd

from mesomix.tui.screens.reports import counted, detail, readable


def manager_on_demo(services):
    """The app on the demo data set, signed in as its manager."""
    from mesomix.tui.app import make_app

    return make_app(services, services.accounts.sign_in("nadia", "demo-manager-2026"))


async def to_reports(pilot) -> None:
    """F6 once the app has started, and the first report run."""
    from tests.tui.pilot import settle

    await settle(pilot)
    await pilot.press("f6")
    await settle(pilot)


def test_a_report_reads_as_a_manager_would_write_it():
    frame = pd.DataFrame(
        {
            "product": ["lidocaine_2pct_2ml_amp"],
            "product_name": ["Lidocaine Hydrochloride Injection 2% 2 mL ampoule"],
            "lot_id": [7],
            "within_days": [30],
            "on_hand_ml": [19.0],
            "value_at_risk": [1234.5],
            "below_reorder": [True],
            "made_at": [pd.Timestamp("2026-11-24 09:30", tz="UTC")],
        }
    )
    headings, (row,) = readable(frame, ZoneInfo("Europe/Paris"))
    assert headings == ["product name", "on hand mL", "value at risk", "below reorder", "made at"]
    assert row == ["Lidocaine Hydrochloride…", "19", "1,234.50", "yes", "2026-11-24 10:30"]


def test_without_a_name_the_code_is_kept():
    headings, _ = readable(pd.DataFrame({"product": ["x"], "batches": [1]}), ZoneInfo("UTC"))
    assert headings == ["product", "batches"]


def test_stock_by_product_heads_its_count_of_lots_as_the_usable_ones():
    """'lots 1' beside 'unusable mL 120' read as wrong: the count is of usable lots only."""
    headings, _ = readable(
        pd.DataFrame({"product": ["x"], "unusable_ml": [120.0], "lots": [1]}), ZoneInfo("UTC")
    )
    assert headings == ["product", "unusable mL", "usable lots"]


def test_the_line_under_the_table_names_the_product_whole_and_a_lot_by_its_number():
    name = "Cyanocobalamin Injection USP 1000 mcg/mL 10 mL multiple-dose vial (benzyl alcohol 1.5%)"
    code = "cyanocobalamin_1000mcg_10ml_mdv"
    utc = ZoneInfo("UTC")
    assert detail({"product": code, "product_name": name, "lots": 1}, utc) == f"{name} · {code}"
    lot = {
        "product": code,
        "product_name": name,
        "lot_id": 4,
        "lot_number": "B1",
        "status": "available",
    }
    assert detail({**lot, "expiry": "2026-11-01", "expired": True}, utc) == (
        f"{name} · {code} · lot B1 · available · expiry 2026-11-01, expired"
    )
    assert detail({**lot, "expiry": "2027-03-31", "expired": False}, utc).endswith(
        "lot B1 · available · expiry 2027-03-31"
    )
    assert detail({"practitioner": "Dr Chen", "mixtures": 3}, utc) == ""


def test_counts_read_as_words():
    assert [counted(0, "row"), counted(1, "row"), counted(2, "batch", "batches")] == [
        "no rows",
        "1 row",
        "2 batches",
    ]


async def test_a_lot_number_and_enter_run_the_recall_and_ctrl_e_exports_it_by_lot(
    demo, tmp_path, monkeypatch
):
    from textual.widgets import DataTable, Input, Select

    from mesomix.tui.widgets.form import FormScreen
    from tests.tui.pilot import settle
    from tests.tui.test_inventory_screen import dispensed_lot

    monkeypatch.setenv("HOME", str(tmp_path))
    app = manager_on_demo(demo)
    number, batches = dispensed_lot(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_reports(pilot)
        screen = app.screen
        assert screen.query_one("#report-name", Select).value == "stock-products"
        screen.query_one("#report-lot", Input).focus()
        await pilot.press(*number, "enter")  # a lot number: that is a recall
        await settle(pilot)
        assert screen.query_one("#report-name", Select).value == "recall"
        assert screen.query_one("#report-table", DataTable).row_count == len(batches)
        assert app.focused is screen.query_one("#report-lot", Input)
        await pilot.press("ctrl+e")  # from the lot field too
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        await pilot.click("#form-go")
        await settle(pilot)
    (written,) = tmp_path.glob("mesomix-recall-*.csv")
    assert number.replace("/", "_") in written.name
    assert written.read_text(encoding="utf-8").count("\n") == len(batches) + 1


def test_stock_by_product_puts_the_low_stock_figures_first_and_unusable_stock_where_there_is_some():
    """Sealed containers and the suggested order beside the name, headed as Inventory's low-stock
    list, then mL on hand and unusable mL: all of them at 80 columns. No unusable stock reads
    blank, so the products holding some stand out (the export keeps the 0)."""
    frame = pd.DataFrame(
        {
            "product": ["a", "b"],
            "product_name": ["Lidocaine 2% ampoule", "Biotin 5 mg/mL ampoule"],
            "sealed_containers": [3, 40],
            "suggested_order": pd.array([2, None], dtype="Int64"),
            "on_hand_ml": [6.0, 80.0],
            "unusable_ml": [30.0, 0.0],
            "value": [3.0, 40.0],
            "unusable_value": [15.0, 0.0],
        }
    )
    headings, rows = readable(frame, ZoneInfo("UTC"))
    assert headings[:5] == [
        "product name",
        "sealed",
        "suggested order",
        "on hand mL",
        "unusable mL",
    ]
    assert rows == [
        ["Lidocaine 2% ampoule", "3", "2", "6", "30", "3.00", "15.00"],
        ["Biotin 5 mg/mL ampoule", "40", "", "80", "", "40.00", ""],
    ]


async def test_an_export_onto_an_existing_file_asks_and_only_a_second_export_replaces_it(
    demo, tmp_path
):
    """At 80×24: Export onto a file that is there says so and writes nothing; Escape leaves the
    old file as it was; Export again on the same file replaces it, whole."""
    from textual.widgets import Input, Static

    from mesomix.tui.screens.reports import ReportsScreen
    from mesomix.tui.widgets.form import FormScreen
    from tests.tui.pilot import screen_text, settle

    app = manager_on_demo(demo)
    target = tmp_path / "stock.csv"
    target.write_text("last month's count\n", encoding="utf-8")

    async def export_to(pilot, path: str) -> None:
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        app.screen.query_one("#form-path", Input).focus()
        await pilot.press(*path, "enter")  # Enter in the last field is Export
        await settle(pilot)

    def said() -> str:
        return str(app.screen.query_one("#form-problems", Static).render())

    async with app.run_test(size=(80, 24)) as pilot:
        await to_reports(pilot)
        await export_to(pilot, str(target))
        assert isinstance(app.screen, FormScreen)  # refused: the form stays, with the reason
        assert "already exists. Export again to replace it" in said()
        assert "Export again to replace it" in screen_text(app)  # in view at 80×24
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ReportsScreen)
        assert target.read_text(encoding="utf-8") == "last month's count\n"

        await export_to(pilot, str(target))  # a new form asks again: no earlier "yes" carries
        assert isinstance(app.screen, FormScreen) and "already exists" in said()
        assert target.read_text(encoding="utf-8") == "last month's count\n"
        await pilot.press("enter")  # the second Export on the same file: replace it
        await settle(pilot)
        assert isinstance(app.screen, ReportsScreen)
        assert "rows written to" in screen_text(app)
    written = target.read_text(encoding="utf-8")
    assert written.startswith('"product","product_name","sealed_containers",')
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("stock")] == ["stock.csv"]


async def test_at_80_by_24_the_line_under_stock_by_product_names_the_highlighted_product_whole(
    demo,
):
    """Two cyanocobalamin vials read alike in the cut name column: the line under the table
    names the highlighted one whole with its code, follows the cursor down, and stays with the
    row while Right scrolls the name out of view."""
    from textual.widgets import DataTable, Static

    from tests.tui.pilot import screen_text, settle

    app = manager_on_demo(demo)
    catalog = demo.catalog.catalog()
    vial, multi = "cyanocobalamin_1000mcg_1ml_vial", "cyanocobalamin_1000mcg_10ml_mdv"
    async with app.run_test(size=(80, 24)) as pilot:
        await to_reports(pilot)
        screen = app.screen
        table = screen.query_one("#report-table", DataTable)
        codes = list(screen._frame["product"])
        first = codes.index(vial)
        assert codes[first + 1] == multi  # side by side, as the names sort
        cut = [str(table.get_row_at(first + n)[0]) for n in (0, 1)]
        assert cut[0] == cut[1]  # the table alone cannot tell them apart

        def line() -> str:
            return " ".join(str(screen.query_one("#report-detail", Static).render()).split())

        table.focus()
        await pilot.press(*["down"] * first)
        await settle(pilot)
        assert line() == f"{catalog.products[vial].name} · {vial}"
        await pilot.press("down")
        await settle(pilot)
        assert line() == f"{catalog.products[multi].name} · {multi}"
        await pilot.press("right", "right", "right", "right", "right", "right")
        await settle(pilot)
        assert line() == f"{catalog.products[multi].name} · {multi}"
        assert multi in screen_text(app)  # in view at 80×24, not below the screen
        assert "usable lots" in [str(column.label) for column in table.columns.values()]
