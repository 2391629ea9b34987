"""An export never writes over a file that is there unless told to: someone's earlier export is
a record, and a name typed twice must not silently destroy it."""

from __future__ import annotations

import pandas as pd
import pytest

from mesomix.reports.names import ExportExists
from mesomix.reports.service import export
from mesomix.services.errors import ServiceError
from tests.factories import receive


@pytest.fixture
def folder(tmp_path):
    """Exports alone in a folder (the database is in tmp_path), so a left part file shows."""
    made = tmp_path / "exports"
    made.mkdir()
    return made


@pytest.fixture
def stock(clinic) -> pd.DataFrame:
    receive(clinic, "lidocaine_2pct_2ml_amp", "L1", 10)
    return clinic.reports.report("nadia", "stock")


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_an_existing_file_is_refused_and_left_as_it_was(stock, folder, form):
    target = folder / f"stock.{form}"
    target.write_bytes(b"an earlier export")
    with pytest.raises(ExportExists, match=r"stock\.\w+ already exists: nothing was written"):
        export(stock, form, target)
    assert issubclass(ExportExists, ServiceError)  # a refusal like any other to the callers
    assert target.read_bytes() == b"an earlier export"
    assert [p.name for p in folder.iterdir()] == [target.name]  # no part file left


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_told_to_replace_it_the_file_is_written_whole_and_the_answer_says_so(stock, folder, form):
    target = folder / f"stock.{form}"
    target.write_bytes(b"an earlier export")
    said = export(stock, form, target, replace=True)
    assert said == f"1 rows written to {target}, replacing the file there"
    read = pd.read_csv(target) if form == "csv" else pd.read_excel(target)
    assert list(read["lot_number"]) == ["L1"]
    assert [p.name for p in folder.iterdir()] == [target.name]


def test_a_new_file_needs_no_saying_and_a_folder_is_still_a_folder(stock, folder):
    assert export(stock, "csv", folder / "new.csv") == f"1 rows written to {folder / 'new.csv'}"
    assert export(stock, "csv", folder / "new2.csv", replace=True).endswith("new2.csv")
    (folder / "a-folder.csv").mkdir()
    for replace in (False, True):
        with pytest.raises(ServiceError, match="cannot be written: it is a folder"):
            export(stock, "csv", folder / "a-folder.csv", replace=replace)
