"""The manager's screens at 80×24 with what is on the box, not our codes: a delivery received by
the product's name, a recall found by the lot number, reorder levels set from the stock list.
Driven by the Pilot on a demo database; the database is checked afterwards, not only the screen."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select
from textual.widgets import DataTable, Input, Select, Static

from mesomix.db.tables import LotRow, MovementRow, ProductRow
from mesomix.services.uow import unit_of_work
from mesomix.tui.app import make_app
from mesomix.tui.screens.inventory import InventoryScreen
from mesomix.tui.screens.reports import ReportsScreen
from mesomix.tui.widgets.form import FormScreen
from tests.factories import assert_ledger_exact
from tests.tui.pilot import screen_text, settle
from tests.tui.test_journeys import choose_row, fill, problems, submit

SIZE = (80, 24)
LIDO = "lidocaine_2pct_2ml_amp"
SALINE = "sodium_chloride_09_10ml_vial"  # reorder at 20 in the demo, far above it
KYBELLA = (
    "Kybella (deoxycholic acid) injection 10 mg/mL 2 mL single-patient-use vial "
    "(benzyl alcohol 9 mg/mL)"
)
MPF = "xylocaine_mpf_1pct_epi200k_30ml_sdv"


def manager(services):
    return make_app(services, services.accounts.sign_in("nadia", "demo-manager-2026"))


async def press(pilot, *keys: str) -> None:
    """Keys once the screen is settled, then wait for what they started."""
    await settle(pilot)
    await pilot.press(*keys)
    await settle(pilot)


def hint(pilot) -> Static:
    return pilot.app.screen.query_one("#form-hint", Static)


def status(pilot) -> str:
    return str(pilot.app.screen.query_one("#status", Static).render())


async def retype(pilot, **values: str) -> None:
    """Clear the fields, then type into them."""
    for key in values:
        pilot.app.screen.query_one(f"#form-{key}", Input).value = ""
    await fill(pilot, **values)


def lot_named(services, number: str) -> LotRow | None:
    with unit_of_work(services.engine) as session:
        return session.exec(select(LotRow).where(LotRow.lot_number == number)).first()


def product(services, code: str) -> ProductRow:
    with unit_of_work(services.engine) as session:
        return session.get(ProductRow, code)


# --- receiving by the name on the box --------------------------------------------------------


async def test_a_delivery_is_received_by_the_name_on_the_box(demo):
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "r")
        await fill(pilot, product="kybella")
        await settle(pilot)
        assert problems(pilot) == ""  # nothing said yet of the fields not come to
        said = str(hint(pilot).render())
        assert hint(pilot).display and said.startswith("Receives into: Kybella")
        assert "kybella_2ml_vial" in said and "Receives into" in screen_text(app)
        await fill(pilot, lot_number="KB0425", expiry="02/2028", containers="4")  # a month
        assert problems(pilot) == ""
        await submit(pilot)
        assert isinstance(app.screen, InventoryScreen)
        said, month = status(pilot).splitlines()  # the name whole, wrapped: no row cut off
        assert said == f"Received lot KB0425: 4 × {KYBELLA} · kybella_2ml_vial"
        assert month == "Expiry 02/2028 → 2028-02-29."
        assert app.screen.query_one("#status", Static).size.height == 3
        assert "(benzyl alcohol 9 mg/mL) · kybella_2ml_vial" in screen_text(app)
        lot = lot_named(demo, "KB0425")
        assert lot is not None and lot.product_code == "kybella_2ml_vial"
        assert lot.expiry.isoformat() == "2028-02-29"  # the last day of the month printed
        assert lot.on_hand_ul == 4 * product(demo, "kybella_2ml_vial").container_volume_ul
        assert str(lot.id) in app.screen.query_one("#lot-list", DataTable).rows
    assert_ledger_exact(demo)


async def test_a_box_is_received_by_scanning_its_code(demo):
    """The scanner types the box's GS1 DataMatrix into the product field — its group separator
    as Ctrl+], which a plain Input would drop — then Enter: the hint names the product, lot and
    expiry the code carries, Enter goes straight on to how many, and the lot is booked."""
    expiry = demo.clock.today().replace(day=1) + timedelta(days=400)
    box = "09520001000041"  # the demo's lidocaine 2% box (data/demo/gtins.toml)
    keys = [*f"]d201{box}17{expiry:%y%m%d}10SC-1/7", "ctrl+right_square_bracket", *"21X9"]
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "r")
        await pilot.press(*keys, "enter")
        await settle(pilot)
        form = app.screen
        assert form.focused is form.query_one("#form-containers", Input)
        said = str(hint(pilot).render())
        assert said.startswith("Scanned: Lidocaine") and LIDO in said
        assert f"lot SC-1/7, expiry {expiry.isoformat()}" in said
        await pilot.press("6")
        await submit(pilot)
        assert isinstance(app.screen, InventoryScreen), problems(pilot)
        assert status(pilot).startswith("Received lot SC-1/7: 6 × Lidocaine")
    lot = lot_named(demo, "SC-1/7")
    assert lot is not None and (lot.product_code, lot.expiry) == (LIDO, expiry)
    assert lot.on_hand_ul == 6 * 2_000
    assert_ledger_exact(demo)


async def test_a_scan_that_is_wrong_for_the_shelf_is_refused_in_words(demo):
    """An unknown code, a lot on record with another expiry, a recalled lot: refused, said in
    words, nothing booked."""
    today = demo.clock.today()
    lot_id = demo.stock.receive("nadia", LIDO, "RC-9", today + timedelta(days=300), 3)
    demo.stock.set_status("nadia", lot_id, "recalled", "supplier recall")
    box = "09520001000041"
    cases = [
        (
            f"]d2010952000100999017{today + timedelta(days=90):%y%m%d}10X1",
            "linked to no product",
        ),
        (f"]d201{box}17{today + timedelta(days=301):%y%m%d}10RC-9", "on record with expiry"),
        (f"]d201{box}17{today + timedelta(days=300):%y%m%d}10RC-9", "is recalled"),
    ]
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        for scan, said in cases:
            await press(pilot, "r")
            await pilot.press(*scan, "enter", "2")
            await submit(pilot)
            assert isinstance(app.screen, FormScreen)
            assert said in problems(pilot).replace("\n", " ")
            await press(pilot, "escape")
    assert demo.stock.lots("nadia", LIDO) and lot_named(demo, "X1") is None


async def test_a_box_code_the_shelf_does_not_know_is_linked_then_received_by_scan(demo):
    """An unknown code at receiving is refused saying who links it; the manager links it (K),
    on the trail, and the same scan then receives the box."""
    expiry = demo.clock.today().replace(day=1) + timedelta(days=400)
    new_box = "09520001009990"  # in no demo link
    scan = f"]d201{new_box}17{expiry:%y%m%d}10NEW-1"
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "r")
        await pilot.press(*scan, "enter", "3")
        await submit(pilot)
        assert "linked to no product" in problems(pilot).replace("\n", " ")
        await press(pilot, "escape")
        await press(pilot, "k")
        await fill(pilot, code=scan, product="saline 10 mL")  # two products: refused, named
        await submit(pilot)
        said = problems(pilot)
        assert "fits 2 products" in said and "\\x0a" not in said
        assert "sodium_chloride_09_10ml_vial" in said.splitlines()[-1]
        await retype(pilot, product="kybella")
        assert str(hint(pilot).render()).startswith("Links to: Kybella")
        await submit(pilot)
        assert isinstance(app.screen, InventoryScreen), problems(pilot)
        assert status(pilot).startswith(f"GTIN {new_box} now names Kybella")
        await press(pilot, "r")
        await pilot.press(*scan, "enter", "3")
        await submit(pilot)
        assert isinstance(app.screen, InventoryScreen), problems(pilot)
    lot = lot_named(demo, "NEW-1")
    assert lot is not None and lot.product_code == "kybella_2ml_vial"
    trail = [e for e in demo.audit.show("nadia") if e.action == "catalogue.link_gtin"]
    assert trail[0].new == {"gtin": new_box, "product": "kybella_2ml_vial", "packaging": "box"}


async def test_the_product_received_into_is_named_whole_with_its_preservative(demo):
    """The hint and the status line name the product whole: the MPF vial's sulfite and its
    being methylparaben-free are at the end of its name, where a cut would lose them. A plain
    'Xylocaine 1% 30 mL' is refused first: the only vial with those numbers has epinephrine."""
    name = product(demo, MPF).name
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "r")
        await fill(pilot, product="Xylocaine 1% 30 mL", lot_number="MPF1", expiry="2028-06-30")
        await fill(pilot, containers="2")
        said = problems(pilot)
        assert "product: no plain Xylocaine is 1% 30 mL; one with epinephrine" in said
        assert MPF in said and not hint(pilot).display  # named, not offered as the one
        await submit(pilot)
        assert isinstance(app.screen, FormScreen) and lot_named(demo, "MPF1") is None

        await retype(pilot, product="Xylocaine with epinephrine 1% 30 mL")
        assert str(hint(pilot).render()) == f"Receives into: {name} · {MPF}"
        assert 2 <= hint(pilot).size.height <= 4
        shown = screen_text(app)
        assert "(sodium metabisulfite 0.5 mg/mL, methylparaben-free) ·" in shown
        assert MPF in shown
        await submit(pilot)
        assert isinstance(app.screen, InventoryScreen)
        assert status(pilot) == f"Received lot MPF1: 2 × {name} · {MPF}"
        assert app.screen.query_one("#status", Static).size.height <= 3
        shown = screen_text(app)  # the status rows: the name's end, then the code whole
        assert "(sodium metabisulfite 0.5 mg/mL, methylparaben-free) ·\n" + MPF in shown
    lot = lot_named(demo, "MPF1")
    assert lot is not None and lot.product_code == MPF


async def test_a_name_that_fits_several_products_is_refused_naming_them(demo):
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "r")
        await fill(pilot, product="lidocaine 2%", lot_number="LD2301", expiry="2028-01-31")
        await fill(pilot, containers="5")
        said = problems(pilot)
        assert "product: 'lidocaine 2%' fits 9 products — type more, or the code:" in said
        assert LIDO in said and "… and 6 more" in said
        assert not hint(pilot).display  # no product is offered as the one
        await submit(pilot)
        assert isinstance(app.screen, FormScreen) and "fits 9 products" in problems(pilot)
        assert "Cancel" in screen_text(app)  # the candidates leave the buttons on screen
        assert lot_named(demo, "LD2301") is None  # nothing written

        await retype(pilot, product=LIDO)  # our code, typed exactly, still works
        assert "lidocaine_2pct_2ml_amp" in str(hint(pilot).render())
        await submit(pilot)
        assert isinstance(app.screen, InventoryScreen)
    lot = lot_named(demo, "LD2301")
    assert lot is not None and lot.product_code == LIDO


async def test_a_substance_or_an_unknown_name_is_not_received(demo):
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "r")
        await fill(pilot, product="biotin", lot_number="BT1", expiry="2028-01-31", containers="2")
        await submit(pilot)
        assert "finds the substance Biotin" in problems(pilot)
        await retype(pilot, product="qwertzuiop")
        await submit(pilot)
        assert "no product matches 'qwertzuiop'" in problems(pilot)
        assert isinstance(app.screen, FormScreen)
    assert lot_named(demo, "BT1") is None


# --- reorder levels ---------------------------------------------------------------------------


async def test_the_reorder_level_of_the_selected_lot_is_set_and_shows_in_the_low_list(demo):
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        low = screen.query_one("#low-list", DataTable)
        assert SALINE not in low.rows
        lot = next(lot for lot in screen._lots.values() if lot.product_code == SALINE)
        await choose_row(pilot, "#lot-list", str(lot.lot_id))
        await press(pilot, "o")
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.query_one("#form-level", Input).value == "20"  # the demo's level, to change
        for typed, says in (
            ("ten", "reorder level: 'ten' is not a whole number of containers"),
            ("-4", "reorder level: -4 is below zero"),
            ("250000", "reorder level: 250,000 is more than 100,000 containers"),
        ):
            await retype(pilot, level=typed)
            await submit(pilot)
            assert says in problems(pilot)
            assert product(demo, SALINE).reorder_level == 20  # nothing written
        await retype(pilot, level="70", quantity="40")
        await submit(pilot)
        assert isinstance(app.screen, InventoryScreen)
        await settle(pilot)
        assert (product(demo, SALINE).reorder_level, product(demo, SALINE).reorder_quantity) == (
            70,
            40,
        )
        assert SALINE in low.rows  # 65 sealed, now at or below 70
        assert "low at 70 or fewer sealed, order 40" in status(pilot)


def low(services) -> str:
    """A product the demo starts low on (which ones depends on its random stock)."""
    return services.inventory.low_stock("nadia")[0].product_code


async def test_a_product_in_the_low_list_gets_its_level_from_there(demo):
    code = low(demo)
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_row(pilot, "#low-list", code)
        await press(pilot, "o")
        assert code in str(app.screen.query_one(".form-intro", Static).render())
        await retype(pilot, level="0")
        await submit(pilot)
        await settle(pilot)
        assert product(demo, code).reorder_level == 0
        assert code not in app.screen.query_one("#low-list", DataTable).rows


async def test_a_fresh_demo_shows_low_stock_and_only_managers_set_levels(demo):
    expected = [line.product_code for line in demo.inventory.low_stock("nadia")]
    assert len(expected) >= 2
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        low = app.screen.query_one("#low-list", DataTable)
        assert [key.value for key in low.rows] == expected
    staff = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with staff.run_test(size=SIZE) as pilot:
        await press(pilot, "f5")
        assert isinstance(staff.screen, InventoryScreen)
        assert not staff.screen.check_action("reorder", ())
        assert not staff.screen.check_action("trace", ())  # not offered, then refused
        await press(pilot, "o")
        assert isinstance(staff.screen, InventoryScreen)  # no form for what staff may not do


# --- the recall report by the number on the box -----------------------------------------------


def dispensed_lot(services) -> tuple[str, set[int]]:
    """A demo lot that went into mixtures: its number, and the batches that received it."""
    with unit_of_work(services.engine) as session:
        moves = list(session.exec(select(MovementRow).where(MovementRow.kind == "dispense")))
        lot = session.get(LotRow, moves[0].lot_id)
    return lot.lot_number, {m.batch_id for m in moves if m.lot_id == lot.id}


async def run_recall(pilot, typed: str) -> None:
    field = pilot.app.screen.query_one("#report-lot", Input)
    field.value = ""
    field.focus()
    await pilot.press(*typed, "enter")
    await settle(pilot)


async def test_the_recall_report_takes_the_lot_number_on_the_box(demo):
    number, batches = dispensed_lot(demo)
    demo.stock.receive("nadia", LIDO, "SH-77", demo.clock.today().replace(year=2028), 2)
    demo.stock.receive(
        "nadia", "kybella_2ml_vial", "SH-77", demo.clock.today().replace(year=2028), 1
    )
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "f6")
        screen = app.screen
        assert isinstance(screen, ReportsScreen)
        table = screen.query_one("#report-table", DataTable)
        screen.query_one("#report-name", Select).value = "recall"
        await settle(pilot)
        assert "needs the lot number as printed on the box" in status(pilot)

        await run_recall(pilot, number.lower())  # as read off the box, whatever the case
        assert table.row_count == len(batches) > 0
        assert status(pilot).startswith(f"Recall of lot {number} (available) of ")
        assert {int(str(table.get_row_at(i)[0])) for i in range(table.row_count)} == batches

        await run_recall(pilot, "NOPE-1")
        assert "no lot numbered 'NOPE-1'" in status(pilot) and table.row_count == 0

        await run_recall(pilot, "SH-77")
        said = status(pilot)
        assert "on record for 2 products — add the product after the number" in said
        assert LIDO in said and "kybella_2ml_vial" in said
        assert "add the product" in screen_text(app)  # shown whole at 80 columns

        await run_recall(pilot, "SH-77 kybella")
        assert status(pilot).startswith("Recall of lot SH-77 (available) of Kybella")
        assert "no batches" in status(pilot) and table.row_count == 0


async def test_while_typing_only_fields_typed_in_are_faulted_and_a_submit_says_all(demo):
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "r")
        await fill(pilot, product="kybella", expiry="2028-02-30")
        await settle(pilot)
        assert problems(pilot).startswith("expiry:") and "lot number" not in problems(pilot)
        await submit(pilot)
        said = problems(pilot)
        assert isinstance(app.screen, FormScreen)
        assert said.startswith("lot number: empty") and "expiry" in said
    assert lot_named(demo, "") is None


# --- counting a partly used multi-dose vial ----------------------------------------------------

MDV10 = "xylocaine_1pct_10ml_mdv"


def part_used_vials(services) -> int:
    """Five 10 mL multi-dose vials, one taken off whole and 3 mL wasted: 3 sealed, 7 mL open."""
    expiry = services.clock.today() + timedelta(days=300)
    lot = services.stock.receive("nadia", MDV10, "PART1", expiry, 5)
    services.inventory.adjust("nadia", lot, -10_000, "missing", "one vial gone")
    services.inventory.waste("nadia", lot, 3_000, "contaminated", "dropped")
    return lot


async def test_a_count_of_a_part_used_vial_shows_the_open_volume_and_keeps_it(demo):
    lot = part_used_vials(demo)
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_row(pilot, "#lot-list", str(lot))
        await press(pilot, "c")
        intro = str(app.screen.query_one(".form-intro", Static).render())
        assert "books say 3 sealed, 7 mL open" in intro
        example = app.screen.query_one("#form-open", Input).placeholder
        assert "e.g. 5 mL, or 0" in example  # one the 10 mL vial can hold
        await fill(pilot, sealed="3")
        await submit(pilot)
        assert isinstance(app.screen, InventoryScreen)
        await settle(pilot)
        assert "Count of lot PART1: matches the books." in status(pilot)
        assert lot_named(demo, "PART1").on_hand_ul == 37_000
        await choose_row(pilot, "#lot-list", str(lot))
        await press(pilot, "c")
        await fill(pilot, sealed="3", open="2 mL", reason="expired_disposed")  # 5 mL less
        await submit(pilot)
        await settle(pilot)
        assert (
            "Count of lot PART1: −5 mL booked: expired or disposed of, not booked as waste."
            in status(pilot)
        )
        row = lot_named(demo, "PART1")
        assert (row.on_hand_ul, row.open_ul) == (32_000, 2_000)
    assert_ledger_exact(demo)


async def test_waste_is_taken_in_whole_vials_and_an_empty_open_vial_is_counted_as_0(demo):
    lot = part_used_vials(demo)  # 3 sealed, 7 mL open
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_row(pilot, "#lot-list", str(lot))
        await press(pilot, "w")
        await fill(pilot, volume="1 vial", note="dropped on the floor")
        await submit(pilot)
        await settle(pilot)
        assert "Waste booked on lot PART1." in status(pilot)
        assert lot_named(demo, "PART1").on_hand_ul == 27_000  # one sealed vial less
        await choose_row(pilot, "#lot-list", str(lot))
        await press(pilot, "c")
        # the opened vial is empty and thrown away
        await fill(pilot, sealed="2", open="0", reason="expired_disposed")
        await submit(pilot)
        await settle(pilot)
        assert (
            "Count of lot PART1: −7 mL booked: expired or disposed of, not booked as waste."
            in status(pilot)
        )
        row = lot_named(demo, "PART1")
        assert (row.on_hand_ul, row.open_ul, row.opened_at) == (20_000, 0, None)
    assert_ledger_exact(demo)


async def test_a_delivery_file_imported_twice_is_refused_the_second_time(demo, tmp_path):
    delivery = tmp_path / "delivery.csv"
    delivery.write_text(
        "product,lot_number,expiry,containers\nlidocaine_2pct_2ml_amp,TWICE1,2030-01-31,10\n"
    )
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(2):
            await press(pilot, "i")
            await fill(pilot, kind="stock", file=str(delivery))
            await submit(pilot)
        assert isinstance(app.screen, FormScreen)  # the second time it stays, saying why
        assert "this file was imported already on" in problems(pilot)
    assert lot_named(demo, "TWICE1").on_hand_ul == 10 * 2_000  # booked once
    assert_ledger_exact(demo)


async def test_releasing_an_available_lot_is_refused_at_once_without_a_form(demo):
    lot = part_used_vials(demo)
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_row(pilot, "#lot-list", str(lot))
        await press(pilot, "l")
        assert isinstance(app.screen, InventoryScreen)  # no reason asked for nothing
        assert "Lot PART1 is available already." in status(pilot)
    assert lot_named(demo, "PART1").status == "available"


@pytest.mark.parametrize("key", ["q", "a", "w", "c", "x", "l", "t"])
async def test_lot_keys_in_the_low_list_ask_for_a_lot_in_the_stock_list(demo, key):
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = [(lot.lot_number, lot.status, lot.on_hand_ul) for lot in app.screen._lots.values()]
        await choose_row(pilot, "#low-list", low(demo))
        await press(pilot, key)
        assert isinstance(app.screen, InventoryScreen)  # no form, no trace
        assert "Choose a lot in the stock list" in status(pilot)
        await settle(pilot)
    assert [
        (lot.lot_number, lot.status, lot.on_hand_ul) for lot in demo.stock.lots("nadia")
    ] == before


async def test_find_matches_every_word_anywhere_and_says_when_nothing_does(demo):
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#lot-list", DataTable)
        await press(pilot, "ctrl+f")
        await pilot.press(*"lidocaine 2%")
        await settle(pilot)
        shown = {app.screen._lots[int(key.value)].product_name for key in table.rows}
        assert any("2% 2 mL" in name for name in shown) and table.row_count >= 1
        # a strength typed is that strength: not the 1% ampoules, nor a filler's 0.3% lidocaine
        assert all(re.search(r"(?<![\d.])2 ?%", name) for name in shown), shown
        # and a product of lidocaine whose name says Xylocaine only is found too
        assert any(name.startswith("Xylocaine 2% with epinephrine") for name in shown), shown
        app.screen.query_one("#lot-find", Input).value = "zzlot"
        await settle(pilot)
        assert table.row_count == 0
        assert "No lot matches 'zzlot'." in status(pilot)


async def test_an_expired_lot_reads_expired_where_its_status_is_and_its_name_shows_whole(demo):
    from datetime import timedelta

    lot_id = demo.stock.receive("nadia", LIDO, "OLD-1", demo.clock.today() + timedelta(days=3), 2)
    demo.clock.advance(timedelta(days=5))  # now past its expiry, still 'available' by status
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "f5")
        table = app.screen.query_one("#lot-list", DataTable)
        await choose_row(pilot, "#lot-list", str(lot_id))
        row = [str(cell) for cell in table.get_row(str(lot_id))]
        assert row[4] == "EXPIRED"  # the status column, in a word
        detail = str(app.screen.query_one("#lot-detail", Static).render())
        assert detail.startswith(product(demo, LIDO).name) and f"{LIDO} · lot OLD-1" in detail


async def test_the_examples_of_a_lot_of_ampoules_are_in_ampoules_and_whole(demo):
    expiry = demo.clock.today() + timedelta(days=300)
    lot = demo.stock.receive("nadia", LIDO, "AMP1", expiry, 10)  # 2 mL single-dose ampoules
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_row(pilot, "#lot-list", str(lot))
        for key, field, says in [
            ("w", "volume", "whole ones: e.g. 1 ampoule, or 2 mL"),
            ("a", "volume", "whole ones: e.g. 1 ampoule, or 2 mL"),
            ("c", "open", "0: single-dose ones are not kept open"),
        ]:
            await press(pilot, key)
            assert app.screen.query_one(f"#form-{field}", Input).placeholder == says
            await press(pilot, "escape")


# --- the one matcher: the same reading of a name, strength and size as Compose and search ---


@pytest.mark.parametrize(
    "typed, code",
    [
        ("Lidocaine Hydrochloride Injection 2% 2 mL ampoule", LIDO),
        ("Xylocaine 2% 10 mL", "xylocaine_2pct_10ml_mdv"),
        ("lidocaine 20mg/ml 5 mL", "lidocaine_2pct_5ml_amp"),
    ],
)
async def test_a_delivery_named_with_strength_and_size_is_received_into_its_product(
    demo, typed, code
):
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "r")
        await fill(pilot, product=typed, lot_number="BOX-1", expiry="2028-06-30", containers="3")
        assert problems(pilot) == ""
        await submit(pilot)
        assert isinstance(app.screen, InventoryScreen)
    lot = lot_named(demo, "BOX-1")
    assert lot is not None and lot.product_code == code
    assert lot.on_hand_ul == 3 * product(demo, code).container_volume_ul
    assert_ledger_exact(demo)


@pytest.mark.parametrize(
    "typed, codes",
    [
        ("Xylocaine 2% 10 mL", {"xylocaine_2pct_10ml_mdv"}),
        ("lidocaine 20 mg/mL 5 mL", {"lidocaine_2pct_5ml_amp"}),
        ("xylocaine 1% 1:100000", {"xylocaine_1pct_epi100k_20ml_mdv", "xylocaine_1pct_epi100k_50ml_mdv"}),
    ],
)  # fmt: skip
async def test_find_reads_a_strength_and_size_as_the_matcher_does(demo, typed, codes):
    app = manager(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#lot-list", DataTable)
        await press(pilot, "ctrl+f")
        await pilot.press(*typed)
        await settle(pilot)
        shown = {app.screen._lots[int(key.value)].product_code for key in table.rows}
        assert shown == codes
