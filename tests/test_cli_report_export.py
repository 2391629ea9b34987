"""`mesomix report … --output FILE` keeps a file that is there: exit status 2, a message on
stderr, the file as it was, unless `--replace` says to write over it."""

from __future__ import annotations

import pytest

from tests.factories import copy_of
from tests.test_cli import run


@pytest.fixture
def clinic_db(tmp_path, cli_demo) -> str:
    """The demo database, in a folder of its own: the exports' folder holds only exports."""
    path = tmp_path / "db" / "cli.sqlite"
    path.parent.mkdir()
    return copy_of(cli_demo, path)


def _export(db: str, target, *more: str, user: str = "nadia") -> tuple[int, str]:
    argv = ("report", "stock-products", "--format", target.suffix[1:], "--output", str(target))
    return run("--db", db, *argv, *more, "--user", user)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_existing_output_file_is_refused_with_status_2_and_kept(
    clinic_db, tmp_path, capsys, suffix
):
    target = tmp_path / f"stock{suffix}"
    target.write_bytes(b"an earlier export")
    status, printed = _export(clinic_db, target)
    error = capsys.readouterr().err
    assert (status, printed) == (2, "")
    # the path may be shortened in the middle when long: its end and the words are whole
    assert f"{target.name} already exists: nothing was written; add --replace" in error
    assert target.read_bytes() == b"an earlier export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db", target.name]  # no part file


def test_refused_before_the_password_is_asked_or_the_report_made(clinic_db, tmp_path, capsys):
    """Nobody types a password to be told the file is there: a user with no password given is
    refused for the file, not for the password."""
    target = tmp_path / "stock.csv"
    target.write_text("an earlier export", encoding="utf-8")
    assert _export(clinic_db, target, user="somebody")[0] == 2
    error = capsys.readouterr().err
    assert "already exists" in error and "password" not in error


def test_replace_writes_over_it_and_says_so(clinic_db, tmp_path, capsys):
    target = tmp_path / "stock.csv"
    target.write_text("an earlier export", encoding="utf-8")
    status, printed = _export(clinic_db, target, "--replace")
    assert status == 0 and printed.strip().endswith(f"{target}, replacing the file there")
    assert target.read_text(encoding="utf-8").startswith(
        '"product","product_name","sealed_containers"'
    )
    fresh = tmp_path / "fresh.csv"
    status, printed = _export(clinic_db, fresh, "--replace")  # nothing there: written all the same
    assert status == 0 and "replacing" not in printed and fresh.exists()


def test_replace_without_an_output_file_is_refused(clinic_db, capsys):
    argv = ("--db", clinic_db, "report", "stock-products", "--format", "csv", "--replace")
    assert run(*argv, "--user", "nadia") == (2, "")
    assert "--replace goes with --output FILE" in capsys.readouterr().err


def test_the_format_follows_the_file_name_and_a_table_is_never_written_silently(
    clinic_db, tmp_path, capsys
):
    target = tmp_path / "stock.xlsx"
    argv = ("--db", clinic_db, "report", "stock-products", "--output", str(target))
    status, printed = run(*argv, "--user", "nadia")
    assert status == 0 and f"written to {target}" in printed
    assert target.read_bytes().startswith(b"PK")  # an XLSX file, as its name says
    for more, says in [
        (("--output", str(tmp_path / "stock.txt")), "stock.txt: name it .csv or .xlsx"),
        (("--output", str(tmp_path / "s.table")), "s.table: name it .csv or .xlsx"),
        (("--format", "table", "--output", str(tmp_path / "s.csv")), "a table is printed"),
    ]:
        assert run("--db", clinic_db, "report", "stock", *more, "--user", "nadia") == (2, "")
        assert says in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db", "stock.xlsx"]
