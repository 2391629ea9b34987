"""Two terminals, one last vial — times eight: 8 processes × 50 dispenses against a lot of 100.

The audit chain is checked afterwards too: eight writers appended to it at once.

Exactly 100 succeed, nothing is oversold, every refusal says "not enough stock", and stock equals
100 minus what was dispensed; on a SQLite file and on a real PostgreSQL server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mesomix.bootstrap import Settings, build
from mesomix.services.audit import verify
from tests.factories import assert_ledger_exact, audit_rows, counts, lot_row, receive, seed_people

PROCESSES = 8
ATTEMPTS = 50
LOT_SIZE = 100
ROOT = Path(__file__).resolve().parents[2]


def race(url: str) -> None:
    services = build(Settings(database_url=url))
    seed_people(services)
    lot = receive(services, "cyanocobalamin_1000mcg_1ml_vial", "RACE01", LOT_SIZE)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.dispense_worker", url, "sam", str(ATTEMPTS)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    outcomes = []
    for worker in workers:
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err
        outcomes += json.loads(out)

    succeeded = [o for o in outcomes if o["ok"]]
    refused = [o for o in outcomes if not o["ok"]]
    assert len(outcomes) == PROCESSES * ATTEMPTS
    assert len(succeeded) == LOT_SIZE
    assert len({o["batch"] for o in succeeded}) == LOT_SIZE
    assert [o for o in refused if o["busy"]] == []
    assert all("not enough stock" in o["message"] for o in refused), {o["message"] for o in refused}
    assert lot_row(services, lot).on_hand_ul == 0
    assert counts(services)["batches"] == LOT_SIZE
    assert_ledger_exact(services)
    verdict = verify(services.engine)  # the audit chain survived 8 writers at once
    assert verdict.intact, verdict.problem
    assert [row.action for row in audit_rows(services)].count("dispense") == LOT_SIZE
    services.close()


@pytest.mark.slow
def test_race_on_sqlite(tmp_path):
    race(f"sqlite:///{tmp_path / 'race.sqlite'}")


@pytest.mark.slow
def test_race_on_postgresql(postgres):
    race(postgres.create_database("race"))
