"""Lot vigilance on real volumes: 100 000 sessions (batches of 2 000 patients) drawing from
10 000 lots, 1 000 000 ledger movements, 2 000 reactions (with a correction each for one in
ten), straight into the tables.

The vigilance view — the report (permission check, the two SQL aggregates, pandas shaping: a
lot a row with its sessions, its reactions by kind, its rate per 100 sessions and its
product's other lots' rate) — against the same two aggregates written by hand and run through
the standard sqlite3 module in the same process, rows fetched. Best of five each.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import Figure
from mesomix.bootstrap import Settings, build
from mesomix.clock import FixedClock
from tests.factories import seed_people

SESSIONS = int(os.environ.get("MESOMIX_BENCH_SESSIONS", "100000"))
MOVEMENTS = int(os.environ.get("MESOMIX_BENCH_MOVEMENTS", "1000000"))
LOTS = 10_000
REACTIONS = 2_000
GOAL = 1.5
NOW = datetime(2026, 11, 24, 7, tzinfo=UTC)
KINDS = ("infection", "nodule", "bruising", "swelling", "redness", "pain", "allergic reaction")

HAND_SQL = (
    """SELECT m.lot_id, l.lot_number, l.product_code, p.name, count(DISTINCT m.batch_id)
       FROM movement m JOIN lot l ON l.id = m.lot_id JOIN product p ON p.code = l.product_code
       WHERE m.kind = 'dispense' AND m.batch_id IS NOT NULL
       GROUP BY m.lot_id, l.lot_number, l.product_code, p.name""",
    """SELECT d.lot_id, v.kind, count(DISTINCT r.id)
       FROM reaction r
       JOIN (SELECT reaction_id, max(version) AS version FROM reaction_version
             GROUP BY reaction_id) latest ON latest.reaction_id = r.id
       JOIN reaction_version v ON v.reaction_id = r.id AND v.version = latest.version
       JOIN (SELECT DISTINCT batch_id, lot_id FROM movement
             WHERE kind = 'dispense' AND batch_id IS NOT NULL) d ON d.batch_id = r.batch_id
       GROUP BY d.lot_id, v.kind""",
)


def generate(path: Path) -> None:
    services = build(Settings(database_url=f"sqlite:///{path}", clock=FixedClock(NOW)))
    seed_people(services)
    products = sorted(services.catalog.catalog().products)
    services.close()
    rng = random.Random(17)
    db = sqlite3.connect(path)
    at = "2026-06-01 00:00:00"
    db.executemany(
        "INSERT INTO patient (id, ref, name, sex, notes, created_at) VALUES (?,?,?,'unknown','',?)",
        [(100 + p, f"V-{p:05d}", f"Patient {p}", at) for p in range(2_000)],
    )
    db.executemany(
        "INSERT INTO lot (id, product_code, lot_number, expiry, status, on_hand_ul, open_ul, received_at, supplier, status_reason) VALUES (?,?,?,'2028-01-01','available',100000,0,?,'','')",
        [(i + 1, products[i % len(products)], f"V{i:07d}", at) for i in range(LOTS)],
    )
    start = datetime(2025, 11, 24)
    db.executemany(
        "INSERT INTO batch (id, patient_id, actor_id, created_at, final_volume_ul, draft, findings, label, storage, beyond_use_rule, purpose) VALUES (?,?,1,?,5000,'{}','[]','','room','','')",
        (
            (b + 1, 100 + b % 2_000, (start + timedelta(minutes=5 * b)).isoformat(sep=" "))
            for b in range(SESSIONS)
        ),
    )
    draws = min(3, max(1, MOVEMENTS // SESSIONS))
    dispensed = (
        (rng.randint(1, LOTS), "dispense", -1000, 1, b + 1, (start + timedelta(minutes=5 * b)).isoformat(sep=" "))
        for b in range(SESSIONS)
        for _ in range(draws)
    )  # fmt: skip
    others = (
        (rng.randint(1, LOTS), "adjust", -10, 1, None, (start + timedelta(seconds=20 * m)).isoformat(sep=" "))
        for m in range(MOVEMENTS - SESSIONS * draws)
    )  # fmt: skip
    insert = "INSERT INTO movement (lot_id, kind, quantity_ul, reason, note, actor_id, batch_id, at) VALUES (?,?,?,'','',?,?,?)"
    db.executemany(insert, dispensed)
    db.executemany(insert, others)
    batches = rng.sample(range(1, SESSIONS + 1), REACTIONS)
    db.executemany(
        "INSERT INTO reaction (id, batch_id, patient_id, recorded_at, recorded_by) VALUES (?,?,?,?,1)",
        [(r + 1, b, 100 + (b - 1) % 2_000, at) for r, b in enumerate(batches)],
    )
    versions = [
        (r + 1, v, rng.choice(KINDS), at)
        for r in range(REACTIONS)
        for v in ((1, 2) if r % 10 == 0 else (1,))
    ]
    db.executemany(
        "INSERT INTO reaction_version (reaction_id, version, kind, what, onset_at, zone, severity, serious, treatment, outcome, reason, recorded_at, recorded_by) VALUES (?,?,?,'',?,'','mild','','','recovering','',?,1)",
        [(r, v, kind, at, at) for r, v, kind, at in versions],
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()


def _best(function: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "vigilance.sqlite"
        generate(path)
        services = build(Settings(database_url=f"sqlite:///{path}", clock=FixedClock(NOW)))
        lots = len(services.reports.report("nadia", "vigilance"))
        ours = _best(lambda: services.reports.report("nadia", "vigilance"))
        services.close()
        connection = sqlite3.connect(path)
        hand = _best(lambda: [connection.execute(sql).fetchall() for sql in HAND_SQL])
        connection.close()
    return [
        Figure(
            f"vigilance view, {SESSIONS:,} sessions",
            ours * 1000,
            hand * 1000,
            "ms",
            f"≤ {GOAL}×",
            ours / hand <= GOAL,
            f"{MOVEMENTS:,} movements, {LOTS:,} lots, {REACTIONS:,} reactions; {lots:,} lots "
            "listed; baseline: the sessions per lot and the reactions per lot and kind, "
            "aggregated by hand in sqlite3",
        )
    ]


if __name__ == "__main__":
    for figure in run():
        print(
            f"{figure.name}: {figure.value:.1f} ms vs {figure.baseline:.1f} = {figure.ratio:.2f}×"
        )
    print(json.dumps({"sessions": SESSIONS, "movements": MOVEMENTS}))
