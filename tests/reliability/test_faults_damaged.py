"""A damaged database file is refused at start with a clear message and its path, never a
traceback, and `mesomix check` runs SQLite's own integrity check.

Two kinds of damage, done to a real file: its 100-byte header overwritten with random bytes, and
256 bytes in the middle of a page in the middle of the file overwritten.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mesomix.bootstrap import Settings, build
from mesomix.db.migrate import head_revision
from mesomix.services.errors import DatabaseDamaged
from tests.factories import PASSWORD, mixture, receive, seed_people

ROOT = Path(__file__).resolve().parents[2]
B12 = "cyanocobalamin_1000mcg_1ml_vial"


@pytest.fixture
def clinic_file(tmp_path) -> Path:
    """A closed database with a few hundred movements and audit rows, so tables span pages."""
    path = tmp_path / "damaged.sqlite"
    services = build(Settings(database_url=f"sqlite:///{path}"))
    seed_people(services)
    for n in range(40):
        receive(services, B12, f"DMG{n:03d}", 10)
    for _ in range(60):
        services.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), "sam")
    services.close()
    return path


def damage_header(path: Path) -> None:
    with path.open("r+b") as file:
        file.write(random.Random(100).randbytes(100))


def damage_a_middle_page(path: Path) -> int:
    """Overwrite 256 bytes in the middle of a page of `movement` near the middle of the file;
    returns the page number."""
    with sqlite3.connect(path) as connection:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        leaves = [
            row[0]
            for row in connection.execute(
                "SELECT pageno FROM dbstat WHERE name = 'movement' AND pagetype = 'leaf'"
            )
        ]
    connection.close()
    page = min(leaves, key=lambda n: abs(n - pages // 2))
    with path.open("r+b") as file:
        file.seek((page - 1) * page_size + page_size // 2 - 128)
        file.write(b"\xff" * 256)
    return page


def mesomix(*args: str) -> subprocess.CompletedProcess[str]:
    """The real program, as a person runs it."""
    return subprocess.run(
        [sys.executable, "-m", "mesomix", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"MESOMIX_PASSWORD": PASSWORD, "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (damage_header, "its first bytes are not an SQLite header"),
        (damage_a_middle_page, "On tree page"),  # SQLite's own words
    ],
    ids=["header", "page"],
)
def test_a_damaged_file_is_refused_at_start_and_check_lists_the_damage(clinic_file, damage, says):
    damage(clinic_file)
    damaged = clinic_file.read_bytes()

    with pytest.raises(DatabaseDamaged) as refused:
        build(Settings(database_url=f"sqlite:///{clinic_file}"))
    message = str(refused.value)
    assert message.startswith(f"the database {clinic_file} could not be used: it is damaged (")
    assert says in message and f"`mesomix --db {clinic_file} check`" in message

    stock = mesomix("--db", str(clinic_file), "stock", "--user", "nadia")
    assert stock.returncode == 2 and stock.stdout == ""
    assert stock.stderr == f"mesomix: {message}\n"  # one line: no traceback

    checked = mesomix("--db", str(clinic_file), "check")
    assert checked.returncode == 1, checked.stderr
    assert says in checked.stdout and "Traceback" not in checked.stderr
    assert checked.stderr == "mesomix: the database has problems: see above\n"
    assert clinic_file.read_bytes() == damaged  # looked at, never written


def test_check_on_a_sound_database(clinic_file):
    checked = mesomix("--db", str(clinic_file), "check")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines() == [
        f"database: {clinic_file}",
        "integrity_check: ok",
        "foreign_key_check: ok",
        f"tables: ok (revision {head_revision()})",
        "append-only triggers: ok (audit and movement refuse changes)",
        "ledger: ok (stock on hand equals the sum of movements for every lot)",
        "ledger against the trail: ok (100 movements as their audit rows recorded them)",
        "audit chain: ok (160 rows)",  # 40 receipts, 60 dispenses and their takes,
    ]
