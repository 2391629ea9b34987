"""The command line helps the person at it: an unknown product code is refused with the codes it
is close to, reports print as tables a person reads at 80 columns, `mix check` says what was
asked and what the ingredients add up to, and a file too big to be what it claims is refused.

Each test works on its own copy of one demo database made once per module (no migration per
test); one real process per point, the rest in this process."""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import copy_of
from tests.test_cli import DEMO_PASSWORDS, ROOT, run


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("cli-help-template") / "demo.sqlite"
    assert run("--db", str(path), "demo")[0] == 0
    return str(path)


@pytest.fixture
def demo_db(demo_template, tmp_path) -> str:
    """A copy of the demo database, what is still in its write-ahead log included (the command
    that made it ran in this process, whose engine closes when the garbage collector says)."""
    copy = tmp_path / "db" / "demo.sqlite"
    copy.parent.mkdir()
    return copy_of(Path(demo_template), copy)


def mesomix(db: str, *argv: str, user: str = "nadia") -> subprocess.CompletedProcess[str]:
    """A real process, signed in as `user` with the demo password."""
    env = {**os.environ, "MESOMIX_PASSWORD": DEMO_PASSWORDS[user]}
    return subprocess.run(
        [sys.executable, "-m", "mesomix", "--db", db, *argv, "--user", user],
        capture_output=True, text=True, cwd=ROOT, env=env, check=False,
    )  # fmt: skip


# --- stock --product ------------------------------------------------------------------------


def test_an_unknown_product_code_is_refused_with_the_codes_it_is_close_to(demo_db):
    done = mesomix(demo_db, "stock", "--product", "lidocaine_2pct_2ml_ap")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(
        "mesomix: no product has the code 'lidocaine_2pct_2ml_ap': did you mean "
        "lidocaine_2pct_2ml_amp (Lidocaine Hydrochloride Injection 2% 2 mL ampoule"
    )


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("nosuch", "no product has the code 'nosuch': find it with mesomix search NAME"),
        ("lidocaine 2%", "did you mean lidocaine_"),
        ("", "--product needs a product's code"),
    ],
)
def test_stock_of_what_is_no_product_is_refused(demo_db, capsys, typed, says):
    assert run("--db", demo_db, "stock", "--product", typed, "--user", "nadia") == (2, "")
    assert says in capsys.readouterr().err


def test_a_product_with_no_stock_is_named_and_not_an_error(demo_db):
    """A real code with nothing on the shelf is an answer (exit 0), by the product's name."""
    code = "amphadase_150u_1ml_vial"
    with sqlite3.connect(demo_db) as connection:
        lots = connection.execute(
            "SELECT lot.id, lot.on_hand_ul / product.container_volume_ul FROM lot "
            "JOIN product ON product.code = lot.product_code WHERE product_code = ?",
            (code,),
        ).fetchall()
    assert lots
    for lot, containers in lots:
        argv = ("lot", "return", str(lot), "--containers", str(containers), "--user", "nadia")
        assert run("--db", demo_db, *argv)[0] == 0
    status, printed = run("--db", demo_db, "stock", "--product", code, "--user", "nadia")
    assert status == 0
    assert printed.startswith("no stock of Amphadase (hyaluronidase injection, bovine) 150 units")
    assert printed.endswith(" (amphadase_150u_1ml_vial)\n")


# --- mix check: the final volume asked and what the ingredients add up to -------------------

MIXTURE = """patient = "P-0003"
storage = "room"
{final}
[[ingredient]]
what = "lidocaine"
amount = "20 mg"

[[ingredient]]
what = "tranexamic acid"
amount = "{tranexamic}"
"""


def _mixture(tmp_path, *, final: str = 'final_volume = "5 mL"', tranexamic: str = "50 mg"):
    path = tmp_path / "mixture.toml"
    path.write_text(MIXTURE.format(final=final, tranexamic=tranexamic), encoding="utf-8")
    return str(path)


def test_over_the_final_volume_says_what_was_asked_and_what_the_ingredients_add_up_to(
    demo_db, tmp_path
):
    """2 mL of lidocaine 1 % and 30 mL of tranexamic acid into 5 mL: never "Final volume 32 mL"."""
    done = mesomix(demo_db, "mix", "check", _mixture(tmp_path, tranexamic="3000 mg"), user="sam")
    assert done.returncode == 1  # it blocks
    lines = done.stdout.splitlines()
    assert lines[0] == "Final volume asked 5 mL; the ingredients add up to 32 mL, more than that"
    assert not any(line.startswith("Final volume 32") for line in lines)
    assert (
        "  BLOCK: the ingredients add up to 32 mL, more than the final volume 5 mL asked: ask for "
        "a larger final volume, or less of an ingredient [mixture.over_final_volume/"
    ) in done.stdout


@pytest.mark.parametrize(
    ("final", "first_line"),
    [
        (
            'final_volume = "5 mL"',
            "Final volume 5 mL; the ingredients add up to 2.5 mL, the diluent makes up the rest",
        ),
        ('final_volume = "2.5 mL"', "Final volume 2.5 mL; the ingredients add up to it"),
        ("", "Final volume: none asked; the ingredients add up to 2.5 mL"),
    ],
)
def test_the_final_volume_line(demo_db, tmp_path, final, first_line):
    status, printed = run(
        "--db", demo_db, "mix", "check", _mixture(tmp_path, final=final), "--user", "sam"
    )
    assert status == 0
    assert printed.splitlines()[0] == first_line


def test_json_gives_both_volumes(demo_db, tmp_path):
    path = _mixture(tmp_path, tranexamic="3000 mg")
    status, printed = run("--db", demo_db, "mix", "check", path, "--json", "--user", "sam")
    plan = json.loads(printed)
    assert status == 1
    assert (plan["final_volume_asked"], plan["ingredients_volume"]) == ("5 mL", "32 mL")


# --- files too big to be what they claim -----------------------------------------------------


def _counts(db: str) -> tuple[int, ...]:
    with sqlite3.connect(db) as connection:
        return tuple(
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("batch", "movement", "audit", "allergy")
        )


def test_a_50_mb_mixture_file_is_refused_and_nothing_dispensed(demo_db, tmp_path):
    """A real mixture followed by 50 MB (sparse: made at once, never read whole)."""
    path = tmp_path / "mixture.toml"
    path.write_text(MIXTURE.format(final='final_volume = "5 mL"', tranexamic="50 mg"))
    with path.open("r+b") as file:
        file.truncate(50 * 1024 * 1024)
    before = _counts(demo_db)
    done = mesomix(demo_db, "mix", "dispense", str(path), "--acknowledge-all", user="sam")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("mesomix: ")  # a long path is shortened in its middle
    assert done.stderr.endswith(
        " is 52,428,800 bytes (50 MiB): a mixture file may be at most "
        "65,536 bytes (64 KiB) — is it the right file? Nothing was done\n"
    )
    assert _counts(demo_db) == before


def test_a_mixture_file_at_the_limit_is_read(demo_db, tmp_path):
    text = MIXTURE.format(final='final_volume = "5 mL"', tranexamic="50 mg")
    path = tmp_path / "mixture.toml"
    path.write_text(text + "#" * (64 * 1024 - len(text) - 1) + "\n", encoding="utf-8")
    assert path.stat().st_size == 64 * 1024
    assert run("--db", demo_db, "mix", "check", str(path), "--user", "sam")[0] == 0
    with path.open("a") as file:
        file.write("\n")
    assert run("--db", demo_db, "mix", "check", str(path), "--user", "sam")[0] == 2


def test_a_file_without_an_end_is_read_no_further_than_the_limit(demo_db, capsys):
    assert run("--db", demo_db, "mix", "check", "/dev/zero", "--user", "sam") == (2, "")
    assert "/dev/zero goes on past 65,536 bytes (64 KiB), the most a mixture file may be" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("argv", "size", "says"),
    [
        (
            ("allergy", "import", "{file}", "--patient", "P-0001", "--user", "drchen"),
            17 * 1024 * 1024,
            "is 17,825,792 bytes (17 MiB): an allergy file may be at most 16,777,216 bytes (16 MiB)",
        ),
        (
            ("audit", "verify", "--anchor", "{file}", "--user", "nadia"),
            17 * 1024 * 1024,
            "is 17,825,792 bytes (17 MiB): an anchor file may be at most 16,777,216 bytes (16 MiB)",
        ),
        (
            ("import", "stock", "{file}", "--user", "nadia"),
            100_000_001,
            "is 100,000,001 bytes: an import may be at most 100,000,000 bytes (100 MB) — split",
        ),
    ],
)
def test_every_file_the_command_line_reads_has_a_limit(demo_db, tmp_path, capsys, argv, size, says):
    path = tmp_path / "big"
    with path.open("wb") as file:
        file.truncate(size)
    before = _counts(demo_db)
    status, printed = run("--db", demo_db, *(a.format(file=path) for a in argv))
    assert (status, printed) == (2, "")
    assert says in capsys.readouterr().err
    assert _counts(demo_db) == before


# --- report: a table a person reads at 80 columns -------------------------------------------

REPORTS = ("stock", "stock-products", "expiring", "usage", "waste", "mixtures", "makers")
RAW = ("<NA>", "NaN", "None", "False", "True", "nan")


def _report(db: str, *argv: str) -> tuple[int, str]:
    return run("--db", db, "report", *argv, "--user", "nadia")


def test_report_stock_is_a_table_at_80_columns_with_the_exports_data(demo_db, tmp_path):
    """The issue's command as a process: words for headings, every lot of the export, no raw
    frame values, nothing past column 80."""
    done = mesomix(demo_db, "report", "stock")
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0].split() == ["product", "lot", "expiry", "status", "on", "hand", "mL", "value"]
    assert lines[-1] == "(6 of 10 columns: --wide for all, --columns to choose)"
    assert not any(raw in line.split() for line in lines for raw in RAW)
    export = tmp_path / "stock.csv"
    assert mesomix(demo_db, "report", "stock", "--output", str(export)).returncode == 0
    with export.open(encoding="utf-8") as file:
        exported = list(csv.DictReader(file))
    rows = lines[1:-1]
    assert len(rows) == len(exported) > 100
    for row, record in zip(rows, exported, strict=True):
        name, lot, expiry, state, on_hand, value = re.split(r"\s{2,}", row.strip())
        assert record["product_name"].startswith(name.removesuffix("…"))
        assert (lot, expiry) == (record["lot_number"], record["expiry"])
        assert (on_hand, value) == (
            f"{float(record['on_hand_ml']):,g}",
            f"{float(record['value']):,.2f}",
        )
        if record["expired"] == "True":  # said in the status, as `mesomix stock` says it
            assert state == (
                "expired" if record["status"] == "available" else f"{record['status']}, expired"
            )
        else:
            assert state == record["status"]


@pytest.mark.parametrize("name", REPORTS)
def test_every_report_prints_words_within_80_columns(demo_db, name):
    status, printed = _report(demo_db, name)
    lines = printed.splitlines()
    assert status == 0 and len(lines) >= 2
    assert max(len(line) for line in lines) <= 80
    assert "_" not in lines[0]  # headings in words, not the export's names
    assert not any(raw in line.split() for line in lines for raw in RAW)


def test_usage_shows_the_latest_months_that_fit_and_the_totals(demo_db):
    def months(*more: str) -> list[str]:
        status, printed = _report(demo_db, "usage", *more)
        assert status == 0
        heading = printed.splitlines()[0].split()
        assert heading[-3:] == ["batches", "total", "mL"]
        return [word for word in heading if word[:4].isdigit()]

    shown, every = months(), months("--wide")
    assert len(every) == 12 and 2 <= len(shown) < 12
    assert shown == every[-len(shown) :]


def test_wide_shows_every_column_and_names_whole(demo_db):
    status, printed = _report(demo_db, "stock", "--wide")
    lines = printed.splitlines()
    assert status == 0
    assert lines[0].split()[:3] == ["code", "product", "lot"]
    assert lines[0].rstrip().endswith("expired")
    assert (
        "Amphadase (hyaluronidase injection, bovine) 150 units/mL 1 mL single-dose vial" in printed
    )
    assert "…" not in printed and not lines[-1].startswith("(")


def test_columns_chooses_by_the_exports_names_in_the_order_given(demo_db):
    status, printed = _report(demo_db, "stock", "--columns", "lot_number, expired,product")
    lines = printed.splitlines()
    assert status == 0
    assert lines[0].split() == ["lot", "expired", "code"]
    assert lines[1].split() == ["9WU6987", "no", "amphadase_150u_1ml_vial"]


def test_recall_names_batches_and_patients(demo_db):
    with sqlite3.connect(demo_db) as connection:
        (lot,) = connection.execute(
            "SELECT lot_id FROM movement WHERE batch_id IS NOT NULL ORDER BY id LIMIT 1"
        ).fetchone()
    status, printed = _report(demo_db, "recall", "--lot-id", str(lot))
    lines = printed.splitlines()
    assert status == 0
    assert re.fullmatch(r"lot \S+ \(available\) · [a-z0-9_]+", lines[0])
    headings = ["batch", "made", "at", "patient", "name", "volume", "mL", "made", "by"]
    assert lines[2].split() == headings
    assert re.match(r"\s*\d+  \d{4}-\d\d-\d\d \d\d:\d\d  P-\d{4}", lines[3])
    assert max(len(line) for line in lines) <= 80


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            ("stock", "--columns", "lot_number,nope"),
            "the stock report has no column 'nope': it has product, product_name, lot_id",
        ),
        (("stock", "--columns", " , "), "--columns needs the names of columns"),
        (("stock", "--wide", "--columns", "lot_number"), "give --columns or --wide, not both"),
        (("stock", "--wide", "--format", "csv"), "an export keeps every column"),
        (
            ("stock", "--columns", "lot_number", "--output", "x.xlsx"),
            "an export keeps every column",
        ),
    ],
)
def test_table_options_refused(demo_db, capsys, argv, says):
    assert _report(demo_db, *argv) == (2, "")
    assert says in capsys.readouterr().err


# --- --demo: the README's commands on the demo database ---------------------------------------


def test_demo_makes_and_fills_the_demo_database_for_any_command(tmp_path, monkeypatch):
    """As the application does: the first command with --demo finds the demo set there, so a
    demo user signs in; the `demo` command itself is not filled twice."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("MESOMIX_DATABASE_URL", raising=False)
    status, printed = run(
        "--demo", "stock", "--product", "lidocaine_1pct_2ml_amp", "--user", "nadia"
    )
    assert status == 0 and "Lidocaine Hydrochloride Injection 1% 2 mL" in printed
    assert (tmp_path / "mesomix" / "demo.sqlite").exists()
    assert run("--demo", "demo", "--replace", "--user", "admin")[0] == 0
