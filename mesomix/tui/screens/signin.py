"""Signing in, the first admin of a new database, and the idle lock.

The screens gather names and passwords; the account service decides, in a worker, and every
failure is counted and audited there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Static

from mesomix.tui.failures import reported
from mesomix.tui.widgets.field import Field

if TYPE_CHECKING:  # the program is built behind this screen: nothing heavy before its frame
    from mesomix.bootstrap import Services
    from mesomix.services.accounts import SignedIn


class SignInScreen(Screen[None]):
    """Who is at the terminal. The first frame shows at once, before the program behind it is
    built; signing in waits for the program, in a worker."""

    CSS_PATH = "../styles/signin.tcss"

    @dataclass
    class Done(Message):
        user: SignedIn | None
        problem: str = ""

    def __init__(
        self, program: Callable[[], Services], name: str = "", *, opening: bool = False
    ) -> None:
        super().__init__()
        self._program = program  # blocks until the program is built: called in workers only
        self._name = name
        self._opening = opening  # the program is still being built behind this screen
        self._signing = False  # a name and password are being checked

    @property
    def takes_keys(self) -> bool:
        """Keys typed while signing in wait, and go nowhere once the work screen opens: a
        password typed ahead never lands in the next screen's fields (tui/keys.py)."""
        return not self._signing

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="signin-box"):
            yield Label("Sign in to mesomix", classes="box-title")
            yield Field(value=self._name, placeholder="user name", id="signin-name")
            yield Field(placeholder="password", password=True, id="signin-password")
            yield Button("Sign in", id="signin-go", variant="primary")
            yield Static("", id="signin-problem", classes="problem")
            yield Static("opening the database…" if self._opening else "", id="signin-status")
        yield Footer(compact=True)

    def program_ready(self) -> None:
        """The program is built: signing in answers at once from now on."""
        self._opening = False
        self.query_one("#signin-status", Static).update("")

    def on_mount(self) -> None:
        self.title = "mesomix — sign in"
        self.query_one("#signin-password" if self._name else "#signin-name", Input).focus()

    @on(Input.Submitted, "#signin-name")
    def _name_typed(self) -> None:
        """Enter in the name goes on to the password, as in every form; with both typed, signs in."""
        if (
            self.query_one("#signin-name", Input).value.strip()
            and not self.query_one("#signin-password", Input).value
        ):
            self.query_one("#signin-password", Input).focus()
            return
        self._submit()

    @on(Button.Pressed, "#signin-go")
    @on(Input.Submitted, "#signin-password")
    def _submit(self) -> None:
        name = self.query_one("#signin-name", Input).value.strip()
        password = self.query_one("#signin-password", Input).value
        if not name or not password:
            self._problem("type your user name and your password")
            return
        self.query_one("#signin-go", Button).disabled = True
        self._signing = True
        if self._opening:
            self.query_one("#signin-status", Static).update(
                "opening the database… you are signed in as soon as it is open"
            )
        self._sign_in(name, password)

    @work(thread=True, exclusive=True, group="signin")
    def _sign_in(self, name: str, password: str) -> None:
        def refused(problem: str) -> None:
            self.post_message(self.Done(None, problem))

        with reported(refused, bug="the database could not be asked"):
            self.post_message(self.Done(self._program().accounts.sign_in(name, password)))

    def on_sign_in_screen_done(self, message: Done) -> None:
        self.query_one("#signin-go", Button).disabled = False
        self.query_one("#signin-status", Static).update("")
        if message.user is None:
            self._signing = False  # the keys typed meanwhile go into the emptied password
            self.query_one("#signin-password", Input).value = ""
            self._problem(message.problem)
            return
        self.app.post_message(SignedInMessage(message.user))

    def _problem(self, text: str) -> None:
        self.query_one("#signin-problem", Static).update(Text(text))


@dataclass
class SignedInMessage(Message):
    """Someone signed in: the app opens their work."""

    user: SignedIn


class FirstAdminScreen(Screen[None]):
    """A new database has no users: whoever installs mesomix creates its first admin."""

    CSS_PATH = "../styles/signin.tcss"

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self._creating = False

    @property
    def takes_keys(self) -> bool:
        """Keys typed while the account is written wait (tui/keys.py)."""
        return not self._creating

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="signin-box"):
            yield Label("A new database: create its first admin", classes="box-title")
            yield Field(placeholder="user name (letters, digits, dots, dashes)", id="admin-name")
            yield Field(placeholder="display name", id="admin-display")
            yield Field(
                placeholder="password (at least 12 characters)", password=True, id="admin-password"
            )
            yield Field(placeholder="password again", password=True, id="admin-again")
            yield Button("Create the admin", id="admin-go", variant="primary")
            yield Static("", id="admin-problem", classes="problem")
        yield Footer(compact=True)

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        """Enter goes on to the next field, and creates the account from the last one."""
        fields = list(self.query(Input))
        if event.input is fields[-1]:
            self._create()
        else:
            fields[fields.index(event.input) + 1].focus()

    @on(Button.Pressed, "#admin-go")
    def _create(self) -> None:
        name = self.query_one("#admin-name", Input).value.strip()
        display = self.query_one("#admin-display", Input).value.strip()
        password = self.query_one("#admin-password", Input).value
        if password != self.query_one("#admin-again", Input).value:
            self.query_one("#admin-problem", Static).update("the two passwords differ")
            return
        self.query_one("#admin-go", Button).disabled = True
        self._creating = True
        self._create_admin(name, display, password)

    @work(thread=True, exclusive=True, group="first-admin")
    def _create_admin(self, name: str, display: str, password: str) -> None:
        """Hashing the password and writing the account run off the event loop."""

        def refused(problem: str) -> None:
            self.app.call_from_thread(self._refused, problem)

        with reported(refused, bug="the account could not be created"):
            self.services.accounts.create_first_admin(name, display, password)
            self.app.call_from_thread(
                self.app.switch_screen, SignInScreen(lambda: self.services, name)
            )

    def _refused(self, problem: str) -> None:
        self._creating = False
        self.query_one("#admin-go", Button).disabled = False
        self.query_one("#admin-problem", Static).update(Text(problem))


class LockScreen(Screen[bool]):
    """The session went idle (or its person locked it): the work behind is hidden. The same
    person types their password to go on; anyone else signs them out and signs in as themselves.
    Dismissed with True when unlocked, False to sign out."""

    CSS_PATH = "../styles/signin.tcss"

    BINDINGS = [
        Binding("escape", "noop", show=False),
        Binding("ctrl+o", "sign_out", "Sign out", id="lock.sign_out"),
    ]

    def __init__(self, services: Services, user: SignedIn) -> None:
        super().__init__()
        self.services = services
        self.user = user
        self._checking = False

    @property
    def takes_keys(self) -> bool:
        """Keys typed while the password is checked wait, and go nowhere once unlocked."""
        return not self._checking

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="signin-box"):
            yield Label(Text(f"Locked — {self.user.display_name}"), classes="box-title")
            yield Field(placeholder="password", password=True, id="lock-password")
            yield Static("", id="lock-problem", classes="problem")
            yield Static(
                Text(
                    f"Not {self.user.display_name}? Sign out (Ctrl+O): what was not dispensed "
                    "or saved is dropped, then you sign in as yourself."
                ),
                id="lock-other",
            )
            yield Button("Sign out", id="lock-sign-out", compact=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "mesomix — locked"
        self.query_one("#lock-password", Input).focus()

    def action_noop(self) -> None:
        """Escape does not unlock."""

    @on(Button.Pressed, "#lock-sign-out")
    def action_sign_out(self) -> None:
        self.dismiss(False)

    @on(Input.Submitted, "#lock-password")
    def _unlock(self, event: Input.Submitted) -> None:
        if event.value:
            self._checking = True
            self._check(event.value)

    @work(thread=True, exclusive=True, group="unlock")
    def _check(self, password: str) -> None:
        def refused(problem: str) -> None:  # wrong, locked (until when, who unlocks), a fault
            self.app.call_from_thread(self._checked, False, problem)

        with reported(refused, bug="the database could not be asked"):  # it does not unlock
            self.services.accounts.reopen(self.user.name, password)
            self.app.call_from_thread(self._checked, True, "")

    def _checked(self, ok: bool, problem: str) -> None:
        if ok:
            self.dismiss(True)
            return
        self._checking = False  # the keys typed meanwhile go into the emptied password
        self.query_one("#lock-password", Input).value = ""
        self.query_one("#lock-problem", Static).update(Text(problem))
