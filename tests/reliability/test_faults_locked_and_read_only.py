"""Another terminal holds the database past the busy timeout; the database is read-only.

Locked: a real process holds the write lock; a dispense and a receipt are refused with a message
that says so, nothing is written, reading still works, and the same call succeeds once the
lock is released. Read-only (asked for with --read-only, or because the file or its folder
cannot be written): people sign in, see stock and reports, and every write is refused with the
reason; the file is not changed by a byte.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mesomix.bootstrap import Settings, build, check
from mesomix.cli import main
from mesomix.services.errors import DatabaseBusy, DatabaseReadOnly
from tests.factories import PASSWORD, counts, mixture, receive, seed_people, snapshot

B12 = "cyanocobalamin_1000mcg_1ml_vial"
ONE_AMPOULE = mixture(("cyanocobalamin", "1000 mcg"))
HOLD_THE_LOCK = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
connection.execute("ROLLBACK")
"""


@contextmanager
def another_terminal_holds(path: Path) -> Iterator[None]:
    """A process that has begun a write transaction and does not finish it until told."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"  # type: ignore[union-attr]
        yield
    finally:
        holder.communicate("\n", timeout=30)


def test_a_lock_held_past_the_busy_timeout_is_a_message_then_a_retry_works(tmp_path, clock):
    path = tmp_path / "locked.sqlite"
    services = build(Settings(database_url=f"sqlite:///{path}", clock=clock, busy_timeout_ms=300))
    seed_people(services)
    receive(services, B12, "LOCK01", 5)
    before = snapshot(services)

    with another_terminal_holds(path):
        with pytest.raises(DatabaseBusy) as busy:
            services.mixtures.dispense(ONE_AMPOULE, "sam")
        assert str(busy.value) == (
            "the database is busy: another terminal has held it for longer than 0.3 s; "
            "nothing was written — try again"
        )
        with pytest.raises(DatabaseBusy):
            receive(services, B12, "LOCK02", 5)
        assert len(services.stock.lots("nadia")) == 1  # readers do not wait in WAL mode
        assert snapshot(services) == before

    result = services.mixtures.dispense(ONE_AMPOULE, "sam")  # the same call, once released
    assert counts(services)["batches"] == 1 and result.batch_id == 1
    services.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def closed_clinic(tmp_path) -> Path:
    """A database with people and one lot, closed: its WAL merged into the file."""
    path = tmp_path / "clinic" / "ro.sqlite"
    services = build(Settings(database_url=f"sqlite:///{path}"))
    seed_people(services)
    receive(services, B12, "RO0001", 5)
    services.close()
    return path


def run(*argv: str) -> tuple[int, str, str]:
    """The command line in this process, signed in with the test users' password."""
    out, err = io.StringIO(), io.StringIO()
    old_err, sys.stderr = sys.stderr, err
    os.environ["MESOMIX_PASSWORD"] = PASSWORD
    try:
        return main(list(argv), out), out.getvalue(), err.getvalue()
    finally:
        sys.stderr = old_err
        del os.environ["MESOMIX_PASSWORD"]


def test_read_only_on_request_shows_stock_and_reports_and_refuses_writes(closed_clinic):
    db, before = str(closed_clinic), sha256(closed_clinic)

    status, out, _ = run("--db", db, "--read-only", "stock", "--user", "nadia")
    assert status == 0 and "RO0001" in out
    status, out, _ = run("--db", db, "--read-only", "report", "stock", "--user", "nadia")
    assert status == 0 and "RO0001" in out
    status, out, err = run(
        "--db", db, "--read-only", "lot", "adjust", "1", "--add", "1 mL", "--reason", "found",
        "--user", "nadia",
    )  # fmt: skip
    assert status == 2 and out == ""
    assert err == (
        "mesomix: this database is open read-only (opened with --read-only): stock and reports "
        "can be seen, nothing can be changed\n"
    )
    assert sha256(closed_clinic) == before


def test_read_only_needs_an_existing_database(tmp_path):
    missing = tmp_path / "missing.sqlite"
    status, _, err = run("--db", str(missing), "--read-only", "stock", "--user", "nadia")
    assert status == 2 and "there is no database at" in err and str(missing) in err
    assert not missing.exists()


@contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """No one may write `path` (a file or a folder): its permissions, and for root, who ignores
    them, the immutable attribute."""
    mode = path.stat().st_mode
    path.chmod(0o555 if path.is_dir() else 0o444)
    immutable = False
    try:
        if os.access(path, os.W_OK):
            immutable = subprocess.run(["chattr", "+i", str(path)], check=False).returncode == 0
            if not immutable or os.access(path, os.W_OK):
                pytest.skip("this machine cannot make a file unwritable for root")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(mode)


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_database_that_cannot_be_written_opens_read_only_and_says_why(closed_clinic, what):
    target = closed_clinic if what == "file" else closed_clinic.parent
    before = sha256(closed_clinic)
    with unwritable(target):
        services = build(Settings(database_url=f"sqlite:///{closed_clinic}"))
        assert services.read_only.startswith(
            f"{'the file' if what == 'file' else 'its folder'} {target} is not writable"
        )
        services.accounts.sign_in("nadia", PASSWORD)  # checked, though it cannot be recorded
        assert [line.lot_number for line in services.stock.lots("nadia")] == ["RO0001"]
        assert len(services.reports.report("nadia", "stock")) == 1
        with pytest.raises(
            DatabaseReadOnly, match=r"this database is open read-only .* is not writable"
        ):
            services.mixtures.dispense(ONE_AMPOULE, "sam")
        with pytest.raises(DatabaseReadOnly):
            receive(services, B12, "RO0002", 5)
        services.close()
    assert sha256(closed_clinic) == before


def test_read_only_and_check_on_postgresql(postgres):
    url = postgres.create_database("readonly")
    services = build(Settings(database_url=url))
    seed_people(services)
    receive(services, B12, "PGRO01", 5)
    services.close()

    services = build(Settings(database_url=url, read_only=True))
    assert services.read_only == "opened with --read-only"
    assert len(services.stock.lots("nadia")) == 1
    with pytest.raises(DatabaseReadOnly):
        services.mixtures.dispense(ONE_AMPOULE, "sam")
    assert counts(services)["batches"] == 0
    services.close()
    lines = {line.what: line for line in check(Settings(database_url=url))}
    assert lines["connection"].detail.startswith("ok (PostgreSQL ")
    assert lines["ledger"].ok and lines["audit chain"].detail == "ok (1 row)"
