"""The command line: results on stdout; bad input on stderr with exit status 2 and nothing written."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mesomix.cli import main
from tests.factories import copy_of

ROOT = Path(__file__).resolve().parents[1]


DEMO_PASSWORDS = {
    "sam": "demo-staff-2026",
    "drchen": "demo-practitioner-2026",
    "nadia": "demo-manager-2026",
    "admin": "demo-admin-2026",
}


def run(*argv: str) -> tuple[int, str]:
    """The command in this process; whoever `--user` names signs in with their demo password."""
    out = io.StringIO()
    user = argv[argv.index("--user") + 1] if "--user" in argv else None
    previous = os.environ.pop("MESOMIX_PASSWORD", None)
    if user in DEMO_PASSWORDS:
        os.environ["MESOMIX_PASSWORD"] = DEMO_PASSWORDS[user]
    try:
        return main(list(argv), out), out.getvalue()
    finally:
        os.environ.pop("MESOMIX_PASSWORD", None)
        if previous is not None:
            os.environ["MESOMIX_PASSWORD"] = previous


def in_process(
    *argv: str, password: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The command through `main` in this process, answering as its process would: the exit
    status (argparse's own refusals included), stdout and stderr. For tests about what a command
    decides rather than about the process boundary: a process costs a second and more to start."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MESOMIX_PASSWORD", password)
        patch.setattr(sys, "stdin", io.StringIO(stdin))
        if cwd is not None:
            patch.chdir(cwd)
        with contextlib.redirect_stderr(err):
            try:
                status = main(list(argv), out)
            except SystemExit as exited:
                status = exited.code
    return subprocess.CompletedProcess(list(argv), status, out.getvalue(), err.getvalue())


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "cli.sqlite")


@pytest.fixture
def demo_db(db, cli_demo) -> str:
    """A copy of the demo database `mesomix demo` made once for the test process."""
    return copy_of(cli_demo, Path(db))


def test_convert_as_a_real_process(db):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mesomix",
            "--db",
            db,
            "convert",
            "1000 IU",
            "--substance",
            "cholecalciferol",
            "--to",
            "mcg",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "25 mcg\n", "")


@pytest.mark.parametrize(
    ("argv", "printed"),
    [
        (("1000 IU", "--substance", "vitamin D3", "--to", "mcg"), "25 mcg"),
        (("25 mcg", "--substance", "cholecalciferol", "--to", "IU"), "1000 IU"),
        (("100 IU", "--substance", "d_alpha_tocopherol", "--to", "mg"), "67 mg"),
        (
            ("4.06 mEq", "--substance", "magnesium_sulfate_heptahydrate", "--to", "mg"),
            "500.3341 mg",
        ),
        (
            ("100 mg", "--substance", "zinc_sulfate_heptahydrate", "--to", "mg", "--elemental"),
            "22.738 mg zinc (elemental)",
        ),
        (("40 mg", "--product", "lidocaine_2pct_2ml_amp", "--to", "mL"), "2 mL"),
        (("1.5 mL", "--product", "lidocaine_2pct_2ml_amp", "--to", "mg"), "30 mg"),
        (("0.5 mL", "--product", "cyanocobalamin_1000mcg_1ml_vial", "--to", "mcg"), "500 mcg"),
    ],
)
def test_convert(db, argv, printed):
    assert run("--db", db, "convert", *argv) == (0, printed + "\n")


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("1000 IU", "--substance", "biotin", "--to", "mg"), "has no IU definition"),
        (
            ("1000 IU", "--substance", "unobtainium", "--to", "mg"),
            "unknown substance 'unobtainium'",
        ),
        (("1000 units", "--substance", "cholecalciferol", "--to", "mg"), "write IU"),
        (("5 mg", "--substance", "biotin", "--to", "furlong"), "--to furlong"),
        (("5 mg", "--product", "nope", "--to", "mL"), "unknown product 'nope'"),
        (("5 mg", "--substance", "biotin", "--to", "mL"), "use --product"),
        (("5 mg", "--substance", "biotin", "--to", "mg", "--elemental"), "no elemental"),
    ],
)
def test_convert_refusals(db, capsys, argv, says):
    status, printed = run("--db", db, "convert", *argv)
    assert status == 2 and printed == ""
    assert says in capsys.readouterr().err


def test_argument_mistakes_exit_2(db, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--db", db, "convert", "5 mg", "--substance", "biotin"])
    assert exited.value.code == 2
    assert "--to" in capsys.readouterr().err


def test_demo_fills_and_refuses_to_mix_with_other_data(db, capsys):
    status, printed = run("--db", db, "demo")
    assert status == 0 and "20 patients" in printed
    status, _ = run("--db", db, "demo")
    assert status == 2 and "--replace" in capsys.readouterr().err
    assert run("--db", db, "demo", "--replace", "--user", "admin")[0] == 0


def test_database_url_from_the_environment(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'env.sqlite'}"
    monkeypatch.setenv("MESOMIX_DATABASE_URL", url)
    status, printed = run("demo")
    assert status == 0 and str(tmp_path / "env.sqlite") in printed


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mix.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


MIX = """
patient = "P-0003"
final_volume = "5 mL"
[[ingredient]]
what = "lidocaine"
amount = "20 mg"
[[ingredient]]
what = "tranexamic acid"
amount = "50 mg"
"""


def test_mix_check_json_then_dispense(demo_db, tmp_path):
    path = write(tmp_path, MIX)
    status, printed = run("--db", demo_db, "mix", "check", path, "--user", "sam", "--json")
    plan = json.loads(printed)
    assert status == 0 and plan["dispensable"] and plan["final_volume"] == "5 mL"
    assert [d["delivers"] for d in plan["draws"][:2]] == [
        {"lidocaine_hcl": "20 mg"},
        {"tranexamic_acid": "50 mg"},
    ]
    _, stock_before = run("--db", demo_db, "stock", "--user", "sam")
    status, printed = run("--db", demo_db, "mix", "dispense", path, "--user", "sam")
    assert status == 0 and printed.startswith("dispensed batch")
    assert run("--db", demo_db, "stock", "--user", "sam")[1] != stock_before


def test_a_label_shown_saved_and_refused(demo_db, tmp_path, capsys, monkeypatch):
    status, printed = run("--db", demo_db, "mix", "dispense", write(tmp_path, MIX), "--user", "sam")
    batch = printed.split()[2]
    label = printed.split("\n", 1)[1].rstrip("\n")
    assert run("--db", demo_db, "mix", "label", batch, "--user", "sam") == (0, label + "\n")
    monkeypatch.setenv("MESOMIX_LABELS", str(tmp_path / "labels"))
    status, printed = run("--db", demo_db, "mix", "label", batch, "--user", "sam", "--save")
    saved = tmp_path / "labels" / f"batch-{int(batch):06d}-label.txt"
    assert (status, printed) == (0, f"saved to {saved}\n")
    assert saved.read_text(encoding="utf-8") == f"Batch {batch}\n{label}\n"
    assert run("--db", demo_db, "mix", "label", "424242", "--user", "sam")[0] == 2
    assert "no batch 424242" in capsys.readouterr().err
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert run("--db", demo_db, "mix", "label", batch, "--user", "sam", "--print")[0] == 2
    assert "no print command" in capsys.readouterr().err


def test_mix_check_blocked_exits_1_and_says_why(demo_db, tmp_path):
    path = write(tmp_path, MIX.replace('"20 mg"', '"20 Mg"'))
    status, printed = run("--db", demo_db, "mix", "check", path, "--user", "sam")
    assert status == 1 and "BLOCK:" in printed and "megagrams" in printed


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("patient = ", "not valid TOML"),
        ('patient = "P-0003"\n', "no [[ingredient]]"),
        ('colour = "red"\n[[ingredient]]\nwhat="biotin"\namount="5 mg"\n', "unknown key(s) colour"),
        ('[[ingredient]]\nwhat="biotin"\namount=5\n', "amount must be text"),
        (
            'final_volume = 5\n[[ingredient]]\nwhat="biotin"\namount="5 mg"\n',
            "final_volume must be text",
        ),
    ],
)
def test_malformed_mixture_files(demo_db, tmp_path, capsys, text, says):
    status, _ = run("--db", demo_db, "mix", "check", write(tmp_path, text), "--user", "sam")
    assert status == 2 and says in capsys.readouterr().err


def test_dispense_refused_writes_nothing(demo_db, tmp_path, capsys):
    path = write(tmp_path, MIX)
    _, before = run("--db", demo_db, "stock", "--user", "sam")
    assert run("--db", demo_db, "mix", "dispense", path, "--user", "nadia")[0] == 2
    assert "may not dispense" in capsys.readouterr().err
    blocked = write(tmp_path, MIX.replace('"20 mg"', '"2,0 mg"'))
    assert run("--db", demo_db, "mix", "dispense", blocked, "--user", "sam")[0] == 2
    assert "decimal comma" in capsys.readouterr().err
    assert run("--db", demo_db, "stock", "--user", "sam")[1] == before


def test_missing_file(demo_db, capsys):
    assert run("--db", demo_db, "mix", "check", "/nonexistent/mix.toml", "--user", "sam")[0] == 2
    assert "no such file" in capsys.readouterr().err


def test_stock_lists_lots(demo_db):
    status, printed = run(
        "--db", demo_db, "stock", "--product", "sodium_chloride_09_10ml_vial", "--user", "sam"
    )
    assert status == 0 and "Sodium Chloride" in printed


def test_python_m_mesomix_help():
    done = subprocess.run(
        [sys.executable, "-m", "mesomix", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env=os.environ,
    )
    assert done.returncode == 0 and "convert" in done.stdout


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("garbage", "could not be used"),
        ("sqlite://", "in-memory"),
        ("mysql://u@h/db", "cannot be used"),
    ],
)
def test_unusable_database_urls_are_refused_cleanly(monkeypatch, capsys, url, says):
    monkeypatch.setenv("MESOMIX_DATABASE_URL", url)
    assert run("stock", "--user", "sam")[0] == 2
    assert says in capsys.readouterr().err


def test_a_file_that_is_not_a_database_is_refused(tmp_path, capsys):
    path = tmp_path / "notes.sqlite"
    path.write_text("not a database, just notes " * 100)
    assert run("--db", str(path), "stock", "--user", "sam")[0] == 2
    assert "could not be used" in capsys.readouterr().err


def test_refused_convert_writes_no_database(tmp_path, capsys):
    path = tmp_path / "fresh.sqlite"
    assert (
        run("--db", str(path), "convert", "5 U", "--substance", "lidocaine", "--to", "mg")[0] == 2
    )
    assert not path.exists()


def test_product_must_be_text(demo_db, tmp_path, capsys):
    path = write(tmp_path, '[[ingredient]]\nwhat="biotin"\namount="5 mg"\nproduct=["a"]\n')
    assert run("--db", demo_db, "mix", "check", path, "--user", "sam")[0] == 2
    assert "product must be a product code" in capsys.readouterr().err


def test_allergy_export_import_round_trip(demo_db, tmp_path, capsys):
    out_file = tmp_path / "allergies.json"
    status, printed = run(
        "--db",
        demo_db,
        "allergy",
        "export",
        "P-0004",
        "--user",
        "drchen",
        "--output",
        str(out_file),
    )
    assert status == 0 and "written to" in printed
    bundle = json.loads(out_file.read_text())
    assert bundle["resourceType"] == "Bundle" and bundle["entry"]
    for entry in bundle["entry"]:
        entry["resource"]["patient"]["reference"] = "Patient/P-0005"
    out_file.write_text(json.dumps(bundle))
    status, printed = run(
        "--db",
        demo_db,
        "allergy",
        "import",
        str(out_file),
        "--patient",
        "P-0005",
        "--user",
        "drchen",
    )
    assert status == 0 and "recorded" in printed


@pytest.mark.parametrize(
    ("content", "user", "says"),
    [
        ("{not json", "drchen", "not valid JSON"),
        ('{"resourceType": "AllergyIntolerance"}', "drchen", "not imported"),
        ('{"resourceType": "Bundle", "entry": []}', "drchen", "holds no resources"),
    ],
)
def test_allergy_import_refusals_write_nothing(demo_db, tmp_path, capsys, content, user, says):
    path = tmp_path / "in.json"
    path.write_text(content)
    before = run("--db", demo_db, "allergy", "export", "P-0005", "--user", "drchen")[1]
    assert (
        run("--db", demo_db, "allergy", "import", str(path), "--patient", "P-0005", "--user", user)[
            0
        ]
        == 2
    )
    assert says in capsys.readouterr().err
    assert run("--db", demo_db, "allergy", "export", "P-0005", "--user", "drchen")[1] == before


def test_staff_may_not_record_allergies(demo_db, tmp_path, capsys):
    out_file = tmp_path / "a.json"
    run(
        "--db",
        demo_db,
        "allergy",
        "export",
        "P-0004",
        "--user",
        "drchen",
        "--output",
        str(out_file),
    )
    status, _ = run(
        "--db", demo_db, "allergy", "import", str(out_file), "--patient", "P-0004", "--user", "sam"
    )
    assert status == 2 and "may not record allergies" in capsys.readouterr().err


def test_dispense_with_a_signed_override_from_the_command_line(
    demo_db, tmp_path, monkeypatch, capsys
):
    # P-0003's chart: add a confirmed, high-criticality allergy to tranexamic acid
    allergy = tmp_path / "txa.json"
    allergy.write_text(json.dumps({
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "verificationStatus": {"coding": [{"code": "confirmed"}]},
        "criticality": "high",
        "code": {"text": "tranexamic acid"},
    }))  # fmt: skip
    assert (
        run(
            "--db",
            demo_db,
            "allergy",
            "import",
            str(allergy),
            "--patient",
            "P-0003",
            "--user",
            "drchen",
        )[0]
        == 0
    )
    path = write(tmp_path, MIX)
    status, printed = run("--db", demo_db, "mix", "check", path, "--user", "sam", "--json")
    assert status == 1
    (key,) = [f["key"] for f in json.loads(printed)["findings"] if f["severity"] == "block"]
    args = [
        "--db",
        demo_db,
        "mix",
        "dispense",
        path,
        "--user",
        "sam",
        "--override",
        key,
        "--signed-by",
        "drchen",
        "--reason",
        "tolerated_before",
        "--why",
        "given in 2025 without reaction",
        "--password-stdin",
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong password\n"))
    assert run(*args)[0] == 2
    assert "signature of drchen was refused" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("demo-practitioner-2026\n"))
    status, printed = run(*args)
    assert status == 0 and "USE BY" in printed


def test_allergy_code_and_verify(demo_db, tmp_path, capsys):
    bundle = json.loads(run("--db", demo_db, "allergy", "export", "P-0004", "--user", "drchen")[1])
    assert bundle["entry"]
    assert run("--db", demo_db, "allergy", "verify", "1", "refuted", "--user", "drchen")[0] == 2
    assert "refuting an allergy needs a few words" in capsys.readouterr().err
    refute = ("allergy", "verify", "1", "refuted", "--reason", "patch test negative")
    assert run("--db", demo_db, *refute, "--user", "drchen") == (0, "allergy 1 is now refuted\n")
    assert (
        run("--db", demo_db, "allergy", "code", "1", "--group", "nope", "--user", "drchen")[0] == 2
    )
    assert "unknown allergen group 'nope'" in capsys.readouterr().err
    assert run("--db", demo_db, "allergy", "verify", "1", "refuted", "--user", "sam")[0] == 2


def test_a_wrong_password_on_the_command_line_is_refused_and_counted(demo_db, monkeypatch, capsys):
    monkeypatch.setenv("MESOMIX_PASSWORD", "not sams password")
    out = io.StringIO()
    assert main(["--db", demo_db, "stock", "--user", "sam"], out) == 2
    assert "wrong user name or password" in capsys.readouterr().err


def test_no_password_and_no_terminal_is_a_clear_refusal(demo_db, monkeypatch, capsys):
    monkeypatch.delenv("MESOMIX_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["--db", demo_db, "stock", "--user", "sam"], io.StringIO()) == 2
    assert "MESOMIX_PASSWORD" in capsys.readouterr().err


def test_first_admin_then_users_from_the_command_line(db, monkeypatch, capsys):
    monkeypatch.setenv("MESOMIX_NEW_PASSWORD", "the first admin password")
    assert run("--db", db, "user", "create-admin", "ines", "--display-name", "Inès")[0] == 0
    assert run("--db", db, "user", "create-admin", "eve", "--display-name", "Eve")[0] == 2
    assert "already has users" in capsys.readouterr().err
    monkeypatch.setenv("MESOMIX_PASSWORD", "the first admin password")
    monkeypatch.setenv("MESOMIX_NEW_PASSWORD", "a staff member password")
    out = io.StringIO()
    assert (
        main(
            [
                "--db",
                db,
                "user",
                "create",
                "lea",
                "--display-name",
                "Léa",
                "--role",
                "staff",
                "--user",
                "ines",
            ],
            out,
        )
        == 0
    )
    out = io.StringIO()
    assert main(["--db", db, "user", "list", "--user", "ines"], out) == 0
    assert "lea" in out.getvalue() and "staff" in out.getvalue()


def test_patients_from_the_command_line(demo_db, capsys):
    assert (
        run(
            "--db",
            demo_db,
            "patient",
            "add",
            "P-0100",
            "--name",
            "Noor Haddad",
            "--weight",
            "64.5 kg",
            "--user",
            "drchen",
        )[0]
        == 0
    )
    assert run("--db", demo_db, "patient", "weight", "P-0100", "65 kg", "--user", "drchen")[0] == 0
    weigh = ("--db", demo_db, "patient", "weight", "P-0100", "30 kg", "--user", "drchen")
    assert run(*weigh)[0] == 2  # 54% less than the 65 kg recorded: asked, not saved
    said = capsys.readouterr().err
    assert "54% less than the 65 kg recorded" in said and "give --confirm" in said
    assert run(*weigh, "--confirm") == (0, "weight of P-0100 recorded\n")
    assert run("--db", demo_db, "patient", "weight", "P-0100", "650 kg", "--user", "drchen")[0] == 2
    assert "not a patient's weight" in capsys.readouterr().err
    assert run("--db", demo_db, "patient", "weight", "P-0100", "65", "--user", "drchen")[0] == 2
    assert "has no unit" in capsys.readouterr().err
    assert run("--db", demo_db, "patient", "weight", "P-0100", "65 kg", "--user", "sam")[0] == 2
    assert "may not edit patients" in capsys.readouterr().err


def test_audit_verify_and_show(demo_db, tmp_path, capsys):
    path = write(tmp_path, MIX)
    assert run("--db", demo_db, "mix", "dispense", path, "--user", "sam")[0] == 0
    status, printed = run("--db", demo_db, "audit", "verify", "--user", "nadia")
    assert status == 0 and "audit chain intact" in printed
    status, printed = run(
        "--db", demo_db, "audit", "show", "--patient", "P-0003", "--user", "nadia"
    )
    assert status == 0 and "dispense" in printed and "sam" in printed
    assert run("--db", demo_db, "audit", "verify", "--user", "sam")[0] == 2
    assert "may not view the audit trail" in capsys.readouterr().err
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{demo_db}")
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER audit_no_update")
        connection.exec_driver_sql("UPDATE audit SET reason = 'edited' WHERE id = 5")
    engine.dispose()
    assert run("--db", demo_db, "audit", "verify", "--user", "nadia")[0] == 1
    assert "row 5 was edited" in capsys.readouterr().err


def test_the_managers_stock_work_from_the_command_line(demo_db, capsys):
    def as_(user, *argv):
        return run("--db", demo_db, *argv, "--user", user)

    lot = "1"
    assert as_("nadia", "lot", "adjust", lot, "--add", "2 mL", "--reason", "found")[0] == 0
    assert as_("nadia", "lot", "adjust", lot, "--remove", "2 ML", "--reason", "missing")[0] == 2
    assert "megalitres" in capsys.readouterr().err
    assert as_("nadia", "lot", "waste", lot, "1 container", "--reason", "damaged")[0] == 0
    assert as_("nadia", "lot", "waste", lot, "1.5 vials", "--reason", "damaged")[0] == 2
    assert "not a whole number of containers" in capsys.readouterr().err
    assert as_("nadia", "lot", "status", lot, "quarantined", "--reason", "fridge alarm")[0] == 0
    assert as_("sam", "lot", "adjust", lot, "--add", "1 mL", "--reason", "found")[0] == 2
    assert "may not adjust" in capsys.readouterr().err
    reorder = (
        "product",
        "reorder",
        "sodium_chloride_09_10ml_vial",
        "--level",
        "500",
        "--quantity",
        "100",
    )
    assert as_("nadia", *reorder)[0] == 0
    status, printed = as_("nadia", "product", "low")
    assert status == 0 and "order" in printed
    status, printed = as_("nadia", "lot", "trace", lot)
    assert status == 0 and "received lot 1" in printed


def test_reports_from_the_command_line(demo_db, tmp_path, capsys):
    status, printed = run("--db", demo_db, "report", "stock", "--user", "nadia")
    assert status == 0 and "lot" in printed.splitlines()[0].split()
    out = tmp_path / "expiring.xlsx"
    status, printed = run(
        "--db",
        demo_db,
        "report",
        "expiring",
        "--format",
        "xlsx",
        "--output",
        str(out),
        "--user",
        "nadia",
    )
    assert status == 0 and out.exists()
    assert run("--db", demo_db, "report", "recall", "--user", "nadia")[0] == 2
    assert "needs a lot" in capsys.readouterr().err
    assert run("--db", demo_db, "report", "usage", "--format", "xlsx", "--user", "nadia")[0] == 2
    assert run("--db", demo_db, "report", "usage", "--user", "sam")[0] == 2
    assert "may not see reports" in capsys.readouterr().err
    status, printed = run(
        "--db", demo_db, "report", "usage", "--period", "week", "--periods", "4", "--user", "nadia"
    )
    assert status == 0 and len(re.findall(r"\d{4}-W\d\d", printed)) == 4 and "total mL" in printed
    status, printed = run("--db", demo_db, "report", "mixtures", "--user", "nadia")
    assert status == 0 and "hair loss" in printed
    assert run("--db", demo_db, "report", "usage", "--periods", "0", "--user", "nadia")[0] == 2
    assert "1 to 60 periods" in capsys.readouterr().err


def test_the_recall_report_takes_the_lot_number_on_the_box(demo_db, capsys):
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{demo_db}")
    with engine.connect() as connection:
        lot_id, number = connection.execute(
            sa.text(
                "SELECT lot.id, lot.lot_number FROM movement JOIN lot ON lot.id = movement.lot_id "
                "WHERE movement.kind = 'dispense' ORDER BY lot.id LIMIT 1"
            )
        ).one()
    engine.dispose()
    status, printed = run("--db", demo_db, "report", "recall", number.lower(), "--user", "nadia")
    assert status == 0 and "P-00" in printed and number in printed
    assert run("--db", demo_db, "report", "recall", "--lot-id", str(lot_id), "--user", "nadia") == (
        status,
        printed,
    )
    assert run("--db", demo_db, "report", "recall", "NOPE-1", "--user", "nadia")[0] == 2
    assert "no lot numbered 'NOPE-1'" in capsys.readouterr().err
    argv = ("--db", demo_db, "report", "recall", number, "--product", "kybella", "--user", "nadia")
    assert run(*argv)[0] == 2
    assert f"lot {number} is on record for" in capsys.readouterr().err
    assert run("--db", demo_db, "report", "stock", number, "--user", "nadia")[0] == 2
    assert "go with the recall report" in capsys.readouterr().err


def test_import_from_the_command_line(demo_db, tmp_path, capsys):
    from mesomix.reference import data_dir

    samples = data_dir() / "import"
    status, printed = run(
        "--db",
        demo_db,
        "import",
        "products",
        str(samples / "products-sample.csv"),
        "--user",
        "nadia",
    )
    assert status == 0 and "3 written" in printed
    status, printed = run(
        "--db", demo_db, "import", "stock", str(samples / "stock-sample.csv"), "--user", "nadia"
    )
    assert status == 0 and "4 written" in printed
    bad = tmp_path / "bad.csv"
    bad.write_text("product,lot_number,expiry,containers\nnope,L1,2020-01-01,1\n", encoding="utf-8")
    assert run("--db", demo_db, "import", "stock", str(bad), "--user", "nadia")[0] == 2
    err = capsys.readouterr().err
    assert "nothing was imported" in err and "row 2, column 'product'" in err
    assert "row 2, column 'expiry'" in err
    latin = tmp_path / "latin.csv"
    latin.write_bytes("product,lot_number,expiry,containers\nx,Lé,2028-01-01,1\n".encode("latin-1"))
    assert run("--db", demo_db, "import", "stock", str(latin), "--user", "nadia")[0] == 2
    assert "is not UTF-8 text" in capsys.readouterr().err
    missing = tmp_path / "missing.csv"
    assert run("--db", demo_db, "import", "stock", str(missing), "--user", "nadia")[0] == 2
    assert "no such file" in capsys.readouterr().err
    assert run("--db", demo_db, "import", "products", str(bad), "--user", "sam")[0] == 2


def test_the_import_progress_bar_draws_on_a_terminal_only():
    from mesomix.cli import ProgressBar

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        bar = ProgressBar(stream)
        for done in range(1, 1001):
            bar("checking", done, 1000)
    assert pipe.getvalue() == ""
    drawn = terminal.getvalue()
    assert drawn.endswith("checking [" + "#" * 30 + "] 1,000/1,000\n")
    assert drawn.count("\r") <= 31  # redrawn when the bar moves, not on every row


def test_search_forgives_typos_on_the_command_line(db, capsys):
    status, printed = run("--db", db, "search", "dexpantenol")
    assert status == 0 and "dexpanthenol" in printed.splitlines()[0]
    status, printed = run("--db", db, "search", "vit c", "--limit", "3")
    assert status == 0 and len(printed.splitlines()) == 3 and "ascorbic" in printed.lower()
    assert run("--db", db, "search", "zzzzqqq")[0] == 1
    assert "nothing in the catalogue" in capsys.readouterr().err
    assert run("--db", db, "search", "lido", "--limit", "0")[0] == 2


@pytest.mark.slow
def test_a_signature_on_the_command_line_counts_and_a_locked_practitioner_cannot_sign(
    demo_db, tmp_path
):
    """`--signed-by` as a real process: five wrong passwords lock drchen, as five wrong sign-ins
    would; then her right password is refused too, saying until when (the clinic's hours)."""
    path = write(
        tmp_path, 'patient = "P-0001"\n[[ingredient]]\nwhat = "procaine"\namount = "20 mg"\n'
    )
    status, printed = run("--db", demo_db, "mix", "check", path, "--user", "sam", "--json")
    assert status == 1  # the allergy blocks
    (key,) = [f["key"] for f in json.loads(printed)["findings"] if f["severity"] == "block"]
    env = os.environ | {"MESOMIX_PASSWORD": DEMO_PASSWORDS["sam"], "MESOMIX_TIMEZONE": "Asia/Tokyo"}

    def dispense(signature_password: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mesomix", "--db", demo_db, "mix", "dispense", path,
             "--user", "sam", "--override", key, "--signed-by", "drchen",
             "--reason", "tolerated_before", "--why", "given in 2025 without reaction",
             "--password-stdin"],
            input=f"{signature_password}\n", capture_output=True, text=True, cwd=ROOT, env=env,
            check=False,
        )  # fmt: skip

    def query(sql: str) -> list[list[object]]:
        """Read in a process of its own: this one holds the demo's engine, and SQLite's file
        locks are per process."""
        code = (
            "import json, sqlite3, sys; "
            "print(json.dumps(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchall()))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, demo_db, sql], capture_output=True, text=True, check=True
        )
        return json.loads(done.stdout)

    def drchen() -> list[object]:
        return query(
            "SELECT failed_attempts, locked_until FROM user_account WHERE name = 'drchen'"
        )[0]

    for attempt in range(1, 6):
        done = dispense("not her password")
        assert done.returncode == 2 and "signature of drchen was refused" in done.stderr
        assert drchen()[0] == attempt
    assert "is now locked until" in done.stderr
    _, locked_until = drchen()
    until = datetime.fromisoformat(locked_until).replace(tzinfo=UTC)
    local = until.astimezone(ZoneInfo("Asia/Tokyo"))
    done = dispense(DEMO_PASSWORDS["drchen"])
    assert done.returncode == 2 and done.stdout == ""
    assert (
        f"the account 'drchen' is locked until {local:%H:%M} after repeated wrong passwords: "
        "wait until then, or ask an admin to unlock it" in done.stderr
    )
    assert drchen() == [5, locked_until]
    trail = query(
        "SELECT action, user_name, reason, new FROM audit WHERE action LIKE 'signature%' "
        "OR action = 'account.locked' ORDER BY id"
    )
    batches = query(
        "SELECT count(*) FROM batch WHERE patient_id = (SELECT id FROM patient WHERE ref = 'P-0001')"
    )[0][0]
    assert [row[0] for row in trail] == [
        *["signature.failed"] * 5,
        "account.locked",
        "signature.refused",
    ]
    assert all(row[1] == "drchen" for row in trail) and trail[-1][2] == "account locked"
    assert json.loads(trail[-1][3])["dispensing"] == "sam"
    assert batches == 0
    sound = subprocess.run(
        [sys.executable, "-m", "mesomix", "--db", demo_db, "check"],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert sound.returncode == 0, sound.stdout  # the ledger and the audit chain are whole
