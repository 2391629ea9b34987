"""Scans through the command line: a box received by its code, the vials of a three-ingredient
mixture verified at the bench (`--scan`, or one a line from standard input as a scanner types
them), a wrong vial refused, and the clinic's rule that every draw be scanned."""

from __future__ import annotations

import tomllib
from datetime import date

import pytest

from mesomix.reference import data_dir
from tests.factories import copy_of, scan_of
from tests.test_cli import in_process

DEMO = {"sam": "demo-staff-2026", "nadia": "demo-manager-2026"}
GTINS = tomllib.loads((data_dir() / "demo" / "gtins.toml").read_text(encoding="utf-8"))["gtin"]
BOX = {g["product"]: g["code"] for g in GTINS if g["packaging"] == "box"}
LIDO = "lidocaine_2pct_2ml_amp"
B12 = "cyanocobalamin_1000mcg_1ml_vial"
TXA = "cyklokapron_500mg_5ml_amp"
SALINE = "sodium_chloride_09_10ml_vial"
EXPIRY = date(2029, 3, 31)  # later than any demo lot: the first to expire is another
MIXTURE = f"""
patient = "P-0002"
final_volume = "5 mL"
diluent = "{SALINE}"

[[ingredient]]
what = "lidocaine"
amount = "20 mg"
product = "{LIDO}"

[[ingredient]]
what = "cyanocobalamin"
amount = "500 mcg"
product = "{B12}"

[[ingredient]]
what = "tranexamic acid"
amount = "100 mg"
product = "{TXA}"
"""


@pytest.fixture
def demo_db(cli_demo, tmp_path) -> str:
    return str(copy_of(cli_demo, tmp_path / "demo.sqlite"))


def as_(user: str, db: str, *argv: str, stdin: str = ""):
    return in_process("--db", db, *argv, "--user", user, password=DEMO[user], stdin=stdin)


def vial(product: str, lot: str) -> str:
    return scan_of(BOX[product], lot, EXPIRY)


def test_receive_verify_and_dispense_by_scan_on_the_command_line(demo_db, tmp_path):
    for product, lot in ((LIDO, "CL-LD"), (B12, "CL-B12"), (TXA, "CL-TX"), (SALINE, "CL-NS")):
        done = as_(
            "nadia", demo_db, "lot", "receive", "--scan", vial(product, lot), "--containers", "5"
        )
        assert done.returncode == 0, done.stderr
        assert f"received lot {lot}" in done.stdout and product in done.stdout
    refused = as_(
        "nadia",
        demo_db,
        "lot",
        "receive",
        "--scan",
        scan_of(BOX[LIDO], "CL-LD", date(2029, 4, 30)),
        "--containers",
        "1",
    )
    assert refused.returncode == 2 and "on record with expiry 2029-03-31" in refused.stderr

    mixture = tmp_path / "mixture.toml"
    mixture.write_text(MIXTURE, encoding="utf-8")
    scans = [vial(LIDO, "CL-LD"), vial(B12, "CL-B12"), vial(TXA, "CL-TX"), vial(SALINE, "CL-NS")]
    checked = as_("sam", demo_db, "mix", "check", str(mixture), *[f"--scan={s}" for s in scans])
    assert checked.stdout.count("verified by scan:") == 4, checked.stdout
    assert "lot CL-LD scanned, so it is drawn from instead of lot" in checked.stdout

    wrong = [*scans, scan_of(BOX["kybella_2ml_vial"], "KB-X", EXPIRY)]
    blocked = as_(
        "sam",
        demo_db,
        "mix",
        "dispense",
        str(mixture),
        "--acknowledge-all",
        *[f"--scan={s}" for s in wrong],
    )
    assert blocked.returncode != 0 and "Kybella" in blocked.stderr + blocked.stdout

    typed = "".join(f"{s}\n" for s in scans)  # the scanner ends each with Enter
    done = as_(
        "sam",
        demo_db,
        "mix",
        "dispense",
        str(mixture),
        "--acknowledge-all",
        "--scans-stdin",
        stdin=typed,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("dispensed batch ")


def test_the_clinic_rule_is_set_by_a_manager_and_holds_on_the_command_line(demo_db, tmp_path):
    assert as_("sam", demo_db, "clinic", "scan-rule", "required").returncode == 2
    done = as_("nadia", demo_db, "clinic", "scan-rule", "required", "--reason", "audit finding")
    assert done.returncode == 0 and "required before every dispense" in done.stdout
    assert "required" in as_("sam", demo_db, "clinic", "scan-rule").stdout
    mixture = tmp_path / "mixture.toml"
    mixture.write_text(MIXTURE, encoding="utf-8")
    checked = as_("sam", demo_db, "mix", "check", str(mixture))
    assert checked.stdout.count("not verified: scan the vial of") == 4
    both = as_("sam", demo_db, "mix", "check", str(mixture), "--scan", "")
    assert both.returncode == 2 and "--scan needs what the scanner read" in both.stderr


def test_a_label_is_printed_as_pdf_or_zpl_and_found_again_by_its_scanned_code(demo_db, tmp_path):
    mixture = tmp_path / "mixture.toml"
    mixture.write_text(MIXTURE, encoding="utf-8")
    done = as_("sam", demo_db, "mix", "dispense", str(mixture), "--acknowledge-all")
    batch = int(done.stdout.split()[2])
    code = f"MXB{batch:09d}"
    zpl = as_("sam", demo_db, "mix", "label", code, "--format", "zpl", "--size", "4x6")
    assert zpl.returncode == 0 and zpl.stdout.startswith("^XA") and f"^FD{code}^FS" in zpl.stdout
    saved = as_(
        "sam", demo_db, "mix", "label", str(batch), "--format", "pdf", "--save", str(tmp_path)
    )
    assert saved.returncode == 0
    assert (tmp_path / f"batch-{batch:06d}-label-62mm.pdf").read_bytes().startswith(b"%PDF")
    for argv, said in (
        (("--format", "pdf"), "a PDF label is a file: add --save"),
        (("--format", "zpl", "--print"), "--print sends the text label"),
    ):
        refused = as_("sam", demo_db, "mix", "label", str(batch), *argv)
        assert refused.returncode == 2 and said in refused.stderr
    refused = as_("sam", demo_db, "mix", "label", "MXB12")
    assert refused.returncode == 2 and "neither a batch number nor a label's code" in refused.stderr
