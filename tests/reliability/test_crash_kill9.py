"""kill -9 of a dispensing terminal at random moments, 30 times, on a SQLite file in WAL mode.

Each terminal is a real process that dispenses a three-ingredient mixture (a multi-dose vial, a
single-dose ampoule with waste, a diluent) in a loop and says "done BATCH" only after the commit;
the test kills it with SIGKILL after a random delay (seeded), mostly in the middle of a
transaction, and starts the next one on the same file. Afterwards SQLite finds no damage, stock
equals the sum of movements for every lot, every batch reported done is there, none is half
there, and the audit chain verifies.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from mesomix.bootstrap import Settings, build, check
from mesomix.db.tables import AuditRow, BatchLineRow, BatchRow, MovementRow
from mesomix.services.audit import verify
from tests.factories import assert_ledger_exact
from tests.reliability.crash_worker import stocked_clinic

KILLS = 30
ROOT = Path(__file__).resolve().parents[2]


def _line(worker: subprocess.Popen[str]) -> list[str]:
    line = worker.stdout.readline()  # type: ignore[union-attr]
    assert line, f"the worker stopped: {worker.stderr.read()}"  # type: ignore[union-attr]
    return line.split()


def kill_rounds(url: str, seed: int) -> tuple[list[int], list[int], int]:
    """KILLS terminals, each killed after a random delay: the batches they reported done, the
    status of each child, and how many were killed inside a dispense (after "start", before
    "done": in its transaction, or between its commit and the report)."""
    rng = random.Random(seed)
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.crash_worker", url],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    reported: list[int] = []
    statuses: list[int] = []
    in_flight = 0
    try:
        for _ in range(KILLS):
            worker.stdin.write("go\n")  # type: ignore[union-attr]
            worker.stdin.flush()  # type: ignore[union-attr]
            last = ""
            while (words := _line(worker))[0] != "exit":
                assert words[0] in ("pid", "start", "done"), f"not dispensed: {' '.join(words)}"
                if words[0] == "pid":
                    time.sleep(rng.uniform(0.0, 0.12))
                    os.kill(int(words[1]), signal.SIGKILL)
                    continue
                if words[0] == "done":
                    reported.append(int(words[1]))
                last = words[0]
            statuses.append(int(words[2]))
            in_flight += last == "start"
    finally:
        worker.communicate("quit\n", timeout=30)
    return reported, statuses, in_flight


def test_kill_9_mid_dispense_30_times_leaves_no_half_batch(tmp_path):
    url = f"sqlite:///{tmp_path / 'crash.sqlite'}"
    stocked_clinic(url, mixtures=5000)

    reported, statuses, in_flight = kill_rounds(url, seed=20261124)

    assert len(statuses) == KILLS
    assert in_flight >= KILLS // 2, f"only {in_flight} kills landed inside a dispense"
    assert all(os.WIFSIGNALED(s) and os.WTERMSIG(s) == signal.SIGKILL for s in statuses)
    assert len(reported) > KILLS  # the terminals did dispense between the kills
    services = build(Settings(database_url=url))
    with services.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        batches = {row.id: row for row in connection.execute(sa.select(BatchRow.__table__))}
        lines = Counter(connection.execute(sa.select(BatchLineRow.__table__.c.batch_id)).scalars())
        drawn = dict(
            connection.execute(
                sa.select(BatchLineRow.batch_id, sa.func.sum(BatchLineRow.volume_ul)).group_by(
                    BatchLineRow.batch_id
                )
            ).all()
        )
        dispensed = dict(
            connection.execute(
                sa.select(MovementRow.batch_id, -sa.func.sum(MovementRow.quantity_ul))
                .where(MovementRow.kind == "dispense")
                .group_by(MovementRow.batch_id)
            ).all()
        )
        audit = connection.execute(
            sa.select(AuditRow.action, AuditRow.record_id, AuditRow.reason)
        ).all()
    dispense_rows = Counter(int(r.record_id) for r in audit if r.action == "dispense")
    takes = Counter(int(r.reason.split()[1]) for r in audit if r.action == "stock.take")

    assert set(reported) <= set(batches), "a dispense reported done is missing"
    assert len(batches) >= len(reported)  # a commit may land just before the kill, unreported
    for batch in batches:  # all of each batch, or none of it
        assert lines[batch] == 3, batch
        assert dispensed.get(batch) == drawn[batch] == 4_000, batch
        assert dispense_rows[batch] == 1 and takes[batch] == 3, batch
    assert set(dispensed) == set(batches) and set(dispense_rows) == set(batches)
    assert_ledger_exact(services)
    verdict = verify(services.engine)
    assert verdict.intact, verdict.problem
    assert all(line.ok for line in check(Settings(database_url=url)))
    services.close()
