"""The admin's and the manager's commands as real processes: the role change, and the rule said
before a new password is typed, and a count that differs from the books booked with its reason."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlmodel import select

from mesomix.bootstrap import Settings, build
from mesomix.db.tables import AuditRow, LotRow, MovementRow, UserRow
from mesomix.services.passwords import PASSWORD_RULE
from mesomix.services.uow import unit_of_work

LIDO = "lidocaine_2pct_2ml_amp"  # 2 mL single-dose ampoules


def mesomix(db: str, *argv: str, password: str, new_password: str | None = None):
    env = {**os.environ, "MESOMIX_PASSWORD": password}
    env.pop("MESOMIX_NEW_PASSWORD", None)
    if new_password is not None:
        env["MESOMIX_NEW_PASSWORD"] = new_password
    return subprocess.run(
        [sys.executable, "-m", "mesomix", "--db", db, *argv],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


@pytest.fixture
def demo_db(tmp_path) -> str:
    db = str(tmp_path / "demo.sqlite")
    done = subprocess.run(
        [sys.executable, "-m", "mesomix", "--db", db, "demo"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return db


def rows(db: str):
    services = build(Settings(database_url=f"sqlite:///{db}"))
    try:
        with unit_of_work(services.engine) as session:
            users = {u.name: u for u in session.exec(select(UserRow))}
            roles = list(session.exec(select(AuditRow).where(AuditRow.action == "user.role")))
        return users, roles
    finally:
        services.close()


def test_an_admin_changes_a_role_and_cannot_demote_themselves(demo_db):
    done = mesomix(demo_db, "user", "role", "sam", "--role", "practitioner",
                   "--user", "admin", password="demo-admin-2026")  # fmt: skip
    assert done.returncode == 0, done.stderr
    refused = mesomix(demo_db, "user", "role", "admin", "--role", "staff",
                      "--user", "admin", password="demo-admin-2026")  # fmt: skip
    assert refused.returncode == 2
    assert "cannot take the admin role from their own account" in refused.stderr
    bad = mesomix(demo_db, "user", "role", "sam", "--role", "owner",
                  "--user", "admin", password="demo-admin-2026")  # fmt: skip
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    users, roles = rows(demo_db)
    assert users["sam"].role == "practitioner" and users["admin"].role == "admin"
    assert [(r.old, r.new, r.user_name) for r in roles] == [
        ({"role": "staff"}, {"role": "practitioner"}, "admin")
    ]


def test_a_manager_may_not_change_roles(demo_db):
    done = mesomix(demo_db, "user", "role", "sam", "--role", "manager",
                   "--user", "nadia", password="demo-manager-2026")  # fmt: skip
    assert done.returncode == 2
    users, roles = rows(demo_db)
    assert users["sam"].role == "staff" and roles == []


def test_the_password_rule_is_said_before_the_prompt(demo_db):
    env = {**os.environ, "MESOMIX_PASSWORD": "demo-admin-2026"}
    env.pop("MESOMIX_NEW_PASSWORD", None)
    # no terminal: getpass reads the password from stdin after the rule is printed
    done = subprocess.run(
        [sys.executable, "-m", "mesomix", "--db", demo_db, "user", "reset-password", "sam",
         "--user", "admin"],
        input="", capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert PASSWORD_RULE in done.stderr


def lot_and_counts(db: str):
    """The demo's first lot of lidocaine ampoules, and its count movements."""
    services = build(Settings(database_url=f"sqlite:///{db}"))
    try:
        with unit_of_work(services.engine) as session:
            lot = session.exec(
                select(LotRow).where(LotRow.product_code == LIDO).order_by(LotRow.id)
            ).first()
            moved = session.exec(
                select(MovementRow).where(MovementRow.lot_id == lot.id, MovementRow.kind == "count")
            )
            return lot, list(moved)
    finally:
        services.close()


def test_a_count_that_differs_needs_a_reason_on_the_command_line(demo_db):
    lot, _ = lot_and_counts(demo_db)
    sealed = lot.on_hand_ul // 2_000  # 2 mL ampoules, none open
    manager = {"password": "demo-manager-2026"}
    argv = ["lot", "count", str(lot.id), "--sealed", str(sealed - 1), "--user", "nadia"]
    refused = mesomix(demo_db, *argv, **manager)
    assert refused.returncode == 2
    assert "2 mL less than the books: choose why it differs" in refused.stderr
    assert lot_and_counts(demo_db) == (lot, [])
    wrong_way = mesomix(demo_db, *argv, "--reason", "found_stock", **manager)
    assert wrong_way.returncode == 2 and "does not explain" in wrong_way.stderr
    done = mesomix(demo_db, *argv, "--reason", "breakage", "--note", "dropped", **manager)
    assert done.returncode == 0, done.stderr
    after, (movement,) = lot_and_counts(demo_db)
    assert after.on_hand_ul == lot.on_hand_ul - 2_000
    assert (movement.reason, movement.quantity_ul) == ("breakage", -2_000)
    report = mesomix(demo_db, "report", "waste", "--wide", "--user", "nadia", **manager)
    assert report.returncode == 0, report.stderr
    assert "breakage: broken or spoilt, not booked as waste" in report.stdout
