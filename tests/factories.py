"""Small builders for test data, written through the real tables and services."""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import func, select

from mesomix.bootstrap import Services
from mesomix.db.tables import BatchRow, LotRow, MovementRow, PatientRow, UserRow
from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.services.passwords import hash_password
from mesomix.services.uow import unit_of_work

USERS = (
    ("sam", "Sam Ortega", "staff"),
    ("drchen", "Dr Mei Chen", "practitioner"),
    ("nadia", "Nadia Haddad", "manager"),
    ("root", "Rosa Admin", "admin"),
)
PASSWORD = "correct horse battery"  # every test user's, hashed for real


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def copy_of(template: Path, target: Path) -> str:
    """A database made once, copied for one test (by SQLite's backup, which takes what is still
    in the write-ahead log too); the copy's path, as `--db` takes it."""
    with (
        contextlib.closing(sqlite3.connect(template)) as source,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)
    return str(target)


def seed_people(services: Services) -> None:
    """The test users (each working at the first site) and two patients."""
    from mesomix.db.tables import UserSiteRow

    now = services.clock.now()
    with unit_of_work(services.engine, write=True) as session:
        for name, display, role in USERS:
            user = UserRow(
                name=name,
                display_name=display,
                role=role,
                password_hash=_password_hash(),
                created_at=now,
            )
            session.add(user)
            session.flush()
            session.add(UserSiteRow(user_id=user.id or 0, site_id=1))
        session.add(PatientRow(ref="P-1", name="Amélie Laurent", weight_g=61_500, created_at=now))
        session.add(PatientRow(ref="P-2", name="[bold]Test[/] Markup", created_at=now))


def receive(
    services: Services, product: str, lot: str, containers: int, expires_in_days: int = 365
) -> int:
    expiry = services.clock.today() + timedelta(days=expires_in_days)
    return services.stock.receive("nadia", product, lot, expiry, containers)


def set_lot(services: Services, lot_id: int, **values: object) -> None:
    """Change a lot behind the services' back (status, expiry) to set up a scenario."""
    with unit_of_work(services.engine, write=True) as session:
        session.execute(sa.update(LotRow).where(LotRow.id == lot_id).values(**values))


def mixture(
    *ingredients: tuple[str, str],
    final: str = "",
    patient: str | None = "P-1",
    diluent: str | None = None,
) -> DraftMixture:
    return DraftMixture(
        ingredients=tuple(DraftIngredient(what, amount) for what, amount in ingredients),
        final_volume=final,
        patient=patient,
        diluent=diluent,
    )


def lot_row(services: Services, lot_id: int) -> LotRow:
    with unit_of_work(services.engine) as session:
        row = session.get(LotRow, lot_id)
        assert row is not None
        return row


def counts(services: Services) -> dict[str, int]:
    """Rows in the tables a dispense writes: used to prove that a refusal wrote nothing."""
    with unit_of_work(services.engine) as session:
        return {
            "movements": session.exec(select(func.count()).select_from(MovementRow)).one(),
            "batches": session.exec(select(func.count()).select_from(BatchRow)).one(),
            "on_hand": session.exec(select(func.coalesce(func.sum(LotRow.on_hand_ul), 0))).one(),
        }


def assert_ledger_exact(services: Services) -> None:
    assert services.stock.discrepancies() == []


def today(services: Services) -> date:
    return services.clock.now().date()


def add_allergy(services: Services, patient_ref: str, **fields: object) -> int:
    """Record an allergy straight into the table (the allergy service has its own tests)."""
    from mesomix.db.tables import AllergyRow

    with unit_of_work(services.engine, write=True) as session:
        patient = session.exec(select(PatientRow).where(PatientRow.ref == patient_ref)).one()
        row = AllergyRow(patient_id=patient.id or 0, **fields)
        session.add(row)
        session.flush()
        return row.id or 0


def snapshot(services: Services) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the audit trail and the search index kept as a cache (a
    search, even one for something refused, may keep it): to prove a refusal wrote nothing
    else."""
    from sqlmodel import SQLModel

    with services.engine.connect() as connection:
        return {
            name: sorted(map(tuple, connection.execute(sa.select(table)).all()), key=repr)
            for name, table in SQLModel.metadata.tables.items()
            if name not in ("audit", "audit_head", "search_snapshot")
        }


def audit_rows(services: Services) -> list[object]:
    from mesomix.db.tables import AuditRow

    with unit_of_work(services.engine) as session:
        return list(session.exec(select(AuditRow).order_by(AuditRow.id)))


def scan_of(gtin: str, lot: str = "", expiry: date | None = None, serial: str = "") -> str:
    """What a scanner types for a GS1 DataMatrix on a box: symbology identifier, GTIN, expiry,
    then the variable-length lot and serial, each ended by the group separator but the last."""
    fixed = f"]d201{gtin}" + (f"17{expiry:%y%m%d}" if expiry else "")
    variable = [f"10{lot}"] * bool(lot) + [f"21{serial}"] * bool(serial)
    return fixed + "\x1d".join(variable)


def tamper_audit(services: Services, *statements: str) -> None:
    """What someone with the SQLite file could do: drop the trail's guard, change its rows."""
    with services.engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER audit_no_update")
        connection.exec_driver_sql("DROP TRIGGER audit_no_delete")
        for statement in statements:
            connection.exec_driver_sql(statement)
