"""`mesomix search` and `mix check` read a name as on the box through the one matcher: real
processes on a copy of the demo database."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.test_cli_acknowledge import (  # noqa: F401 (fixture: a copy of the session's demo)
    ROOT,
    db,
    mesomix,
    mixture_file,
)


def search(db: str, *argv: str) -> subprocess.CompletedProcess:  # noqa: F811
    """The catalogue is everyone's to read: no sign-in."""
    return subprocess.run(
        [sys.executable, "-m", "mesomix", "--db", db, "search", *argv],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip


def test_search_matches_a_strength_whole(db):  # noqa: F811
    done = search(db, "lidocaine 2%", "--limit", "20")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines and all("2%" in line for line in lines), lines
    assert not any("1%" in line or "0.3%" in line for line in lines)
    assert "lidocaine_2pct_2ml_amp" in done.stdout


def test_search_for_a_strength_no_product_has_says_which_there_are(db):  # noqa: F811
    done = search(db, "lidocaine 3%")
    assert done.returncode == 1 and done.stdout == ""
    assert "no lidocaine product is 3%" in done.stderr and "1%" in done.stderr


def test_mix_check_reads_ingredients_by_the_name_on_the_box(db, tmp_path):  # noqa: F811
    path = mixture_file(
        tmp_path,
        'patient = "P-0003"\nfinal_volume = "10 mL"\n'
        '[[ingredient]]\nwhat = "Xylocaine 2% 10 mL"\namount = "40 mg"\n'
        '[[ingredient]]\nwhat = "Lidocaine Hydrochloride Injection 2% 2 mL ampoule"\n'
        'amount = "1 mL"\n',
    )
    done = mesomix(db, "mix", "check", path, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    plan = json.loads(done.stdout)
    drawn = [draw["product"] for draw in plan["draws"]]
    assert drawn[:2] == ["xylocaine_2pct_10ml_mdv", "lidocaine_2pct_2ml_amp"], drawn


def test_mix_check_refuses_a_strength_no_product_has(db, tmp_path):  # noqa: F811
    path = mixture_file(
        tmp_path, 'patient = "P-0003"\n[[ingredient]]\nwhat = "lidocaine 3%"\namount = "40 mg"\n'
    )
    done = mesomix(db, "mix", "check", path)
    assert done.returncode != 0
    assert "no lidocaine product is 3%: there are 1% and 2%" in done.stdout
