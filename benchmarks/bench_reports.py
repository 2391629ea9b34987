"""Reports on real volumes: 1 000 000 ledger movements and 100 000 products.

Each report (the service: permission check, SQL aggregate, pandas shaping) is timed against the
same aggregate written by hand in SQL and run through the standard sqlite3 module in the same
process, rows fetched. Peak memory (RSS) while the reports run is compared with the program's
idle baseline: the program built on the database, before any report.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from benchmarks.common import Figure
from mesomix.bootstrap import Settings, build
from mesomix.clock import FixedClock
from mesomix.domain.mixture import PURPOSES
from tests.factories import seed_people

PRODUCTS = int(os.environ.get("MESOMIX_BENCH_PRODUCTS", "100000"))
MOVEMENTS = int(os.environ.get("MESOMIX_BENCH_MOVEMENTS", "1000000"))
GOAL_RATIO = 1.5
GOAL_MEMORY = 1.3
NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)


def _usage_by_hand() -> str:
    """Used per product in each of the last 12 months (UTC calendar), most used first."""
    starts = [f"{2025 + (m // 12)}-{m % 12 + 1:02d}-01 00:00:00" for m in range(11, 24)]
    columns = ", ".join(
        f"sum(CASE WHEN m.at >= '{a}' AND m.at < '{b}' THEN -m.quantity_ul ELSE 0 END)"
        for a, b in itertools.pairwise(starts)
    )
    return f"""SELECT p.code, p.name, {columns}, sum(-m.quantity_ul) AS total, count(DISTINCT m.batch_id)
        FROM movement m JOIN lot l ON l.id = m.lot_id JOIN product p ON p.code = l.product_code
        WHERE l.site_id = 1 AND m.kind = 'dispense' AND m.at >= '{starts[0]}' AND m.at < '{starts[-1]}'
        GROUP BY p.code, p.name ORDER BY total DESC, p.name"""


# Each as a manager would write it for the first site's report: what mesomix's reports read is
# the terminal's own site (every site's shelves and batches are in the same tables).
HAND_SQL = {
    # Usable stock (available, expiry from today) as the low-stock list counts it, with sealed
    # containers; unusable stock summed apart; products with a reorder level listed without stock.
    "stock-products": """SELECT p.code, p.name, count(CASE WHEN l.status = 'available' AND l.expiry >= :today THEN l.id END),
        coalesce(sum(CASE WHEN l.status = 'available' AND l.expiry >= :today THEN l.on_hand_ul ELSE 0 END), 0),
        coalesce(sum(CASE WHEN l.status = 'available' AND l.expiry >= :today THEN l.on_hand_ul - l.open_ul ELSE 0 END), 0),
        p.container_volume_ul,
        coalesce(sum(CASE WHEN l.status = 'available' AND l.expiry >= :today THEN coalesce(l.on_hand_ul * l.unit_cost_cents / (p.container_volume_ul + 0.0), 0) ELSE 0 END), 0),
        coalesce(sum(CASE WHEN NOT (l.status = 'available' AND l.expiry >= :today) THEN l.on_hand_ul ELSE 0 END), 0),
        coalesce(sum(CASE WHEN NOT (l.status = 'available' AND l.expiry >= :today) THEN coalesce(l.on_hand_ul * l.unit_cost_cents / (p.container_volume_ul + 0.0), 0) ELSE 0 END), 0),
        p.reorder_level, p.reorder_quantity
        FROM product p LEFT JOIN lot l ON l.product_code = p.code AND l.site_id = 1 AND l.on_hand_ul > 0
        WHERE l.id IS NOT NULL OR p.reorder_level IS NOT NULL
        GROUP BY p.code, p.name, p.container_volume_ul, p.reorder_level, p.reorder_quantity ORDER BY p.name""",
    "expiring": """SELECT p.code, p.name, l.id, l.lot_number, l.expiry, l.status, l.on_hand_ul, p.container_volume_ul,
        coalesce(l.on_hand_ul * l.unit_cost_cents / p.container_volume_ul, 0),
        CASE WHEN l.expiry <= :d30 THEN 30 WHEN l.expiry <= :d60 THEN 60 ELSE 90 END
        FROM lot l JOIN product p ON p.code = l.product_code
        WHERE l.site_id = 1 AND l.on_hand_ul > 0 AND l.expiry >= :today AND l.expiry <= :until ORDER BY l.expiry, p.name""",
    "usage": _usage_by_hand(),
    "waste": """SELECT m.kind, m.reason, count(*), sum(-m.quantity_ul), sum(-m.quantity_ul * l.unit_cost_cents / p.container_volume_ul)
        FROM movement m JOIN lot l ON l.id = m.lot_id JOIN product p ON p.code = l.product_code
        WHERE l.site_id = 1 AND (m.kind = 'waste' OR (m.kind IN ('adjust', 'count') AND m.quantity_ul < 0))
        GROUP BY m.kind, m.reason ORDER BY 4 DESC""",
    "stock": """SELECT p.code, p.name, l.id, l.lot_number, l.expiry, l.status, l.on_hand_ul, p.container_volume_ul,
        coalesce(l.on_hand_ul * l.unit_cost_cents / p.container_volume_ul, 0), l.open_ul
        FROM lot l JOIN product p ON p.code = l.product_code WHERE l.site_id = 1 AND l.on_hand_ul > 0 ORDER BY p.name, l.expiry, l.id""",
    "mixtures": """SELECT coalesce(u.display_name, '') AS practitioner, b.purpose, count(b.id) AS mixtures, sum(b.final_volume_ul)
        FROM batch b LEFT JOIN user_account u ON u.id = b.prescriber_id WHERE b.site_id = 1
        GROUP BY u.display_name, b.purpose ORDER BY mixtures DESC, practitioner, b.purpose""",
    "makers": """SELECT u.name, u.display_name, u.role, count(b.id), sum(b.final_volume_ul)
        FROM batch b JOIN user_account u ON u.id = b.actor_id WHERE b.site_id = 1 GROUP BY u.name, u.display_name, u.role ORDER BY 4 DESC""",
}


def generate(path: Path) -> None:
    """A year of a busy network of clinics, written straight into the schema mesomix made."""
    rng = random.Random(7)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA journal_mode = WAL")
    products = [
        (f"bench_{i:06d}", f"Bench product {i:06d} {rng.choice(['ampoule', 'vial', 'syringe'])}", "single_dose",
         rng.choice([1000, 2000, 5000, 10000]), 0, 1, json.dumps({"code": f"bench_{i:06d}"}),
         rng.choice([None, 5, 10]), rng.choice([None, 20, 50]))
        for i in range(PRODUCTS)
    ]  # fmt: skip
    db.executemany(
        "INSERT INTO product (code, name, container, container_volume_ul, diluent, active, record, reorder_level, reorder_quantity) VALUES (?,?,?,?,?,?,?,?,?)",
        products,
    )
    lots = []
    for i, product in enumerate(products):
        expiry = date(2026, 11, 24) + timedelta(days=rng.randint(-60, 700))
        lots.append(
            (
                i + 1,
                product[0],
                f"L{i:07d}",
                expiry.isoformat(),
                "available",
                product[3] * rng.randint(1, 40),
                0,
                "2026-01-01 00:00:00",
                "",
                rng.randint(50, 5000),
            )
        )
    db.executemany(
        "INSERT INTO lot (id, product_code, lot_number, expiry, status, on_hand_ul, open_ul, received_at, supplier, unit_cost_cents, status_reason) VALUES (?,?,?,?,?,?,?,?,?,?,'')",
        lots,
    )
    batches = MOVEMENTS // 10
    start = datetime(2025, 11, 24)
    db.executemany(
        "INSERT INTO batch (id, patient_id, actor_id, created_at, final_volume_ul, draft, findings, label, storage, beyond_use_rule, purpose, prescriber_id) VALUES (?,NULL,?,?,?,'{}','[]','','room','',?,?)",
        [
            (
                b + 1,
                rng.randint(1, 4),
                (start + timedelta(minutes=5 * b)).isoformat(sep=" "),
                rng.randint(1, 20) * 1000,
                rng.choice(("", *PURPOSES)),
                rng.choice((None, 2)),
            )
            for b in range(batches)
        ],
    )
    kinds = ["dispense"] * 8 + ["waste", "adjust"]
    reasons = {
        "dispense": "",
        "waste": "remainder of an opened single-dose container",
        "adjust": "damaged",
    }
    rows = []
    for m in range(MOVEMENTS):
        kind = rng.choice(kinds)
        at = start + timedelta(seconds=30 * m)
        rows.append(
            (
                rng.randint(1, PRODUCTS),
                kind,
                -rng.randint(1, 50) * 10,
                reasons[kind],
                "",
                1,
                rng.randint(1, batches) if kind == "dispense" else None,
                at.isoformat(sep=" "),
            )
        )
    db.executemany(
        "INSERT INTO movement (lot_id, kind, quantity_ul, reason, note, actor_id, batch_id, at) VALUES (?,?,?,?,?,?,?,?)",
        rows,
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()


def _status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak so far) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory(path: str) -> None:
    """Run in a fresh process: the program's RSS when ready, then its peak over every report."""
    services = build(Settings(database_url=f"sqlite:///{path}", clock=FixedClock(NOW)))
    services.reports.report("nadia", "mixtures")  # warm: imports, connection, catalogue
    idle = _status_mb("VmRSS")
    for name in HAND_SQL:
        services.reports.report("nadia", name)
    print(json.dumps({"idle": idle, "peak": _status_mb("VmHWM")}))


def _best(function, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reports.sqlite"
        services = build(Settings(database_url=f"sqlite:///{path}", clock=FixedClock(NOW)))
        seed_people(services)
        services.close()
        generate(path)
        services = build(Settings(database_url=f"sqlite:///{path}", clock=FixedClock(NOW)))
        services.reports.report("nadia", "mixtures")  # warm: imports, connection, catalogue
        raw = sqlite3.connect(path)
        params = {
            "today": "2026-11-24",
            "d30": "2026-12-24",
            "d60": "2027-01-23",
            "until": "2027-02-22",
        }
        figures = []
        for name, sql in HAND_SQL.items():
            ours = _best(lambda name=name: services.reports.report("nadia", name))
            hand = _best(lambda sql=sql: raw.execute(sql, params).fetchall())
            figures.append(
                Figure(f"report {name}", ours * 1000, hand * 1000, "ms", f"≤ {GOAL_RATIO}×", ours / hand <= GOAL_RATIO,
                       f"{MOVEMENTS:,} movements, {PRODUCTS:,} products; baseline: the aggregate by hand in sqlite3")
            )  # fmt: skip
        measured = subprocess.run(
            [sys.executable, "-c", f"from benchmarks.bench_reports import memory; memory({str(path)!r})"],
            capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
        )  # fmt: skip
        sizes = json.loads(measured.stdout.strip().splitlines()[-1])
        idle, peak = sizes["idle"], sizes["peak"]
        figures.append(
            Figure("reports peak memory", peak, idle, "MB", f"≤ {GOAL_MEMORY}×", peak / idle <= GOAL_MEMORY,
                   "a fresh process: peak RSS over every report, against its RSS when ready")
        )  # fmt: skip
        raw.close()
        services.close()
    return figures


if __name__ == "__main__":
    for figure in run():
        print(
            f"{figure.name}: {figure.value:.1f} {figure.unit} vs {figure.baseline:.1f} = {figure.ratio:.2f}× ({figure.goal}: {'pass' if figure.passed else 'FAIL'})"
        )
