"""The admin's Accounts screen at 80×24: every change typed as an admin would, then checked in the
accounts table and the audit trail, not only on the screen."""

from __future__ import annotations

import pytest
from sqlmodel import select

from mesomix.db.tables import AuditRow, UserRow
from mesomix.services.errors import PermissionDenied
from mesomix.services.passwords import PASSWORD_RULE, verify_password
from mesomix.services.uow import unit_of_work
from mesomix.tui.app import make_app
from mesomix.tui.screens.accounts import AccountsScreen
from mesomix.tui.widgets.form import FormScreen
from tests.tui.pilot import screen_text, settle
from tests.tui.test_journeys import choose_row, fill, problems, submit

SIZE = (80, 24)
NEW_PASSWORD = "a long enough phrase"


def account(services, name: str) -> UserRow | None:
    with unit_of_work(services.engine) as session:
        return session.exec(select(UserRow).where(UserRow.name == name)).first()


def audited(services, action: str) -> list[AuditRow]:
    with unit_of_work(services.engine) as session:
        return list(session.exec(select(AuditRow).where(AuditRow.action == action)))


def status(pilot) -> str:
    return str(pilot.app.screen.query_one("#status").render())


async def press(pilot, *keys: str) -> None:
    await settle(pilot)
    await pilot.press(*keys)
    await settle(pilot)


async def test_an_admin_lands_on_the_accounts_and_no_one_else_reaches_them(demo):
    app = make_app(demo, demo.accounts.sign_in("admin", "demo-admin-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)
        shown = screen_text(app)
        for name in ("sam", "drchen", "nadia", "admin"):
            assert name in shown
        assert "(you)" in shown
    app = make_app(demo, demo.accounts.sign_in("nadia", "demo-manager-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "f7")
        assert not isinstance(app.screen, AccountsScreen)
        assert "accounts" not in app._opened
    with pytest.raises(PermissionDenied):
        demo.accounts.users("nadia")


async def test_admin_creates_an_account_after_being_told_the_password_rule(demo):
    app = make_app(demo, demo.accounts.sign_in("admin", "demo-admin-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "n")
        assert isinstance(app.screen, FormScreen)
        shown = screen_text(app)
        # the rule comes before the fields where the password is typed twice
        assert shown.index(PASSWORD_RULE[:40]) < shown.index("Password") < shown.index("Again")
        await fill(pilot, name="j.doe", display_name="Jo Doe", role="practitioner")
        await fill(pilot, password="short", again="shirt")
        said = problems(pilot)
        assert "at least 12 characters" in said and "the two passwords differ" in said
        await submit(pilot)
        assert isinstance(app.screen, FormScreen)  # refused, still open, nothing written
        assert account(demo, "j.doe") is None
        for key in ("password", "again"):
            app.screen.query_one(f"#form-{key}").value = ""
        await fill(pilot, password=NEW_PASSWORD, again=NEW_PASSWORD)
        await submit(pilot)
        assert isinstance(app.screen, AccountsScreen)
        assert "Account j.doe created" in status(pilot)
        assert "j.doe" in screen_text(app)
    row = account(demo, "j.doe")
    assert row is not None and row.role == "practitioner" and row.display_name == "Jo Doe"
    assert verify_password(row.password_hash, NEW_PASSWORD)
    created = [r for r in audited(demo, "user.create") if r.record_id == str(row.id)]
    assert created and created[0].user_name == "admin"


async def test_admin_unlocks_resets_changes_role_and_deactivates(demo):
    for _ in range(5):  # sam locks his account
        with pytest.raises(Exception, match="wrong"):
            demo.accounts.sign_in("sam", "not sam's password")
    app = make_app(demo, demo.accounts.sign_in("admin", "demo-admin-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_row(pilot, "#account-list", "sam")
        assert "LOCKED to" in screen_text(app)
        await press(pilot, "u")
        await press(pilot, "enter")  # the confirming dialog starts on its button
        assert "sam is unlocked" in status(pilot)
        unlocked = account(demo, "sam")
        assert unlocked.locked_until is None and unlocked.failed_attempts == 0
        assert audited(demo, "user.unlock")[-1].record_id == str(unlocked.id)

        await press(pilot, "p")
        assert PASSWORD_RULE[:40] in screen_text(app)
        await fill(pilot, password=NEW_PASSWORD, again=NEW_PASSWORD)
        await submit(pilot)
        assert "Password of sam reset" in status(pilot)
        assert verify_password(account(demo, "sam").password_hash, NEW_PASSWORD)
        reset = audited(demo, "user.reset_password")[-1]
        assert reset.user_name == "admin" and "password_hash" not in (reset.new or {})

        await press(pilot, "r")
        await fill(pilot, role="manager")
        await submit(pilot)
        assert "sam is now manager" in status(pilot)
        assert account(demo, "sam").role == "manager"
        role = audited(demo, "user.role")[-1]
        assert role.old == {"role": "staff"} and role.new == {"role": "manager"}

        await press(pilot, "d")
        assert "Deactivate" in screen_text(app)
        await press(pilot, "enter")
        assert "sam deactivated" in status(pilot)
        assert account(demo, "sam").active is False
        assert audited(demo, "user.deactivate")[-1].record_id == str(unlocked.id)
        assert "DEACTIVATED" in screen_text(app)

        await press(pilot, "d", "enter")
        assert account(demo, "sam").active is True
        assert audited(demo, "user.reactivate")


async def test_the_only_admin_cannot_lock_themselves_out(demo):
    app = make_app(demo, demo.accounts.sign_in("admin", "demo-admin-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_row(pilot, "#account-list", "admin")
        await press(pilot, "r")
        await fill(pilot, role="staff")
        await submit(pilot)
        assert isinstance(app.screen, FormScreen)
        assert "cannot take the admin role from their own account" in problems(pilot)
        await press(pilot, "escape")
        await press(pilot, "d", "enter")
        assert isinstance(app.screen, FormScreen)
        assert "cannot deactivate their own account" in problems(pilot)
    row = account(demo, "admin")
    assert row.role == "admin" and row.active is True
    assert not audited(demo, "user.role") and not audited(demo, "user.deactivate")
