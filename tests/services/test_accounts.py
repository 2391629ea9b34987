"""Accounts: sign-in, lockout after five failures (audited), the admin's work, the first admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from mesomix.db.tables import UserRow
from mesomix.services.accounts import SignInRefused
from mesomix.services.errors import NotFound, PermissionDenied, ServiceError
from mesomix.services.signing import LOCKOUT
from mesomix.services.uow import unit_of_work
from tests.factories import PASSWORD, audit_rows


def user_row(services, name):
    with unit_of_work(services.engine) as session:
        return session.exec(select(UserRow).where(UserRow.name == name)).one()


def test_sign_in_is_audited(clinic):
    signed = clinic.accounts.sign_in("sam", PASSWORD)
    assert (signed.name, signed.role) == ("sam", "staff")
    assert audit_rows(clinic)[-1].action == "sign_in"


def test_signing_out_is_audited_with_its_reason(clinic):
    clinic.accounts.sign_in("sam", PASSWORD)
    clinic.accounts.sign_out("sam", "signed out at the lock")
    last = audit_rows(clinic)[-1]
    assert (last.action, last.user_name, last.reason) == (
        "sign_out",
        "sam",
        "signed out at the lock",
    )
    before = len(audit_rows(clinic))
    with pytest.raises(NotFound, match="no user named 'nobody'"):
        clinic.accounts.sign_out("nobody", "signed out")
    assert len(audit_rows(clinic)) == before  # nothing written


def test_five_failures_lock_the_account_for_a_while(clinic):
    for attempt in range(1, 6):
        with pytest.raises(SignInRefused, match="wrong user name or password"):
            clinic.accounts.sign_in("sam", "not the password")
        assert user_row(clinic, "sam").failed_attempts == attempt
    actions = [row.action for row in audit_rows(clinic)]
    assert actions.count("sign_in.failed") == 5 and actions[-1] == "account.locked"
    with pytest.raises(SignInRefused, match="locked until"):
        clinic.accounts.sign_in("sam", PASSWORD)  # even the right password
    clinic.clock.advance(LOCKOUT + timedelta(seconds=1))
    assert clinic.accounts.sign_in("sam", PASSWORD).name == "sam"
    assert user_row(clinic, "sam").failed_attempts == 0


def test_an_admin_unlocks_resets_and_deactivates(clinic):
    for _ in range(5):
        with pytest.raises(SignInRefused):
            clinic.accounts.sign_in("sam", "not the password")
    clinic.accounts.unlock("root", "sam")
    assert clinic.accounts.sign_in("sam", PASSWORD)
    clinic.accounts.reset_password("root", "sam", "a brand new password")
    with pytest.raises(SignInRefused):
        clinic.accounts.sign_in("sam", PASSWORD)
    assert clinic.accounts.sign_in("sam", "a brand new password")
    clinic.accounts.deactivate("root", "sam")
    with pytest.raises(SignInRefused, match="deactivated"):
        clinic.accounts.sign_in("sam", "a brand new password")
    actions = [row.action for row in audit_rows(clinic)]
    assert {"user.unlock", "user.reset_password", "user.deactivate"} <= set(actions)
    assert all(
        "hash" not in (row.new or {}) for row in audit_rows(clinic)
    )  # no secrets in the trail


def test_unknown_names_get_the_same_answer_and_are_audited(clinic):
    with pytest.raises(SignInRefused, match="wrong user name or password"):
        clinic.accounts.sign_in("mallory", "whatever it is")
    assert (audit_rows(clinic)[-1].action, audit_rows(clinic)[-1].user_name) == (
        "sign_in.failed",
        "mallory",
    )


def test_a_hash_from_older_parameters_is_renewed_on_sign_in(clinic):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with unit_of_work(clinic.engine, write=True) as session:
        row = session.exec(select(UserRow).where(UserRow.name == "sam")).one()
        row.password_hash = weak
        session.add(row)
    clinic.accounts.sign_in("sam", PASSWORD)
    renewed = user_row(clinic, "sam").password_hash
    assert renewed != weak and "m=19456,t=2,p=1" in renewed
    assert "account.rehashed" in [row.action for row in audit_rows(clinic)]


def test_creating_users(clinic):
    clinic.accounts.create_user("root", "lea", "Léa Martin", "staff", "another long password")
    assert clinic.accounts.sign_in("lea", "another long password").role == "staff"
    with pytest.raises(ServiceError, match="taken"):
        clinic.accounts.create_user("root", "lea", "Léa Again", "staff", "another long password")
    with pytest.raises(ServiceError, match="at least 12"):
        clinic.accounts.create_user("root", "short", "Short", "staff", "short")
    with pytest.raises(ServiceError, match="role 'chief'"):
        clinic.accounts.create_user("root", "chief", "Chief", "chief", "another long password")
    with pytest.raises(PermissionDenied, match="may not manage users"):
        clinic.accounts.create_user("nadia", "eve", "Eve", "admin", "another long password")


def test_the_first_admin_only_on_an_empty_database(services):
    assert not services.accounts.has_users()
    services.accounts.create_first_admin("ines", "Inès", "a long admin password")
    assert services.accounts.sign_in("ines", "a long admin password").role == "admin"
    with pytest.raises(ServiceError, match="already has users"):
        services.accounts.create_first_admin("eve", "Eve", "a long admin password")


def test_an_admin_cannot_lock_themselves_out(clinic):
    with pytest.raises(ServiceError, match="own account"):
        clinic.accounts.deactivate("root", "root")
