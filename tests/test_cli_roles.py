"""The admin's and the manager's commands as real processes: the role change, and the rule said
before a new password is typed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlmodel import select

from mesomix.bootstrap import Settings, build
from mesomix.db.tables import AuditRow, UserRow
from mesomix.services.passwords import PASSWORD_RULE
from mesomix.services.uow import unit_of_work


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
