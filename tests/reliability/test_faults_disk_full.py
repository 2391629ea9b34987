"""The disk fills up during a dispense and during a CSV import (real processes whose files may not
grow past a limit: tests/reliability/full_disk.py). A person reads that the disk is full and
that nothing was written; nothing is half-written; the database opens and verifies afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from mesomix.bootstrap import Settings, build, check
from mesomix.services.audit import verify
from tests.factories import (
    PASSWORD,
    assert_ledger_exact,
    audit_rows,
    counts,
)
from tests.reliability.crash_worker import B12, stocked_clinic

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 256 * 1024  # bytes any one file may reach: the database is larger, its WAL starts empty


def clinic_on_disk(tmp_path: Path) -> str:
    """A current database with people and stock, closed (so its WAL is merged and removed)."""
    url = f"sqlite:///{tmp_path / 'full.sqlite'}"
    stocked_clinic(url, mixtures=500)
    assert (tmp_path / "full.sqlite").stat().st_size > LIMIT
    return url


def on_full_disk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.reliability.full_disk", str(LIMIT), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def assert_sound(url: str) -> None:
    """The database opens (build refuses a damaged one), checks clean and reconciles."""
    services = build(Settings(database_url=url))
    assert_ledger_exact(services)
    verdict = verify(services.engine)
    assert verdict.intact, verdict.problem
    assert [line for line in check(Settings(database_url=url)) if not line.ok] == []
    services.close()


def test_disk_full_during_a_dispense(tmp_path):
    url = clinic_on_disk(tmp_path)
    done = on_full_disk("dispense", url)

    assert done.returncode == 0, done.stderr
    *dispensed, refusal = done.stdout.splitlines()
    assert dispensed and all(line.startswith("done ") for line in dispensed)
    assert refusal.startswith("refused the disk is full: nothing was written"), refusal
    assert "Traceback" not in done.stderr
    services = build(Settings(database_url=url))
    assert counts(services)["batches"] == len(dispensed)  # the refused one left nothing
    services.close()
    assert_sound(url)


def test_disk_full_during_a_csv_import_from_the_command_line(tmp_path):
    url = clinic_on_disk(tmp_path)
    services = build(Settings(database_url=url))
    before = counts(services)
    services.close()
    rows = [
        f"{B12},DF{n:05d},{date(2028, 1, 1).isoformat()},10,,Pharma Direct,1.50"
        for n in range(1500)
    ]
    csv = tmp_path / "delivery.csv"
    csv.write_text(
        "product,lot_number,expiry,containers,quantity,supplier,unit_cost\n" + "\n".join(rows)
    )
    db = url.removeprefix("sqlite:///")
    command = [sys.executable, "-m", "mesomix", "--db", db, "import", "stock", str(csv)]
    done = on_full_disk(
        "run", *command, "--user", "nadia", env={**os.environ, "MESOMIX_PASSWORD": PASSWORD}
    )

    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.startswith("mesomix: the disk is full: nothing was written"), done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    services = build(Settings(database_url=url))
    assert counts(services) == before  # not one of the 1500 receipts
    assert audit_rows(services)[-1].action == "sign_in"  # it was the import that met the limit
    services.close()
    assert_sound(url)
