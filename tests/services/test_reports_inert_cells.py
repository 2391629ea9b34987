"""Exports cannot attack whoever opens them: names typed as formulas (through the CSV import, the
patient form, the user accounts) reach every report's CSV and XLSX as plain text, marked with a
leading apostrophe; numbers stay numbers. On SQLite and PostgreSQL, and through the command line
as a real process."""

from __future__ import annotations

import ast
import csv
import os
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from mesomix.bootstrap import Services, Settings, build
from mesomix.clock import FixedClock
from mesomix.domain.course.plan import ZoneVolume
from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.domain.reactions import ReactionWords
from mesomix.reports.cells import ERROR_VALUES, as_text, inert
from mesomix.reports.service import REPORTS, export
from tests.conftest import NOW
from tests.factories import PASSWORD, mixture, seed_people

ROOT = Path(__file__).resolve().parents[2]
RUNS = ("=", "+", "@", "\t", "\r")  # and "-", which a number may start with

PRODUCT = "=cmd|' /C calc'!A0"
PATIENT = '=HYPERLINK("http://evil.example","click")'
PATIENT_REF = "+44 20 7946 0000"  # a telephone number as the reference
PRESCRIBER = "@SUM(1+1)"  # a practitioner's display name
MAKER, MAKER_NAME = "-mallory", "+1+1 Mallory"
# The lot drawn (first expiry, and within 90 days: the expiring report has it) comes first.
LOTS = ("=1+1", "-2+3", "@SUM(A1)", "#N/A", "x;=1+1;")


def hostile_clinic(services: Services) -> Services:
    """A clinic whose product, lots, patient, practitioner and maker all carry formulas, every
    one entered through the service a person would use."""
    seed_people(services)
    services.imports.products(
        "nadia",
        "code,name,container,container_volume,strengths,excipients,source\n"
        f'hostile_vial,"{PRODUCT}",single_dose,5 mL,lidocaine_hcl 10 mg/mL,,a supplier\'s list\n',
    )
    expiries = ("2026-12-31", "2027-06-30", "2027-09-30", "2027-10-31", "2027-11-30")
    services.imports.stock(
        "nadia",
        "product,lot_number,expiry,containers\n"
        + "".join(
            f'hostile_vial,"{lot}",{day},5\n' for lot, day in zip(LOTS, expiries, strict=True)
        ),
    )
    services.people.add_patient("drchen", PATIENT_REF, PATIENT, weight="70 kg")
    services.accounts.create_user("root", "drevil", PRESCRIBER, "practitioner", PASSWORD)
    services.accounts.create_user("root", MAKER, MAKER_NAME, "staff", PASSWORD)
    draft = mixture(("lidocaine", "10 mg"), patient=PATIENT_REF)
    batch = services.mixtures.dispense(
        replace(draft, purpose="hair loss", prescriber="drevil"), MAKER
    ).batch_id
    # A reaction after it: the reactions report names its product, lot and practitioner.
    words = ReactionWords("nodule", "=1+1", "0 h", "", "mild", "", "@SUM(1)", "recovering")
    services.reactions.record("drchen", PATIENT_REF, batch, words)
    # A course booked tomorrow, made from the hostile vial: the forecast names the product.
    vial = DraftMixture((DraftIngredient("lidocaine", "10 mg", "hostile_vial"),))
    services.formulas.save("drchen", "Back pain", vial, "pain")
    course = services.courses.plan(
        "drchen", PATIENT_REF, "pain", "back_pain", (ZoneVolume("back", 1000),), NOW.date()
    )
    services.courses.book("drchen", course.id, 1, NOW + timedelta(days=1))
    return services


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hostile(request, tmp_path_factory):
    """The hostile clinic, once per database kind: the tests only read it."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").create_database("hostile_exports")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'clinic.sqlite'}"
    services = build(Settings(database_url=url, clock=FixedClock(NOW)))
    yield hostile_clinic(services)
    services.close()


def _report(services: Services, name: str) -> pd.DataFrame:
    return services.reports.report("nadia", name, lot=LOTS[0] if name == "recall" else "")


# What each report must show of the hostile names, as text with its apostrophe.
SHOWN = {
    "stock": {"'" + PRODUCT, *("'" + lot for lot in LOTS[:4]), "x;=1+1;"},
    "stock-products": {"'" + PRODUCT},
    "expiring": {"'" + PRODUCT, "'" + LOTS[0]},
    "usage": {"'" + PRODUCT},
    "waste": set(),  # kinds and reasons are the program's own words
    "mixtures": {"'" + PRESCRIBER},
    "makers": {"'" + MAKER, "'" + MAKER_NAME},
    "recall": {"'" + PATIENT_REF, "'" + PATIENT, "'" + MAKER, "'" + LOTS[0]},
    "forecast": {"'" + PRODUCT},
    "reactions": {"'" + PRODUCT, "'" + LOTS[0], "'" + PRESCRIBER},
    "vigilance": {"'" + PRODUCT, "'" + LOTS[0]},
}


def assert_inert_csv(path: Path) -> set[str]:
    """No cell of the file runs; a cell that starts with "-" is a number. Its cells."""
    with path.open(encoding="utf-8", newline="") as file:
        cells = {cell for row in csv.reader(file) for cell in row}
    for cell in cells:
        assert not cell.startswith(RUNS) and cell not in ERROR_VALUES, (path.name, cell)
        if cell.startswith("-"):
            float(cell)
    return cells


def assert_inert_xlsx(path: Path) -> set[object]:
    """No cell of the workbook is a formula or an error: text is text (type "s"). Its values."""
    sheet = openpyxl.load_workbook(path).active
    values = set()
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type not in ("f", "e"), (path.name, cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                assert cell.data_type == "s", (path.name, cell.coordinate, cell.value)
                assert not cell.value.startswith((*RUNS, "-")), (path.name, cell.value)
            values.add(cell.value)
    return values


def test_every_report_exports_hostile_names_as_text(hostile, tmp_path):
    for name in REPORTS:
        frame = _report(hostile, name)
        assert len(frame) >= 1, name
        export(frame, "csv", tmp_path / f"{name}.csv")
        export(frame, "xlsx", tmp_path / f"{name}.xlsx")
        assert SHOWN[name] <= assert_inert_csv(tmp_path / f"{name}.csv"), name
        assert SHOWN[name] <= assert_inert_xlsx(tmp_path / f"{name}.xlsx"), name
        printed = export(frame, "csv", None)  # the CSV printed when no file is named
        assert printed == (tmp_path / f"{name}.csv").read_text(encoding="utf-8"), name
    # The screen and the report itself keep the names as typed: only the files are marked.
    assert set(_report(hostile, "recall")["patient"]) == {PATIENT}


def test_text_cells_are_quoted_and_numbers_stay_numbers(hostile, tmp_path):
    """Every text cell in double quotes (inner quotes doubled), so a reader splitting on another
    separator keeps `x;=1+1;` one cell; on-hand mL are numbers in both files."""
    frame = _report(hostile, "recall")
    export(frame, "csv", tmp_path / "recall.csv")
    written = (tmp_path / "recall.csv").read_text(encoding="utf-8")
    assert '"\'=HYPERLINK(""http://evil.example"",""click"")"' in written
    assert '"\'+44 20 7946 0000"' in written
    stock = _report(hostile, "stock")
    export(stock, "csv", tmp_path / "stock.csv")
    export(stock, "xlsx", tmp_path / "stock.xlsx")
    assert '"x;=1+1;"' in (tmp_path / "stock.csv").read_text(encoding="utf-8")
    back = pd.read_csv(tmp_path / "stock.csv")
    assert back["on_hand_ml"].dtype == "float64" and back["lot_id"].dtype == "int64"
    sheet = openpyxl.load_workbook(tmp_path / "stock.xlsx").active
    header = [cell.value for cell in sheet[1]]
    on_hand = [row[header.index("on_hand_ml")] for row in sheet.iter_rows(min_row=2)]
    assert {cell.data_type for cell in on_hand} == {"n"} and len(on_hand) == len(LOTS)


def test_a_negative_number_is_a_number_and_text_that_looks_like_one_is_text(tmp_path):
    frame = pd.DataFrame(
        {"lot_number": ["-2", "A1"], "change_ml": [-1.5, 2.0], "containers": [-3, 1]}
    )
    export(frame, "csv", tmp_path / "moves.csv")
    assert (tmp_path / "moves.csv").read_text(encoding="utf-8").splitlines() == [
        '"lot_number","change_ml","containers"',
        '"\'-2",-1.5,-3',
        '"A1",2.0,1',
    ]
    export(frame, "xlsx", tmp_path / "moves.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "moves.xlsx").active
    assert [(c.value, c.data_type) for c in sheet[2]] == [("'-2", "s"), (-1.5, "n"), (-3, "n")]


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("#N/A", "'#N/A"),
        ("\uff1d1+1", "'\uff1d1+1"),  # full-width ＝, ＋, －, ＠
        ("\uff0bSUM(A1)", "'\uff0bSUM(A1)"),
        ("\uff0d1", "'\uff0d1"),
        ("\uff20SUM(A1)", "'\uff20SUM(A1)"),
        ("  =1+1", "'  =1+1"),  # blanks a spreadsheet may trim first
        ("\u3000=1+1", "'\u3000=1+1"),
        ("\n#N/A", "'\n#N/A"),
        ("'=1+1", "'=1+1"),  # already text to a spreadsheet: as it was
        ("A-1=2", "A-1=2"),
        ("", ""),
        (-1, -1),
        (-1.5, -1.5),
        (None, None),
    ],
)
def test_as_text(typed, written):
    assert as_text(typed) == written


def test_inert_marks_text_columns_and_the_header_and_leaves_the_frame_as_it_was():
    frame = pd.DataFrame({"=a": ["=1", None, "b"], "n": [-1, 2, 3], "c": ["x", "y", "z"]})
    marked = inert(frame)
    assert list(marked.columns) == ["'=a", "n", "c"]
    assert list(marked["'=a"].fillna("")) == ["'=1", "", "b"]
    assert list(marked["n"]) == [-1, 2, 3] and list(marked["c"]) == ["x", "y", "z"]
    assert list(frame["=a"].fillna("")) == ["=1", "", "b"]  # the caller's frame is untouched


def test_the_owasp_examples(tmp_path):
    """OWASP's two examples of a cell escaped: apostrophe, double quotes, inner quotes doubled."""
    frame = pd.DataFrame({"a": ['=1+2";=1+2', "=1+2'\" ;,=1+2"]})
    assert export(frame, "csv", None).splitlines()[1:] == [
        '"\'=1+2"";=1+2"',
        '"\'=1+2\'"" ;,=1+2"',
    ]


def test_the_command_line_exports_hostile_names_as_text(tmp_path, clock):
    """`mesomix report … --output x.xlsx` (and .csv, and the CSV printed) as a real process."""
    db = tmp_path / "clinic.sqlite"
    hostile_clinic(build(Settings(database_url=f"sqlite:///{db}", clock=clock))).close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESOMIX_")}
    env["MESOMIX_PASSWORD"] = PASSWORD

    def mesomix(*argv: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "mesomix", "--db", str(db), *argv, "--user", "nadia"],
            capture_output=True, text=True, cwd=ROOT, env=env, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    asked = [("stock", (), "xlsx"), ("recall", LOTS[:1], "xlsx"), ("recall", LOTS[:1], "csv")]
    for name, more, form in asked:
        target = tmp_path / f"{name}.{form}"
        assert f"written to {target}" in mesomix("report", name, *more, "--output", str(target))
        check = assert_inert_xlsx if form == "xlsx" else assert_inert_csv
        assert SHOWN[name] <= check(target), target.name
    printed = mesomix("report", "recall", LOTS[0], "--format", "csv")
    assert printed.rstrip("\n") == (tmp_path / "recall.csv").read_text(encoding="utf-8").rstrip()


WRITERS = {"to_csv", "to_excel", "ExcelWriter", "writer", "DictWriter"}  # pandas' and csv's
SPREADSHEETS = {"openpyxl", "xlsxwriter", "odf", "pyexcel"}


def _writes(node: ast.AST) -> bool:
    """A call that writes CSV or a spreadsheet, an import of a spreadsheet library, or its name
    handed to pandas as the engine."""
    if isinstance(node, ast.Attribute):
        return node.attr in WRITERS
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] in SPREADSHEETS for a in node.names)
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] in SPREADSHEETS or (
            node.module == "csv" and any(a.name in WRITERS for a in node.names)
        )
    return isinstance(node, ast.Constant) and node.value in SPREADSHEETS


def test_only_the_reports_export_writes_csv_or_xlsx():
    """Every CSV and XLSX the program writes goes through reports.service.export, where `inert`
    is: no other module writes one (an export written elsewhere would skip the marking)."""
    found = [
        f"{path.relative_to(ROOT).as_posix()}:{node.lineno}"
        for path in sorted((ROOT / "mesomix").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if _writes(node)
    ]
    assert found, "the scan finds the export itself: it looks where it should"
    assert all(f.startswith("mesomix/reports/service.py:") for f in found), found
