"""The command line: a mixture with warnings is dispensed only with each one acknowledged
(`--acknowledge KEY`, or `--acknowledge-all`), else exit 2 naming them with their keys and nothing
written; a dose limit per session counts what the patient received today.

The acknowledgement's journey runs as real processes; the other tests call the command line's
`main` in this process (as tests/test_cli.py does), with its own stdin, stdout, stderr and exit
status: they are about what the command decides, not about the process boundary, and a process
costs a second and a half of start-up each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.factories import copy_of
from tests.test_cli import DEMO_PASSWORDS, ROOT, in_process, run

WARNED = """
patient = "P-0020"
final_volume = "5 mL"
diluent = "bacteriostatic_water_30ml_mdv"
[[ingredient]]
what = "lidocaine"
amount = "20 mg"
"""


def mesomix(db: str, *argv: str, user: str = "sam", stdin: str = "") -> subprocess.CompletedProcess:
    """The command as a real process."""
    env = {**os.environ, "MESOMIX_PASSWORD": DEMO_PASSWORDS[user]}
    return subprocess.run(
        [sys.executable, "-m", "mesomix", "--db", db, *argv, "--user", user],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        input=stdin,
        check=False,
    )


def on_main(db: str, *argv: str, user: str = "sam", stdin: str = "") -> subprocess.CompletedProcess:
    """The same command through `main` in this process."""
    return in_process("--db", db, *argv, "--user", user, password=DEMO_PASSWORDS[user], stdin=stdin)


@pytest.fixture
def db(cli_demo, tmp_path) -> str:
    """A copy of the demo database made once for the test process."""
    return copy_of(cli_demo, tmp_path / "cli.sqlite")


def mixture_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mix.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def stock(db: str, run_as: Callable[..., subprocess.CompletedProcess] = mesomix) -> str:
    done = run_as(db, "stock")
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_warnings_must_be_acknowledged_by_key_or_all(db, tmp_path):
    path = mixture_file(tmp_path, WARNED)
    checked = mesomix(db, "mix", "check", path, "--json")
    assert checked.returncode == 0, checked.stderr  # warnings do not block the check
    warnings = [f for f in json.loads(checked.stdout)["findings"] if f["severity"] == "warn"]
    assert [w["code"] for w in warnings] == ["allergy.direct_match", "allergy.not_coded"]
    before = stock(db)

    refused = mesomix(db, "mix", "dispense", path)
    assert (refused.returncode, refused.stdout) == (2, "")
    lines = refused.stderr.splitlines()
    assert lines[0].startswith("mesomix: not dispensed: 2 WARNINGs not acknowledged")
    assert lines[1:] == [f"  WARNING: {w['message']} [{w['key']}]" for w in warnings]

    half = mesomix(db, "mix", "dispense", path, "--acknowledge", warnings[0]["key"])
    assert half.returncode == 2 and half.stderr.splitlines()[1:] == [lines[2]]
    assert stock(db) == before  # nothing written

    done = mesomix(
        db,
        "mix",
        "dispense",
        path,
        "--acknowledge",
        warnings[0]["key"],
        "--acknowledge",
        warnings[1]["key"],
    )
    assert done.returncode == 0, done.stderr
    assert "ACKNOWLEDGED: allergy to Benzyl alcohol" in done.stdout
    assert "  read by Sam Ortega before dispensing" in done.stdout
    batch = done.stdout.split()[2]
    label = mesomix(db, "mix", "label", batch)
    assert "ACKNOWLEDGED: allergy recorded as free text 'nickel'" in label.stdout

    again = mesomix(db, "mix", "dispense", path, "--acknowledge-all")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("ACKNOWLEDGED:") == 2


def test_a_key_not_in_the_mixture_and_both_flags_are_refused(db, tmp_path):
    path = mixture_file(tmp_path, WARNED)
    before = stock(db, on_main)
    stray = on_main(db, "mix", "dispense", path, "--acknowledge-all", "--acknowledge", "x")
    assert stray.returncode == 2 and "not allowed with argument" in stray.stderr
    wrong = on_main(db, "mix", "dispense", path, "--acknowledge", "allergy.not_coded/mix/9/0")
    assert wrong.returncode == 2
    assert wrong.stderr.splitlines()[-1] == (
        "  no WARNING of this mixture has the key 'allergy.not_coded/mix/9/0'"
    )
    assert stock(db, on_main) == before


def test_a_dose_limit_per_session_counts_what_was_dispensed_today(db, tmp_path):
    """P-0003 (84 kg, no allergies): 250 mg lidocaine signed off by Dr Chen, then 190 mg."""
    first = mixture_file(
        tmp_path, 'patient = "P-0003"\n[[ingredient]]\nwhat = "lidocaine"\namount = "250 mg"\n'
    )
    checked = json.loads(on_main(db, "mix", "check", first, "--json").stdout)
    (block,) = [f for f in checked["findings"] if f["severity"] == "block"]
    signed = on_main(
        db,
        "mix",
        "dispense",
        first,
        "--override",
        block["key"],
        "--signed-by",
        "drchen",
        "--reason",
        "dose_clinically_justified",
        "--why",
        "regional block planned",
        "--password-stdin",
        stdin=DEMO_PASSWORDS["drchen"] + "\n",
    )
    assert signed.returncode == 0, signed.stderr
    batch = signed.stdout.split()[2]

    second = mixture_file(
        tmp_path, 'patient = "P-0003"\n[[ingredient]]\nwhat = "lidocaine"\namount = "190 mg"\n'
    )
    checked = on_main(db, "mix", "check", second)
    assert checked.returncode == 1
    assert "250 mg dispensed today at " in checked.stdout
    assert f"(batch {batch}) + 190 mg now = 440 mg > 200 mg maximum" in checked.stdout
    refused = on_main(db, "mix", "dispense", second)
    assert refused.returncode == 2
    assert f"(batch {batch}) + 190 mg now = 440 mg > 200 mg maximum" in refused.stderr


def test_the_session_window_is_a_whole_number_of_hours(db, tmp_path, monkeypatch, capsys):
    path = mixture_file(tmp_path, WARNED)
    for wrong in ("day", "0", "73", "1.5", "２"):
        monkeypatch.setenv("MESOMIX_SESSION_HOURS", wrong)
        assert run("--db", db, "mix", "check", path, "--user", "sam")[0] == 2
        assert "MESOMIX_SESSION_HOURS must be a whole number of hours from 1 to 72" in (
            capsys.readouterr().err
        )
    monkeypatch.setenv("MESOMIX_SESSION_HOURS", "6")
    assert run("--db", db, "mix", "check", path, "--user", "sam")[0] == 0
