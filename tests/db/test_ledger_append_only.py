"""The ledger keeps itself honest: `movement` refuses UPDATE, DELETE (and TRUNCATE) by trigger on
SQLite and PostgreSQL; `mesomix check` reconciles every movement with the audit row that recorded
it and reports a missing guard, so a movement edited with sqlite3 together with its lot's on-hand
is named; a migration that rebuilds a table cannot lose the guard; the demo's --replace still
empties a database, in the open."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations

from mesomix.bootstrap import Settings, build, check
from mesomix.db.migrate import _run, current_revision, head_revision
from mesomix.db.tables import AuditRow, MovementRow
from mesomix.services.audit import verify
from mesomix.services.demo import load_demo
from mesomix.services.uow import unit_of_work
from tests.factories import audit_rows, mixture, receive, seed_people

ROOT = Path(__file__).resolve().parents[2]
B12 = "cyanocobalamin_1000mcg_1ml_vial"
MDV10 = "xylocaine_1pct_10ml_mdv"


def some_work(services) -> tuple[int, int]:
    """A receipt, a dispense and an adjustment: movements of each kind of audit row."""
    b12 = receive(services, B12, "B1", 10)
    xylo = receive(services, MDV10, "X1", 5)
    services.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), "sam")
    services.inventory.adjust("nadia", xylo, -10_000, "missing", "one vial gone")
    return b12, xylo


def movements(services) -> list[MovementRow]:
    with unit_of_work(services.engine) as session:
        return list(session.scalars(sa.select(MovementRow).order_by(MovementRow.id)))


STATEMENTS = [
    "UPDATE movement SET quantity_ul = 1 WHERE id = 1",
    "DELETE FROM movement WHERE id = 1",
]


@pytest.mark.parametrize("statement", STATEMENTS)
def test_sqlite_refuses_to_change_or_delete_a_movement(clinic, statement):
    some_work(clinic)
    before = movements(clinic)
    with (
        pytest.raises(sa.exc.DatabaseError, match="movements are append-only"),
        clinic.engine.begin() as connection,
    ):
        connection.exec_driver_sql(statement)
    assert [(m.id, m.quantity_ul) for m in movements(clinic)] == [
        (m.id, m.quantity_ul) for m in before
    ]


def test_postgresql_refuses_to_change_delete_or_truncate_a_movement(postgres, clock):
    services = build(Settings(database_url=postgres.create_database("ledger_guard"), clock=clock))
    seed_people(services)
    some_work(services)
    before = [(m.id, m.quantity_ul) for m in movements(services)]
    for statement in [*STATEMENTS, "TRUNCATE movement CASCADE"]:
        with (
            pytest.raises(sa.exc.DatabaseError, match="movements are append-only"),
            services.engine.begin() as connection,
        ):
            connection.exec_driver_sql(statement)
    assert [(m.id, m.quantity_ul) for m in movements(services)] == before
    lines = {line.what: line for line in check(services.settings)}
    assert lines["append-only triggers"].ok and lines["ledger against the trail"].ok
    assert (
        "4 movements as their audit rows recorded them" in lines["ledger against the trail"].detail
    )

    with services.engine.begin() as connection:  # an owner of the tables can switch it off
        connection.exec_driver_sql("ALTER TABLE movement DISABLE TRIGGER movement_no_change")
        connection.exec_driver_sql("UPDATE movement SET quantity_ul = quantity_ul - 1 WHERE id = 1")
        connection.exec_driver_sql("UPDATE lot SET on_hand_ul = on_hand_ul - 1 WHERE id = 1")
    lines = {line.what: line for line in check(services.settings)}
    assert not lines["append-only triggers"].ok
    assert "movement_no_change refusing UPDATE OR DELETE is disabled" in (
        lines["append-only triggers"].detail
    )
    assert lines["ledger"].ok  # edited alike: the sum still agrees
    assert "movement 1: the ledger says lot 1, receive +9,999 µL" in (
        lines["ledger against the trail"].detail
    )
    services.close()


def test_the_demo_replace_empties_the_ledger_in_the_open_on_postgresql(postgres, clock):
    """The one wipe there is lifts the ledger's guard inside its transaction, says so in the
    trail, and puts the guard back: the ledger reconciles again from there on."""
    services = build(Settings(database_url=postgres.create_database("ledger_demo"), clock=clock))
    load_demo(services)
    load_demo(services, replace=True)
    lines = {line.what: line for line in check(services.settings)}
    assert all(line.ok for line in lines.values()), lines
    wipe = [row for row in audit_rows(services) if row.action == "demo.wipe"]
    assert len(wipe) == 1 and wipe[0].new["removed"]["movement"] > 100
    with (
        pytest.raises(sa.exc.DatabaseError, match="append-only"),
        services.engine.begin() as connection,
    ):
        connection.exec_driver_sql("DELETE FROM movement")
    services.close()


def test_a_migration_that_rebuilds_the_ledger_cannot_lose_its_guard(clinic):
    """SQLite copies a changed table without its triggers: such an upgrade is rolled back."""
    some_work(clinic)

    def rebuild(config, revision):
        operations = Operations(MigrationContext.configure(config.attributes["connection"]))
        with operations.batch_alter_table("movement", recreate="always"):
            pass

    with pytest.raises(
        RuntimeError, match=r"dropped the trigger\(s\) movement_no_delete, movement_no_update"
    ):
        _run(clinic.engine, rebuild, "head", keep_triggers=True)
    lines = {line.what: line for line in check(clinic.settings)}
    assert lines["append-only triggers"].ok and current_revision(clinic.engine) == head_revision()


# --- the command line, against a file changed with sqlite3 as an attacker would -----------------


@pytest.fixture
def clinic_file(tmp_path) -> Path:
    path = tmp_path / "clinic.sqlite"
    services = build(Settings(database_url=f"sqlite:///{path}"))
    seed_people(services)
    some_work(services)
    services.close()
    return path


def mesomix(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mesomix", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def tamper(path: Path, *statements: str) -> None:
    """Drop the ledger's guard and change rows, as someone with the file could."""
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TRIGGER movement_no_update")
        connection.execute("DROP TRIGGER movement_no_delete")
        for statement in statements:
            connection.execute(statement)
    connection.close()


def test_check_on_a_sound_ledger(clinic_file):
    checked = mesomix("--db", str(clinic_file), "check")
    assert checked.returncode == 0, checked.stdout
    assert "append-only triggers: ok (audit and movement refuse changes)" in checked.stdout
    assert "ledger against the trail: ok (4 movements as their audit rows recorded them)" in (
        checked.stdout
    )


def test_a_movement_edited_with_its_lot_alike_is_named(clinic_file):
    """The dispense took 1 mL from lot 1 (movement 3); 0.5 mL is written instead, and the lot's
    on-hand raised to match, so stock still equals the sum of movements."""
    tamper(
        clinic_file,
        "UPDATE movement SET quantity_ul = -500 WHERE id = 3",
        "UPDATE lot SET on_hand_ul = on_hand_ul + 500, open_ul = open_ul WHERE id = 1",
    )
    checked = mesomix("--db", str(clinic_file), "check")
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    out = checked.stdout
    assert "ledger: ok" in out and "audit chain: ok" in out  # what check saw before
    assert (
        "movement 3: the ledger says lot 1, dispense -500 µL, batch 1; the trail (audit row "
    ) in out
    assert "recorded lot 1, dispense -1,000 µL, batch 1" in out
    assert "the trigger movement_no_update refusing UPDATE is missing" in out


def test_a_movement_deleted_and_its_lot_adjusted_is_named(clinic_file):
    """The adjustment that took a vial off lot 2 (movement 4) is deleted, the vial put back."""
    tamper(
        clinic_file,
        "DELETE FROM movement WHERE id = 4",
        "UPDATE lot SET on_hand_ul = on_hand_ul + 10000 WHERE id = 2",
    )
    checked = mesomix("--db", str(clinic_file), "check")
    assert checked.returncode == 1
    assert "ledger: ok" in checked.stdout
    assert "movement 4 is missing from the ledger: the trail (audit row " in checked.stdout
    assert "recorded lot 2, adjust -10,000 µL" in checked.stdout


def test_a_movement_added_behind_the_trail_is_named(clinic_file):
    tamper(
        clinic_file,
        "INSERT INTO movement (lot_id, kind, quantity_ul, reason, note, actor_id, at) "
        "VALUES (2, 'receive', 10000, '', '', 3, '2026-11-30 10:00:00')",
        "UPDATE lot SET on_hand_ul = on_hand_ul + 10000 WHERE id = 2",
    )
    checked = mesomix("--db", str(clinic_file), "check")
    assert checked.returncode == 1
    assert "movement 5 (lot 2, receive +10,000 µL) has no audit row" in checked.stdout


def test_a_dropped_guard_alone_is_reported(clinic_file):
    tamper(clinic_file)
    checked = mesomix("--db", str(clinic_file), "check")
    assert checked.returncode == 1
    assert checked.stdout.count("is missing: rows of movement may have been changed") == 2
    assert "ledger against the trail: ok" in checked.stdout


def test_rows_written_before_they_listed_their_movements_are_reconciled_too(clinic):
    """Audit rows of revision 0007 and before carry no movement list: a receipt is found by lot
    and time, a dispense's by batch, lot and kind, an adjustment by its movement id."""
    some_work(clinic)
    with clinic.engine.begin() as connection:  # today's rows, stripped to what older ones held
        connection.exec_driver_sql("DROP TRIGGER audit_no_update")
        rows = connection.execute(sa.select(AuditRow.id, AuditRow.new)).all()
        for audit_id, new in rows:
            if new and "movements" in new:
                old_format = {k: v for k, v in new.items() if k != "movements"}
                connection.execute(
                    sa.update(AuditRow).where(AuditRow.id == audit_id).values(new=old_format)
                )
    lines = {line.what: line for line in check(clinic.settings)}
    assert lines["ledger against the trail"].ok
    assert "4 movements" in lines["ledger against the trail"].detail
    assert not verify(clinic.engine).intact  # the rows were edited, which the chain sees
    with clinic.engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO movement (lot_id, kind, quantity_ul, reason, note, actor_id, at) "
                    "SELECT lot_id, kind, quantity_ul, reason, note, actor_id, at FROM movement WHERE id = 3")
        )  # fmt: skip
    detail = {line.what: line for line in check(clinic.settings)}["ledger against the trail"].detail
    assert "movement 5 (lot 1, dispense -1,000 µL) has no audit row" in detail


def test_an_adjustment_records_the_on_hand_before_and_after_and_its_movement(clinic):
    """Before revision 0008 the row recorded the on-hand after the change as both."""
    _, xylo = some_work(clinic)
    (row,) = [row for row in audit_rows(clinic) if row.action == "stock.adjust"]
    assert (row.old["on_hand_ul"], row.new["on_hand_ul"]) == (50_000, 40_000)
    assert row.new["movements"] == [
        {"id": 4, "lot": xylo, "kind": "adjust", "quantity_ul": -10_000}
    ]
