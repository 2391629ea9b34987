"""The Textual application: built by one factory from the services, so tests build it on a temp
database. It opens on sign-in (or on creating the first admin), and locks when idle."""

from __future__ import annotations

from datetime import timedelta

from textual import events, work
from textual.app import App
from textual.binding import Binding

from mesomix.bootstrap import Services
from mesomix.domain.idle import DEFAULT_IDLE, IdleLock
from mesomix.services.accounts import SignedIn
from mesomix.tui.screens.compose import ComposeScreen
from mesomix.tui.screens.signin import FirstAdminScreen, LockScreen, SignedInMessage, SignInScreen

IDLE_CHECK_SECONDS = 5


class MesomixApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "mesomix"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="app.quit")]

    def __init__(
        self, services: Services, user: SignedIn | None = None, idle: timedelta = DEFAULT_IDLE
    ) -> None:
        # Set before Textual starts: events can arrive while the app is still being built.
        self.services = services
        self.user = user
        self.idle = IdleLock(idle, services.clock.now())
        self._locked = False
        super().__init__()

    def on_mount(self) -> None:
        self.set_interval(IDLE_CHECK_SECONDS, self.check_idle)
        if self.user is not None:
            self.push_screen(ComposeScreen(self.services, self.user))
        else:
            self._first_screen()

    @work(thread=True, exclusive=True, group="start")
    def _first_screen(self) -> None:
        """Whether the database has users is a database question: asked off the event loop."""
        has_users = self.services.accounts.has_users()
        self.call_from_thread(
            self.push_screen,
            SignInScreen(self.services, self.services.settings.user or "")
            if has_users
            else FirstAdminScreen(self.services),
        )

    def on_signed_in_message(self, message: SignedInMessage) -> None:
        self.user = message.user
        self.idle.touch(self.services.clock.now())
        self.switch_screen(ComposeScreen(self.services, message.user))

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)) and not self._locked:
            self.idle.touch(self.services.clock.now())
        await super().on_event(event)

    def check_idle(self) -> None:
        """Lock a signed-in session that has been idle too long; the password opens it again."""
        if self.user is None or self._locked or not self.idle.locked(self.services.clock.now()):
            return
        self._locked = True
        self.push_screen(LockScreen(self.services, self.user), self._unlocked)

    def _unlocked(self, _ok: bool | None) -> None:
        self._locked = False
        self.idle.touch(self.services.clock.now())


def make_app(
    services: Services, user: SignedIn | None = None, idle: timedelta = DEFAULT_IDLE
) -> MesomixApp:
    return MesomixApp(services, user, idle)


def run_app(services: Services) -> None:
    make_app(services, idle=timedelta(minutes=services.settings.idle_minutes)).run()
