"""Terminals racing to dispense lidocaine to one patient: the limit per session (200 mg) holds
across them, because each dispense re-checks, in its transaction, what the ones before it gave
(SQLite: one writer at a time; PostgreSQL: the patient's row is locked until commit)."""

from __future__ import annotations

import pytest

from mesomix.bootstrap import Settings, build
from tests.factories import counts, receive, seed_people
from tests.reliability.dispense_worker import race

AMPOULE = "lidocaine_2pct_2ml_amp"
TWENTY_MG = {"ingredients": [["lidocaine", "20 mg"]], "final": ""}
PROCESSES, ATTEMPTS = 4, 6  # 24 attempts at 20 mg: 10 fit under 200 mg


def run_race(url: str) -> None:
    services = build(Settings(database_url=url))
    seed_people(services)
    receive(services, AMPOULE, "RACE1", 100)
    load = race(url, PROCESSES, ATTEMPTS, TWENTY_MG)
    assert len(load.succeeded) == 10
    refused = [o for o in load.outcomes if not o["ok"]]
    assert {o["error"] for o in refused} == {"DispenseRefused"}
    assert all("mg now = " in o["message"] and "> 200 mg" in o["message"] for o in refused)
    assert counts(services)["batches"] == 10
    services.close()


@pytest.mark.slow
def test_the_session_limit_holds_across_racing_terminals_on_sqlite(tmp_path):
    run_race(f"sqlite:///{tmp_path / 'race.sqlite'}")


@pytest.mark.slow
def test_the_session_limit_holds_across_racing_terminals_on_postgresql(postgres):
    run_race(postgres.create_database("dose_race"))
