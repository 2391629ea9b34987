"""Dispense transactions per second against raw sqlite3 running the very same statements.

The statements are captured from one real dispense (SQLAlchemy's cursor events) and replayed
verbatim through the standard sqlite3 module in one BEGIN IMMEDIATE transaction each, on the same
kind of database file with the same pragmas: the baseline is the database work alone, without
mesomix's checking, allocation, ORM and bookkeeping.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from benchmarks.common import Figure
from mesomix.bootstrap import Settings, build
from mesomix.settings import BUSY_TIMEOUT_MS
from tests.factories import mixture, receive, seed_people

# Substances without dose limits: one patient receives it hundreds of times here (lidocaine and
# tranexamic acid would be refused once a session's limit is reached).
DRAFT = mixture(("dexpanthenol", "250 mg"), ("ascorbic acid", "75 mg"), final="5 mL")
PRODUCTS = (
    "bepamedin_500mg_2ml_amp",
    "vitamin_c_injektopas_300mg_2ml_amp",
    "sodium_chloride_09_10ml_vial",
)
ROUNDS = 5
PER_ROUND = 60
GOAL_RATIO = 0.15
GOAL_P99_MS = 10.0


def _raw_connection(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA synchronous = NORMAL")
    return connection


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite"
        services = build(Settings(database_url=f"sqlite:///{path}"))
        seed_people(services)
        for code in PRODUCTS:
            receive(services, code, "BENCH1", 50_000)
        services.mixtures.dispense(DRAFT, "sam")  # warm caches

        captured: list[tuple[str, object, bool]] = []

        def capture(_conn, _cursor, statement, parameters, _context, many) -> None:
            captured.append((statement, parameters, many))

        event.listen(services.engine, "before_cursor_execute", capture)
        services.mixtures.dispense(DRAFT, "sam")
        event.remove(services.engine, "before_cursor_execute", capture)
        statements = [(s, p, many) for s, p, many in captured if not s.startswith("BEGIN")]

        raw = _raw_connection(path)
        fresh = {"id": 0, "seq": 0}  # the next audit id and place, read as mesomix reads them

        def fresh_audit_rows(statement: str, parameters: Any) -> Any:
            """Audit rows carry their id and place in the chain: each replay appends new ones,
            as mesomix does."""
            if not statement.startswith("INSERT INTO audit "):
                return parameters
            columns = statement[statement.index("(") + 1 : statement.index(")")].split(", ")
            at_id, at_seq = columns.index("id"), columns.index("seq")
            rows = []
            for row in parameters:
                row = list(row)
                row[at_id], row[at_seq] = fresh["id"], fresh["seq"]
                fresh["id"], fresh["seq"] = fresh["id"] + 1, fresh["seq"] + 1
                rows.append(tuple(row))
            return rows

        def raw_dispense() -> None:
            raw.execute("BEGIN IMMEDIATE")
            for statement, parameters, many in statements:
                if many:
                    raw.executemany(statement, fresh_audit_rows(statement, parameters))
                elif statement.startswith("SELECT audit_head"):
                    head = raw.execute(statement, parameters).fetchone()
                    # (id, last_id, count, last_hash, the largest audit id)
                    fresh["seq"], fresh["id"] = head[2] + 1, head[4] + 1
                elif statement.startswith("UPDATE audit_head"):
                    raw.execute(statement, (fresh["id"] - 1, *parameters[1:]))
                else:
                    raw.execute(statement, parameters).fetchall()
            raw.execute("COMMIT")

        ours_ms: list[float] = []
        raw_ms: list[float] = []
        for _ in range(ROUNDS):
            for _ in range(PER_ROUND):
                start = time.perf_counter()
                services.mixtures.dispense(DRAFT, "sam")
                ours_ms.append((time.perf_counter() - start) * 1000)
            for _ in range(PER_ROUND):
                start = time.perf_counter()
                raw_dispense()
                raw_ms.append((time.perf_counter() - start) * 1000)
        raw.close()
        assert services.stock.discrepancies() == [], "the benchmark must leave an exact ledger"
        services.close()

    ours_tps = 1000 / statistics.mean(ours_ms)
    raw_tps = 1000 / statistics.mean(raw_ms)
    p99 = statistics.quantiles(ours_ms, n=100)[98]
    return [
        Figure(
            "dispense throughput",
            ours_tps,
            raw_tps,
            "tx/s",
            f"≥ {GOAL_RATIO}×",
            ours_tps / raw_tps >= GOAL_RATIO,
            f"{len(statements)} statements per dispense; raw sqlite3 replays them",
        ),
        Figure(
            "dispense p99 latency",
            p99,
            GOAL_P99_MS,
            "ms",
            f"< {GOAL_P99_MS:g} ms",
            p99 < GOAL_P99_MS,
            f"p50 {statistics.median(ours_ms):.2f} ms over {len(ours_ms)} dispenses",
        ),
    ]


if __name__ == "__main__":
    for figure in run():
        print(
            f"{figure.name}: {figure.value:.2f} {figure.unit} vs {figure.baseline:.2f} = {figure.ratio:.3f}× ({figure.detail})"
        )
