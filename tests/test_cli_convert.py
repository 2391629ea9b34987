"""`mesomix convert`: plain units and strengths convert alone; a substance (or product) is asked
for only when the conversion depends on it, saying why."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.test_cli import ROOT, run


def test_plain_units_and_strengths_convert_without_a_substance_as_a_real_process(tmp_path):
    """The issue's three commands, each a process of its own, on no database at all."""
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    printed = []
    for amount, target in (("0.25 mg", "mcg"), ("2 %", "mg/mL"), ("1:1000", "mg/mL")):
        done = subprocess.run(
            [sys.executable, "-m", "mesomix", "convert", amount, "--to", target],
            capture_output=True, text=True, cwd=ROOT, env=env, check=False,
        )  # fmt: skip
        assert (done.returncode, done.stderr) == (0, "")
        printed.append(done.stdout)
    assert printed == ["250 mcg\n", "20 mg/mL\n", "1 mg/mL\n"]
    assert list(tmp_path.iterdir()) == []  # no database was made for them


@pytest.mark.parametrize(
    ("argv", "printed"),
    [
        (("1.5 g", "--to", "mg"), "1500 mg"),
        (("1 L", "--to", "mL"), "1000 mL"),
        (("250 mcg", "--to", "mg"), "0.25 mg"),
        (("2 mmol", "--to", "mmol"), "2 mmol"),
        (("20 mg/mL", "--to", "%"), "2 %"),
        (("1:100,000", "--to", "mcg/mL"), "10 mcg/mL"),
        (("500 mg/5 mL", "--to", "g/mL"), "0.1 g/mL"),
        (("0.5 %", "--to", "mg/mL"), "5 mg/mL"),
    ],
)
def test_same_kind_converts_alone(argv, printed, tmp_path):
    assert run("--db", str(tmp_path / "none.sqlite"), "convert", *argv) == (0, printed + "\n")
    assert not (tmp_path / "none.sqlite").exists()


def test_a_strength_through_a_substance_when_the_kind_changes(tmp_path):
    db = str(tmp_path / "cli.sqlite")
    argv = ("1000 IU/mL", "--substance", "cholecalciferol", "--to", "mcg/mL")
    assert run("--db", db, "convert", *argv) == (0, "25 mcg/mL\n")


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("1000 IU", "--to", "mcg"), "an IU is a different amount for each substance"),
        (("1000 IU", "--to", "mcg"), "add --substance NAME"),
        (
            ("5 mEq", "--to", "mg"),
            "mEq to a mass depends on the substance's molar mass and valence",
        ),
        (("5 mmol", "--to", "mg"), "mmol to a mass depends on the substance's molar mass: add"),
        (("5 mEq", "--to", "mmol"), "mEq to mmol depends on the substance's valence"),
        (
            ("40 mg", "--to", "mL"),
            "a mass to a volume depends on the product's strength: add --product CODE",
        ),
        (("2 mL", "--to", "mg"), "a volume to a mass depends on the product's strength"),
        (
            ("100 mg", "--to", "mg", "--elemental"),
            "the element a salt supplies depends on the salt",
        ),
        (("2 %", "--to", "IU/mL"), "an IU is a different amount"),
        (("2 %", "--to", "mg"), "2 % is a strength: convert it to a strength"),
        (("0.25 mg", "--to", "mg/mL"), "0.25 mg is an amount, not a strength"),
        (("2 %", "--to", "mg/mL", "--elemental"), "--elemental converts an amount of a salt"),
        (("150 %", "--to", "mg/mL"), "cannot exceed 100 %"),
        (("2:1000", "--to", "mg/mL"), "a ratio strength is written 1:N"),
    ],
)
def test_what_depends_on_the_substance_is_refused_saying_why(tmp_path, capsys, argv, says):
    assert run("--db", str(tmp_path / "none.sqlite"), "convert", *argv) == (2, "")
    assert says in capsys.readouterr().err
