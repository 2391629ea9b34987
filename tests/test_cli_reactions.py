"""The reaction commands on the demo database: staff record a reaction after a batch, a
practitioner confirms it; two infections among the patients of one lot raise a signal that
`lot signals` says with the lot to quarantine and the trace to call them; bad input refused on
stderr with status 2 and nothing written."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.factories import copy_of
from tests.test_cli import in_process, run

WORDS = (
    "--kind", "infection", "--what", "abscess at an injection point", "--onset", "2 days after",
    "--severity", "moderate", "--treatment", "oral antibiotics", "--outcome", "recovering",
)  # fmt: skip


@pytest.fixture
def demo_db(cli_demo, tmp_path) -> str:
    return copy_of(cli_demo, tmp_path / "cli.sqlite")


def lot_number(db: str, lot: int) -> str:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT lot_number FROM lot WHERE id = ?", (lot,)).fetchone()[0]


def shared_lot(db: str) -> tuple[int, tuple[int, str], tuple[int, str]]:
    """A lot two patients' batches drew from, and each batch with its patient."""
    with sqlite3.connect(db) as connection:
        lot, first, second = connection.execute(
            """SELECT a.lot_id, a.batch_id, b.batch_id FROM movement a
               JOIN movement b ON a.lot_id = b.lot_id AND a.batch_id < b.batch_id
               JOIN batch x ON x.id = a.batch_id JOIN batch y ON y.id = b.batch_id
               WHERE a.kind = 'dispense' AND b.kind = 'dispense' AND x.patient_id != y.patient_id
               ORDER BY a.lot_id LIMIT 1"""
        ).fetchone()
        refs = dict(
            connection.execute(
                "SELECT b.id, p.ref FROM batch b JOIN patient p ON p.id = b.patient_id"
            ).fetchall()
        )
    return lot, (first, refs[first]), (second, refs[second])


def reactions_written(db: str) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT count(*) FROM reaction_version").fetchone()[0]


def test_a_reaction_recorded_confirmed_and_two_on_one_lot_raise_a_signal(demo_db):
    lot, (first, patient), (second, other) = shared_lot(demo_db)
    status, printed = run(
        "--db", demo_db, "reaction", "record", patient, "--batch", str(first), *WORDS,
        "--user", "sam",
    )  # fmt: skip
    assert status == 0, printed
    assert printed.startswith("reaction 1 (v1): moderate infection, recovering; NOT CONFIRMED")
    assert f"{patient}, batch {first}, onset " in printed and "lots: " in printed
    status, printed = run("--db", demo_db, "reaction", "confirm", "1", "--user", "drchen")
    assert status == 0 and "confirmed by Dr Mei Chen" in printed
    status, printed = run("--db", demo_db, "lot", "signals", "--user", "nadia")
    assert status == 0 and printed.endswith("0 signal(s)\n")
    status, printed = run(
        "--db", demo_db, "reaction", "record", other, "--batch", str(second), *WORDS,
        "--user", "drchen",
    )  # fmt: skip
    assert status == 0 and "  SIGNAL infections or nodules from one lot" in printed, printed
    status, printed = run("--db", demo_db, "lot", "signals", "--user", "nadia")
    assert status == 0
    number = lot_number(demo_db, lot)
    said = f"SIGNAL infections or nodules from one lot: 2 reactions (infection) from lot {number}"
    assert said in printed
    assert (
        "  proposed: quarantine lot " in printed
        and f"mesomix lot status {lot} quarantined" in printed
    )
    assert f"({patient})" in printed and f"({other})" in printed
    status, printed = run("--db", demo_db, "lot", "trace", str(lot), "--user", "nadia")
    assert status == 0 and "REACTIONS: moderate infection" in printed
    status, printed = run("--db", demo_db, "reaction", "list", patient, "--user", "drchen")
    assert status == 0 and printed.endswith(f"1 reaction(s) for {patient}\n")


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (("--severity", "awful"), "the severity 'awful' is not one of: mild, moderate, severe"),
        (("--onset", "2001-01-01"), "is before the session"),
        (("--kind", "rash"), "the kind 'rash' is not one of"),
        (("--zone", "elbow"), "zone 'elbow' is not a zone"),
    ],
)
def test_bad_input_is_refused_on_stderr_with_status_2_and_nothing_written(demo_db, change, said):
    _, (batch, patient), _ = shared_lot(demo_db)
    done = in_process(
        "--db", demo_db, "reaction", "record", patient, "--batch", str(batch), *WORDS, *change,
        "--user", "sam", password="demo-staff-2026",
    )  # fmt: skip
    assert done.returncode == 2 and said in done.stderr and done.stdout == ""
    assert reactions_written(demo_db) == 0


def test_a_reaction_on_another_patients_batch_or_an_unknown_batch_is_refused(demo_db):
    _, (batch, _), (_, other) = shared_lot(demo_db)
    for argv, said in (
        ((other, "--batch", str(batch)), f"batch {batch} was not made for {other}"),
        ((other, "--batch", "99999"), "batch 99999 does not exist"),
    ):
        done = in_process(
            "--db", demo_db, "reaction", "record", *argv, *WORDS, "--user", "sam",
            password="demo-staff-2026",
        )  # fmt: skip
        assert done.returncode == 2 and said in done.stderr
    assert reactions_written(demo_db) == 0


def test_an_allergic_reaction_proposes_an_allergy_a_practitioner_confirms(demo_db):
    _, (batch, patient), _ = shared_lot(demo_db)
    allergic = [w if w != "infection" else "allergic reaction" for w in WORDS]
    status, printed = run(
        "--db", demo_db, "reaction", "record", patient, "--batch", str(batch), *allergic,
        "--user", "sam",
    )  # fmt: skip
    assert status == 0 and "proposes an allergy to " in printed
    assert "mesomix reaction allergy 1 --confirm|--substance CODE|--decline" in printed
    done = in_process(
        "--db", demo_db, "reaction", "allergy", "1", "--confirm", "--user", "sam",
        password="demo-staff-2026",
    )  # fmt: skip
    assert done.returncode == 2 and "may not" in done.stderr
    status, printed = run(
        "--db", demo_db, "reaction", "allergy", "1", "--confirm", "--user", "drchen"
    )
    assert status == 0 and "recorded, confirmed" in printed, printed
    status, printed = run("--db", demo_db, "reaction", "list", patient, "--user", "drchen")
    assert "  allergy confirmed: " in printed


def test_a_patients_reactions_export_as_fhir_adverse_events_suspecting_the_lots(demo_db, tmp_path):
    lot, (batch, patient), _ = shared_lot(demo_db)
    serious = [*WORDS, "--serious", "hospitalisation", "--zone", "scalp"]
    status, printed = run(
        "--db", demo_db, "reaction", "record", patient, "--batch", str(batch), *serious,
        "--user", "drchen",
    )  # fmt: skip
    assert status == 0, printed
    output = tmp_path / "reactions.json"
    status, printed = run(
        "--db", demo_db, "reaction", "export", patient, "--output", str(output), "--user", "sam"
    )
    assert status == 0 and "1 reaction(s) written" in printed
    bundle = json.loads(output.read_text(encoding="utf-8"))
    (entry,) = bundle["entry"]
    event = entry["resource"]
    assert (event["resourceType"], event["actuality"]) == ("AdverseEvent", "actual")
    assert event["subject"]["reference"] == f"Patient/{patient}"
    assert event["seriousness"]["coding"][0]["code"] == "Serious"
    assert event["seriousness"]["text"] == "hospitalisation"
    assert event["severity"]["coding"][0]["code"] == "moderate"
    assert event["outcome"]["coding"][0]["code"] == "recovering"
    contained = {m["id"]: m for m in event["contained"]}
    assert f"lot-{lot}" in contained
    assert contained[f"lot-{lot}"]["batch"]["lotNumber"] == lot_number(demo_db, lot)
    assert {"instance": {"reference": f"#lot-{lot}"}} in event["suspectEntity"]
    again = in_process(
        "--db", demo_db, "reaction", "export", patient, "--output", str(output), "--user", "sam",
        password="demo-staff-2026",
    )  # fmt: skip
    assert again.returncode == 2 and "is there already" in again.stderr
