"""The command line helps the person at it: an unknown product code is refused with the codes it
is close to, reports print as tables a person reads at 80 columns, `mix check` says what was
asked and what the ingredients add up to, and a file too big to be what it claims is refused.

Each test works on its own copy of one demo database made once per module (no migration per
test); one real process per point, the rest in this process."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from tests.test_cli import DEMO_PASSWORDS, ROOT, run


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("cli-help-template") / "demo.sqlite"
    assert run("--db", str(path), "demo")[0] == 0
    return str(path)


@pytest.fixture
def demo_db(demo_template, tmp_path) -> str:
    """A copy of the demo database (the template is closed: WAL is checkpointed on close)."""
    copy = tmp_path / "db" / "demo.sqlite"
    copy.parent.mkdir()
    shutil.copyfile(demo_template, copy)
    return str(copy)


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
