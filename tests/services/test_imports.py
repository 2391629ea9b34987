"""CSV import of products and stock: the whole file checked first, every problem named by row and
column, nothing written when anything is wrong, everything written (with its audit rows) when not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mesomix.domain.imports import ImportRefused
from mesomix.reference import data_dir
from mesomix.services.errors import PermissionDenied
from tests.factories import assert_ledger_exact, audit_rows, mixture, snapshot

SAMPLES = data_dir() / "import"
PRODUCTS = (SAMPLES / "products-sample.csv").read_text(encoding="utf-8")
STOCK = (SAMPLES / "stock-sample.csv").read_text(encoding="utf-8")
STOCK_HEADER = "product,lot_number,expiry,containers,quantity,supplier,unit_cost\n"
PRODUCT_HEADER = "code,name,container,container_volume,strengths,excipients,source\n"


def refused(call, *args) -> list[str]:
    with pytest.raises(ImportRefused) as caught:
        call(*args)
    assert str(caught.value).startswith("nothing was imported:")
    return [str(p) for p in caught.value.problems]


def test_the_sample_products_join_the_catalogue_and_can_be_dispensed_from(clinic):
    searched = clinic.catalog.search("xylocain 0.5 50")  # the index is built before the import
    assert all(hit.code != "xylocaine_05pct_50ml_mdv" for hit in searched)
    result = clinic.imports.products("nadia", PRODUCTS)
    assert (
        clinic.catalog.search("xylocain 0.5 50")[0].code == "xylocaine_05pct_50ml_mdv"
    )  # found at once
    assert (result.written, result.unchanged) == (3, 0)
    catalog = clinic.catalog.catalog()
    vial = catalog.products["xylocaine_05pct_50ml_mdv"]
    assert vial.container_volume_ul == 50_000 and vial.excipients == ("methylparaben",)
    assert vial.in_use_days == 28 and vial.is_multi_dose
    again = clinic.imports.products("nadia", PRODUCTS)
    assert (again.written, again.unchanged) == (0, 3)  # the same file twice adds nothing
    trail = [row for row in audit_rows(clinic) if row.action == "catalogue.import_product"]
    assert len(trail) == 3 and trail[0].reason == "CSV import, row 2"
    stock = "product,lot_number,expiry,containers\nxylocaine_mpf_1pct_5ml_sdv,MPF1,2028-01-31,10\n"
    clinic.imports.stock("nadia", stock)

    plan = clinic.mixtures.check(mixture(("lidocaine", "20 mg")), "sam")
    assert any(d.product.code == "xylocaine_mpf_1pct_5ml_sdv" for d in plan.draws)


def test_the_sample_stock_is_booked_as_receipts_with_the_ledger_exact(clinic):
    result = clinic.imports.stock("nadia", STOCK)
    assert result.written == 4
    lots = {line.lot_number: line for line in clinic.stock.lots("nadia")}
    assert lots["CB5521A"].on_hand_ul == 50_000  # "50 mL" of 10 mL vials: five vials
    assert lots["LD24117"].sealed_containers == 20
    assert len([r for r in audit_rows(clinic) if r.action == "stock.receive"]) == 4
    assert_ledger_exact(clinic)
    before = snapshot(clinic)
    for same in (STOCK, STOCK.replace("\n", "\r\n"), "\ufeff" + STOCK + "\n\n"):
        (problem,) = refused(clinic.imports.stock, "nadia", same)
        assert problem.startswith("this file was imported already on ")
        assert "by nadia (4 receipt(s)): importing it again would book" in problem
        assert snapshot(clinic) == before  # nothing written
    again = {line.lot_number: line for line in clinic.stock.lots("nadia")}
    assert again["LD24117"].sealed_containers == 20
    next_delivery = STOCK.replace("Hospital Wholesale", "Hospital Wholesale Ltd")
    clinic.imports.stock("nadia", next_delivery)  # the same lots again: more containers
    again = {line.lot_number: line for line in clinic.stock.lots("nadia")}
    assert again["LD24117"].sealed_containers == 40


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("lidocaine_2pct_2ml_amp,A1,2025-03-31,20,,,", "row 3, column 'expiry': the lot expired on 2025-03-31"),
        ("lidocaine_2pct_2ml_amp,A1,2028-02-30,20,,,", "row 3, column 'expiry': '2028-02-30' is not a day of the calendar"),
        ("lidocaine_2pct_2ml_amp,A1,31/03/2028,20,,,", "write it as YYYY-MM-DD"),
        ("lidocaine_2pct_2ml_amp,A1,05/06/28,20,,,", "day and month are written in either order"),
        ("lidocaine_2pct_2ml_amp,A1,05/28,20,,,", "a year in two digits can be misread"),
        ("lidocaine_2pct_2ml_amp,A1,2025-03,20,,,", "the lot expired at the end of 2025-03 (2025-03-31)"),
        ("unobtainium_vial,A1,2028-03-31,20,,,", "row 3, column 'product': no product with code 'unobtainium_vial'"),
        ("lidocaine_2pct_2ml_amp,A1,2028-03-31,0,,,", "row 3, column 'containers': 0 is outside 1 to 100,000"),
        ("lidocaine_2pct_2ml_amp,A1,2028-03-31,-3,,,", "'-3' is not a whole number"),
        ("lidocaine_2pct_2ml_amp,A1,2028-03-31,2.5,,,", "'2.5' is not a whole number"),
        ("lidocaine_2pct_2ml_amp,A1,2028-03-31,NaN,,,", "'NaN' is not a whole number"),
        ("lidocaine_2pct_2ml_amp,A1,2028-03-31,,3 mL,,", "3 mL is not a whole number of containers of 2 mL"),
        ("lidocaine_2pct_2ml_amp,A1,2028-03-31,,4 ML,,", "megalitres"),
        ("lidocaine_2pct_2ml_amp,A1,2028-03-31,,40 mg,,", "row 3, column 'quantity'"),
        ("lidocaine_2pct_2ml_amp,A1,2028-03-31,2,4 mL,,", "containers or quantity, not both"),
        ("lidocaine_2pct_2ml_amp,A1,2028-03-31,,,,", "how many were received"),
        ("lidocaine_2pct_2ml_amp,,2028-03-31,2,,,", "row 3, column 'lot_number': empty"),
        ("lidocaine_2pct_2ml_amp,A1,2028-03-31,2,,,12,50", "8 cells where the header has 7 columns"),
        ("lidocaine_2pct_2ml_amp,A1,2028-03-31,2,,,\"12,50\"", "row 3, column 'unit_cost': unit cost '12,50'"),
        ("lidocaine_2pct_2ml_amp,A1\u200b,2028-03-31,2,,,", "control or invisible characters"),
        ("lidocaine_2pct_2ml_amp,A1,2028-03-31,2,,Pharma\x1b[31m,", "control or invisible characters"),
        ("lidocaine_2pct_2ml_amp," + "L" * 41 + ",2028-03-31,2,,,", "longer than 40 characters"),
    ],
)  # fmt: skip
def test_a_bad_stock_row_names_its_row_and_column_and_writes_nothing(clinic, rows, expected):
    good = "cyanocobalamin_1000mcg_1ml_vial,OK1,2028-01-31,5,,,\n"
    before, trail = snapshot(clinic), len(audit_rows(clinic))
    problems = refused(clinic.imports.stock, "nadia", STOCK_HEADER + good + rows + "\n")
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("row 3") for p in problems), problems  # the good row 2 is not blamed
    assert snapshot(clinic) == before and len(audit_rows(clinic)) == trail


def test_every_problem_of_a_file_is_named_at_once(clinic):
    rows = "".join(f"nope_{n},L{n},2028-01-31,1,,,\n" for n in range(80))
    problems = refused(clinic.imports.stock, "nadia", STOCK_HEADER + rows)
    assert len(problems) == 80 and problems[-1].startswith("row 81, column 'product'")
    with pytest.raises(ImportRefused, match=r"and 30 more problem\(s\)"):
        clinic.imports.stock("nadia", STOCK_HEADER + rows)


def test_a_lot_on_record_or_twice_in_the_file_keeps_one_expiry(clinic):
    clinic.stock.receive(
        "nadia", "lidocaine_2pct_2ml_amp", "L7", clinic.clock.today() + timedelta(days=400), 2
    )
    on_record = f"lidocaine_2pct_2ml_amp,L7,{clinic.clock.today() + timedelta(days=401)},2,,,\n"
    (problem,) = refused(clinic.imports.stock, "nadia", STOCK_HEADER + on_record)
    assert "lot L7 is on record with expiry" in problem
    twice = "lidocaine_2pct_2ml_amp,Q1,2028-01-31,2,,,\nlidocaine_2pct_2ml_amp,Q1,2028-02-29,2,,,\n"
    (problem,) = refused(clinic.imports.stock, "nadia", STOCK_HEADER + twice)
    assert problem.startswith("row 3, column 'expiry': lot Q1 is on row 2 with expiry 2028-01-31")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("   \n", "the file is empty"),
        (STOCK_HEADER, "no stock rows under the header"),
        ("product,lot_number\n", "row 1, column 'expiry': this column is required and missing"),
        ("product,lot_number,expiry,colour\n", "row 1, column 'colour': unknown column for stock"),
        (
            "product,lot_number,expiry,expiry,containers\n",
            "column 'expiry': this column appears twice",
        ),
        ("product,lot_number,expiry\n", "a 'containers' column or a 'quantity' column"),
        ("product,lot\x00_number\n", "NUL bytes"),
        (STOCK_HEADER + 'lidocaine_2pct_2ml_amp,"A1\n', "cannot be read as CSV"),
    ],
)
def test_a_file_that_is_not_a_stock_file_is_refused(clinic, text, expected):
    before = snapshot(clinic)
    problems = refused(clinic.imports.stock, "nadia", text)
    assert any(expected in p for p in problems), problems
    assert snapshot(clinic) == before


def test_spreadsheet_habits_are_understood(clinic):
    """A byte-order mark, semicolons between columns, CRLF line ends, blank trailing lines."""
    text = "\ufeffproduct;lot_number;expiry;containers\r\nlidocaine_2pct_2ml_amp;S1;2028-01-31;3\r\n;;;\r\n\r\n"
    assert clinic.imports.stock("nadia", text).written == 1


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("Bad Code,N,single_dose,5 mL,lidocaine_hcl 20 mg/mL,,src", "column 'code': 'Bad Code' is not a product code"),
        ("lidocaine_1pct_2ml_amp,Other name,single_dose,2 mL,lidocaine_hcl 10 mg/mL,,src", "already in the catalogue with other details"),
        ("new_a,,single_dose,5 mL,lidocaine_hcl 20 mg/mL,,src", "column 'name': empty"),
        ("new_a,N,ampoule,5 mL,lidocaine_hcl 20 mg/mL,,src", "'ampoule' is not single_dose or multi_dose"),
        ("new_a,N,single_dose,5 ML,lidocaine_hcl 20 mg/mL,,src", "megalitres"),
        ("new_a,N,single_dose,\"2,5 mL\",lidocaine_hcl 20 mg/mL,,src", "column 'container_volume'"),
        ("new_a,N,single_dose,5 mg,lidocaine_hcl 20 mg/mL,,src", "column 'container_volume'"),
        ("new_a,N,single_dose,5 mL,unobtainium 20 mg/mL,,src", "no substance 'unobtainium'"),
        ("new_a,N,single_dose,5 mL,lidocaine_hcl 20 mg,,src", "write the substance then its strength"),
        ("new_a,N,single_dose,5 mL,lidocaine_hcl twenty,,src", "write the substance then its strength"),
        ("new_a,N,single_dose,5 mL,,,src", "needs at least one strength"),
        ("new_a,N,single_dose,5 mL,lidocaine_hcl 20 mg/mL,parabenz,src", "column 'excipients': no substance 'parabenz'"),
        ("new_a,N,single_dose,5 mL,lidocaine_hcl 20 mg/mL,,", "column 'source': empty"),
        ("new_a,[bold]x[/],single_dose,5 mL,lidocaine_hcl 20 mg/mL,,src\nnew_a,N,single_dose,5 mL,lidocaine_hcl 20 mg/mL,,src", "row 3, column 'code': 'new_a' is also on row 2"),
    ],
)  # fmt: skip
def test_a_bad_product_row_is_refused_with_its_row_and_column(clinic, row, expected):
    before = snapshot(clinic)
    problems = refused(clinic.imports.products, "nadia", PRODUCT_HEADER + row + "\n")
    assert any(expected in p for p in problems), problems
    assert snapshot(clinic) == before


def test_strengths_by_name_ratio_and_percent(clinic):
    row = "mix_a,Lidocaine 1% with epinephrine 1:200000,single_dose,5 mL,lidocaine 1 %; epinephrine 1:200000,,src\n"
    clinic.imports.products("nadia", PRODUCT_HEADER + row)
    product = clinic.catalog.catalog().products["mix_a"]
    assert {s.substance for s in product.strengths} == {"lidocaine_hcl", "epinephrine"}


def test_only_the_right_roles_import(clinic):
    with pytest.raises(PermissionDenied, match="sam \\(staff\\) may not add products"):
        clinic.imports.products("sam", PRODUCTS)
    with pytest.raises(PermissionDenied, match="drchen \\(practitioner\\) may not receive stock"):
        clinic.imports.stock("drchen", STOCK)


def test_progress_is_reported_while_checking_then_writing(clinic):
    rows = "".join(f"lidocaine_2pct_2ml_amp,P{n},2028-01-31,1,,,\n" for n in range(500))
    seen: list[tuple[str, int, int]] = []
    clinic.imports.stock("nadia", STOCK_HEADER + rows, lambda *step: seen.append(step))
    assert seen[0] == ("checking", 1, 500) and seen[499] == ("checking", 500, 500)
    assert seen[-1] == ("writing", 500, 500)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_any_text_is_imported_or_refused_with_messages(clinic, text):
    before = snapshot(clinic)
    for call in (clinic.imports.products, clinic.imports.stock):
        try:
            call("nadia", text)
        except ImportRefused as exc:
            assert exc.problems and all(str(p) for p in exc.problems)
            assert snapshot(clinic) == before
