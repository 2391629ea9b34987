"""What a manager reads on a box, not our internal codes and ids: a product received by its name
(only an unambiguous one), a lot found by the number printed on it, reorder levels as typed."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from mesomix.db.tables import ProductRow
from mesomix.reports.service import export
from mesomix.services.errors import NotFound, PermissionDenied, ServiceError
from mesomix.services.uow import unit_of_work
from tests.factories import audit_rows, lot_row, mixture, receive, snapshot

B12 = "cyanocobalamin_1000mcg_1ml_vial"
LIDO = "lidocaine_2pct_2ml_amp"


def cells(product: str, lot: str = "BOX-1", containers: str = "4") -> dict[str, str]:
    return {
        "product": product,
        "lot_number": lot,
        "expiry": "2028-03-31",
        "containers": containers,
        "supplier": "Pharma Direct",
        "unit_cost": "",
    }


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Kybella", "kybella_2ml_vial"),  # a brand name alone
        ("hylenex", "hylenex_150u_1ml_vial"),
        ("lidocain 2% 5ml", "lidocaine_2pct_5ml_amp"),  # a typo, and 5ml against "5 mL"
        ("pascorbin 750", "pascorbin_750mg_5ml_amp"),
        ("Xylocaine 1% 10 mL", "xylocaine_1pct_10ml_mdv"),  # the strength and size weighed
        (LIDO, LIDO),  # our code still works
        ("LIDOCAINE_2PCT_2ML_AMP", LIDO),
        # the name before its bracket, typed whole, though the Hospira ampoule fits as well
        ("Lidocaine Hydrochloride Injection 2% 2 mL ampoule", LIDO),
    ],
)
def test_a_product_is_found_by_the_name_on_its_box(clinic, typed, code):
    choice = clinic.stock.which_product(typed)
    assert (choice.code, choice.problem) == (code, "")


@pytest.mark.parametrize(
    ("typed", "says", "named"),
    [
        ("lidocaine 2%", "fits 9 products", LIDO),  # every 2% lidocaine, no 1% one
        ("procain 1%", "fits 3 products", "procain_puren_1pct_2ml_amp"),
        # with epinephrine typed, 1:100,000 and 1:200,000 (no methylparaben) are still two
        (
            "Xylocaine with epinephrine 2% 20 mL",
            "fits 2 products",
            "xylocaine_2pct_epi100k_20ml_mdv",
        ),
        ("biotin", "finds the substance Biotin", "not a product"),
        ("zzzz", "no product matches 'zzzz'", "the name on the box"),
    ],
)
def test_a_name_that_fits_several_products_or_none_chooses_none(clinic, typed, says, named):
    choice = clinic.stock.which_product(typed)
    assert choice.code == "" and says in choice.problem and named in choice.problem
    if "fits" in says:
        assert len(choice.candidates) == int(says.split()[1])
        assert all(len(line) <= 72 for line in choice.problem.splitlines()[1:])


def test_receiving_by_name_books_the_product_found(clinic):
    done = clinic.stock.receive_typed("nadia", cells("kybella", containers="3"))
    lot = lot_row(clinic, done.lot_id)
    assert (lot.product_code, lot.lot_number) == ("kybella_2ml_vial", "BOX-1")
    assert lot.on_hand_ul == 3 * 2000 and done.product_name.startswith("Kybella")


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("lidocaine 2%", "fits 9 products"),
        ("biotin", "substance"),
        ("", "product: empty"),
        ("lido\x00caine", "cannot be stored"),
    ],
)
def test_an_ambiguous_product_is_refused_with_every_candidate_and_writes_nothing(
    clinic, typed, says
):
    before = snapshot(clinic)
    with pytest.raises(ServiceError, match=says) as refused:
        clinic.stock.receive_typed("nadia", cells(typed))
    assert snapshot(clinic) == before
    if "fits" in says:  # one line each: the form shows them under each other
        lines = str(refused.value).splitlines()
        assert lines[0].startswith("product: 'lidocaine 2%' fits 9 products")
        assert any(LIDO in line for line in lines) and lines[-1] == "  … and 6 more"


def test_a_withdrawn_product_is_named_as_withdrawn(clinic):
    with unit_of_work(clinic.engine, write=True) as session:
        product = session.get(ProductRow, "kybella_2ml_vial")
        product.active = False
        session.add(product)
    choice = clinic.stock.which_product("kybella_2ml_vial")
    assert choice.code == "" and "withdrawn" in choice.problem


def test_receiving_by_name_still_needs_a_manager(clinic):
    before = snapshot(clinic)
    with pytest.raises(PermissionDenied, match="may not receive stock"):
        clinic.stock.receive_typed("sam", cells("kybella"))
    assert snapshot(clinic) == before


# --- lots by the number on the box -----------------------------------------------------------


def test_a_lot_is_found_by_its_number_as_printed(clinic):
    lot = receive(clinic, LIDO, "LD2301", 5)
    for typed in ("LD2301", " ld2301 ", "LD2301 lidocaine", "LD2301 " + LIDO):
        ref = clinic.inventory.find_lot("nadia", typed)
        assert (ref.lot_id, ref.lot_number, ref.product_code) == (lot, "LD2301", LIDO)


def test_a_lot_number_on_several_products_asks_for_the_product(clinic):
    lido = receive(clinic, LIDO, "SH-1", 5)
    b12 = receive(clinic, B12, "SH-1", 5)
    with pytest.raises(ServiceError, match="on record for 2 products") as asked:
        clinic.inventory.find_lot("nadia", "SH-1")
    said = str(asked.value)
    assert "add the product" in said and LIDO in said and B12 in said and "(lot SH-1)" in said
    assert clinic.inventory.find_lot("nadia", "SH-1", "cyanocobalamin 1 mL").lot_id == b12
    assert clinic.inventory.find_lot("nadia", "SH-1 lido 2%").lot_id == lido
    with pytest.raises(NotFound, match="not for 'kybella'"):
        clinic.inventory.find_lot("nadia", "SH-1", "kybella")


def test_an_unknown_or_empty_lot_number_says_so(clinic):
    receive(clinic, LIDO, "LD2301", 5)
    with pytest.raises(NotFound, match="no lot numbered 'LD2399' is on record"):
        clinic.inventory.find_lot("nadia", "LD2399")
    with pytest.raises(ServiceError, match="lot number as printed"):
        clinic.inventory.find_lot("nadia", "  ")
    with pytest.raises(ServiceError, match="printable"):
        clinic.inventory.find_lot("nadia", "LD\x1b[2J")


def test_a_used_up_lot_is_still_found_and_its_recall_report_names_it(clinic):
    lot = receive(clinic, B12, "B-GONE", 1)
    clinic.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), "sam")
    assert lot_row(clinic, lot).on_hand_ul == 0
    ref, frame = clinic.reports.recall("nadia", "b-gone")
    assert ref.lot_id == lot
    assert list(frame["patient_ref"]) == ["P-1"] and list(frame["volume_ml"]) == [1.0]
    assert set(frame["lot_number"]) == {"B-GONE"} and set(frame["product"]) == {B12}
    by_id = clinic.reports.report("nadia", "recall", lot_id=lot)
    assert list(by_id["batch"]) == list(frame["batch"])
    with pytest.raises(ServiceError, match="needs a lot"):
        clinic.reports.report("nadia", "recall", lot=" ")


def test_the_recall_report_is_in_the_clinics_time_and_exports_to_xlsx(clinic, tmp_path):
    """Stored in UTC, read in the clinic's time; Excel, which has no time zones, gets the
    clinic's wall-clock time (it refused the report before)."""
    clinic.clock.zone = ZoneInfo("Pacific/Auckland")  # 13 hours ahead in November
    receive(clinic, B12, "B-NZ", 2)
    clinic.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), "sam")
    _, frame = clinic.reports.recall("nadia", "B-NZ")
    (made,) = frame["made_at"]
    assert made.utcoffset() == timedelta(hours=13)
    assert made.to_pydatetime() == clinic.clock.now()  # the same instant, read locally
    assert "rows written" in export(frame, "xlsx", tmp_path / "recall.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "recall.xlsx").active
    header = [cell.value for cell in sheet[1]]
    written = sheet.cell(row=2, column=header.index("made_at") + 1).value
    assert written == made.tz_localize(None).to_pydatetime()


# --- reorder levels as typed -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "quantity", "says"),
    [
        ("ten", "20", "reorder level: 'ten' is not a whole number"),
        ("2.5", "20", "not a whole number"),
        ("-3", "20", "reorder level: -3 is below zero"),
        ("5", "0", "order quantity: at least 1"),
        ("5", "", "order quantity: type a number"),
        ("1000000", "20", "reorder level: 1,000,000 is more than 100,000 containers"),
        ("5", "99999999999999999999999", "more than 100,000"),
    ],
)
def test_reorder_levels_typed_wrong_are_refused_and_write_nothing(clinic, level, quantity, says):
    before, trail = snapshot(clinic), len(audit_rows(clinic))
    with pytest.raises(ServiceError, match=says):
        clinic.inventory.set_reorder_typed("nadia", B12, level, quantity)
    assert snapshot(clinic) == before and len(audit_rows(clinic)) == trail


def test_a_reorder_level_typed_right_is_set_and_shows_as_low(clinic):
    receive(clinic, B12, "B1", 10, expires_in_days=200)
    clinic.inventory.set_reorder_typed("nadia", B12, " 12 ", "30")
    (low,) = clinic.inventory.low_stock("nadia")
    assert (low.product_code, low.reorder_level, low.suggested_order) == (B12, 12, 30)
    with pytest.raises(PermissionDenied):
        clinic.inventory.set_reorder_typed("sam", B12, "1", "1")


def test_the_demo_has_products_low_on_a_fresh_load(services):
    from mesomix.services.demo import load_demo

    counts = load_demo(services)
    low = services.inventory.low_stock("nadia")
    assert counts["reorder levels"] >= 3 and len(low) >= 2
    assert all(line.containers <= line.reorder_level for line in low)
    with unit_of_work(services.engine) as session:
        levelled = session.exec(
            ProductRow.__table__.select().where(ProductRow.reorder_level.is_not(None))
        ).all()
    assert len(levelled) == counts["reorder levels"] > len(low)  # not every one is low
