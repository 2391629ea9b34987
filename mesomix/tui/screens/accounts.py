"""Accounts: the admin's work on the people who use mesomix — list, create, change a role, reset
a password, unlock, deactivate and reactivate.

Every change goes through `AccountService`, which checks the admin's role, writes the change
and its audit row in one transaction, and refuses what would leave the clinic without an active
admin. A new password is typed twice, after the rule it must meet has been said.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static

from mesomix.bootstrap import Services
from mesomix.domain.permissions import Action
from mesomix.services.accounts import ROLES, Account, SignedIn
from mesomix.services.errors import ServiceError
from mesomix.services.passwords import PASSWORD_RULE, password_problem
from mesomix.tui.screens.base import WorkScreen, columns, same_row, short
from mesomix.tui.widgets.form import Form, FormField, Values

_ROLE_CHOICES = [(role, role) for role in ROLES]
# What each role is for, as the permission matrix (domain/permissions.py) allows it.
ROLE_WORK = (
    "Staff check and dispense; practitioners also edit patients and allergies, sign overrides "
    "and save formulas; managers receive and count stock, see reports and the audit trail; "
    "admins manage accounts."
)


def password_fields() -> list[FormField]:
    return [
        FormField("password", "Password", "the new password", password=True),
        FormField("again", "Again", "the same, to be sure", password=True),
    ]


def password_problems(values: Values) -> list[str]:
    """What is wrong with the two passwords typed, each named by its field."""
    problems = []
    problem = password_problem(values["password"])
    if problem:
        problems.append(f"password: {problem}")
    if values["again"] and values["again"] != values["password"]:
        problems.append("again: the two passwords differ")
    return problems


def checked_password(values: Values) -> str:
    """The new password, once both fields agree; else every problem, as the service refuses."""
    problems = password_problems(values)
    if not values["again"]:
        problems.append("again: type the password a second time")
    if problems:
        raise ServiceError("\n".join(problems))
    return values["password"]


class AccountsScreen(WorkScreen):
    BINDINGS = [
        Binding("n", "create", "New", id="accounts.create", tooltip="Create an account"),
        Binding("r", "role", "Role", id="accounts.role", tooltip="Change the account's role"),
        Binding("p", "password", "Password", id="accounts.password",
                tooltip="Reset the account's password"),
        Binding("u", "unlock", "Unlock", id="accounts.unlock",
                tooltip="Unlock the account after wrong passwords"),
        Binding("d", "active", "(De)activate", id="accounts.active",
                tooltip="Deactivate or reactivate the account"),
    ]  # fmt: skip
    NEEDS = {
        "create": Action.MANAGE_USERS,
        "role": Action.MANAGE_USERS,
        "password": Action.MANAGE_USERS,
        "unlock": Action.MANAGE_USERS,
        "active": Action.MANAGE_USERS,
    }

    @dataclass
    class Loaded(Message):
        accounts: list[Account]

    def __init__(self, services: Services, user: SignedIn) -> None:
        super().__init__(services, user)
        self._accounts: dict[str, Account] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="account-list", cursor_type="row", zebra_stripes=True)
        yield Static("", id="account-card")
        yield Static("", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "mesomix — Accounts"
        columns(
            self.query_one("#account-list", DataTable),
            ("User name", 14), ("Display name", 24), ("Role", 12), ("State", 16),
        )  # fmt: skip
        self.query_one("#account-list", DataTable).focus()
        self.reload()

    @work(thread=True, exclusive=True, group="accounts")
    def reload(self) -> None:
        with self.reporting("could not load the accounts"):
            self.post_message(self.Loaded(self.services.accounts.users(self.user.name)))

    def _state(self, account: Account) -> str:
        state = account.state(self.services.clock.now())
        if state == "locked" and account.locked_until is not None:
            until = account.locked_until.astimezone(self.services.clock.zone)
            return f"LOCKED to {until:%H:%M}"
        return state.upper() if state == "deactivated" else state

    def on_accounts_screen_loaded(self, message: Loaded) -> None:
        self._accounts = {account.name: account for account in message.accounts}
        table = self.query_one("#account-list", DataTable)
        with same_row(table):
            table.clear()
            for account in message.accounts:
                you = " (you)" if account.name == self.user.name else ""
                table.add_row(
                    Text(short(account.name, 14)),
                    Text(short(account.display_name, 24 - len(you)) + you),
                    account.role,
                    self._state(account),
                    key=account.name,
                )
        self._show_card()

    @on(DataTable.RowHighlighted, "#account-list")
    def _show_card(self) -> None:
        account = self._chosen()
        card = self.query_one("#account-card", Static)
        if account is None:
            card.update("No account chosen.")
            return
        wrong = (
            f"; {account.failed_attempts} wrong password(s) in a row"
            if account.failed_attempts
            else ""
        )
        card.update(
            Text(f"{account.display_name} ({account.name}), {account.role}: {self._state(account)}{wrong}")
        )  # fmt: skip

    def _chosen(self) -> Account | None:
        table = self.query_one("#account-list", DataTable)
        if not table.row_count or not table.is_valid_coordinate(table.cursor_coordinate):
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self._accounts.get(str(key))

    def _chosen_or_say(self) -> Account | None:
        account = self._chosen()
        if account is None:
            self.say("Choose an account first.", error=True)
        return account

    def action_create(self) -> None:
        accounts, admin = self.services.accounts, self.user.name

        def submit(values: Values) -> str:
            password = checked_password(values)
            name = values["name"].strip()
            accounts.create_user(
                admin, name, values["display_name"].strip(), values["role"], password
            )
            return f"Account {name} created ({values['role']}): they sign in with that password."

        self.ask(
            Form(
                "New account",
                [
                    FormField("name", "User name", "e.g. j.doe: letters, digits, . or -"),
                    FormField("display_name", "Display name", "as on labels and reports"),
                    FormField("role", "Role", choices=_ROLE_CHOICES),
                    *password_fields(),
                ],
                submit,
                check=password_problems,
                go="Create",
                intro=PASSWORD_RULE,
            ),
            self.reload,
        )

    def action_role(self) -> None:
        account = self._chosen_or_say()
        if account is None:
            return
        accounts, admin = self.services.accounts, self.user.name

        def submit(values: Values) -> str:
            if values["role"] == account.role:
                raise ServiceError(f"role: {account.name} is {account.role} already")
            accounts.set_role(admin, account.name, values["role"])
            return f"{account.name} is now {values['role']} (was {account.role})."

        self.ask(
            Form(
                f"Role of {account.display_name} ({account.name})",
                [FormField("role", "Role", choices=_ROLE_CHOICES, value=account.role)],
                submit,
                go="Change",
                intro=f"Now {account.role}. {ROLE_WORK}",
            ),
            self.reload,
        )

    def action_password(self) -> None:
        account = self._chosen_or_say()
        if account is None:
            return
        accounts, admin = self.services.accounts, self.user.name

        def submit(values: Values) -> str:
            accounts.reset_password(admin, account.name, checked_password(values))
            return (
                f"Password of {account.name} reset; the account is unlocked. Tell them in person."
            )

        self.ask(
            Form(
                f"New password for {account.display_name} ({account.name})",
                password_fields(),
                submit,
                check=password_problems,
                go="Reset",
                intro=PASSWORD_RULE,
            ),
            self.reload,
        )

    def action_unlock(self) -> None:
        account = self._chosen_or_say()
        if account is None:
            return
        if not account.failed_attempts and account.locked_until is None:
            self.say(f"{account.name} is not locked and has no wrong passwords counted.")
            return
        accounts, admin = self.services.accounts, self.user.name

        def submit(_: Values) -> str:
            accounts.unlock(admin, account.name)
            return f"{account.name} is unlocked: they can sign in again."

        self.ask(
            Form(
                f"Unlock {account.display_name} ({account.name})?",
                [],
                submit,
                go="Unlock",
                intro="The count of wrong passwords goes back to zero.",
            ),
            self.reload,
        )

    def action_active(self) -> None:
        account = self._chosen_or_say()
        if account is None:
            return
        accounts, admin = self.services.accounts, self.user.name
        if account.active:
            verb, said = "Deactivate", "can no longer sign in or sign; their records stay"
            change = accounts.deactivate
        else:
            verb, said = "Reactivate", "can sign in again with their password"
            change = accounts.reactivate

        def submit(_: Values) -> str:
            change(admin, account.name)
            return f"{account.name} {verb.lower()}d: they {said}."

        self.ask(
            Form(
                f"{verb} {account.display_name} ({account.name})?",
                [],
                submit,
                go=verb,
                intro=f"{account.name} {said}.",
            ),
            self.reload,
        )
