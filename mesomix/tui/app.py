"""The Textual application: built by one factory from the services, so tests build it on a temp
database. It opens on sign-in (or on creating the first admin), and locks when idle."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from mesomix.bootstrap import Services
from mesomix.domain.idle import DEFAULT_IDLE, IdleLock
from mesomix.domain.permissions import Action, Role, allowed
from mesomix.services.accounts import SignedIn
from mesomix.tui.screens.compose import ComposeScreen
from mesomix.tui.screens.formulas import FormulasScreen
from mesomix.tui.screens.help import HelpScreen
from mesomix.tui.screens.inventory import InventoryScreen
from mesomix.tui.screens.patients import PatientsScreen
from mesomix.tui.screens.reports import ReportsScreen
from mesomix.tui.screens.signin import FirstAdminScreen, LockScreen, SignedInMessage, SignInScreen

IDLE_CHECK_SECONDS = 5
DARK, LIGHT = "textual-dark", "textual-light"


@dataclass(frozen=True)
class Place:
    """One screen of the application: its key, who may open it, and how it is built."""

    name: str
    key: str
    action: Action
    build: Callable[[Services, SignedIn], Screen[None]]


PLACES = (
    Place("compose", "f2", Action.CHECK_MIXTURE, ComposeScreen),
    Place("patients", "f3", Action.VIEW_PATIENTS, PatientsScreen),
    Place("formulas", "f4", Action.CHECK_MIXTURE, FormulasScreen),
    Place("inventory", "f5", Action.VIEW_STOCK, InventoryScreen),
    Place("reports", "f6", Action.VIEW_REPORTS, ReportsScreen),
)


def places_for(role: Role) -> list[Place]:
    """The screens a role has work on: the same matrix the services enforce."""
    return [place for place in PLACES if allowed(role, place.action)]


class MesomixApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "mesomix"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit"),
        Binding("f1", "help", "Help", id="app.help"),
        *(
            Binding(
                place.key, f"go('{place.name}')", place.name.capitalize(), id=f"go.{place.name}"
            )
            for place in PLACES
        ),
        Binding("ctrl+t", "toggle_theme", "Dark/light", id="app.theme", show=False),
    ]

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
            self._open_places(self.user)
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
        self._open_places(message.user)

    def _open_places(self, user: SignedIn) -> None:
        """One mode per screen the person's role has work on; they land on the first."""
        places = places_for(Role(user.role))
        for place in places:
            self.add_mode(place.name, partial(place.build, self.services, user))
        if places:
            self.switch_mode(places[0].name)
        else:
            self.notify("Your role has no screen here: use the command line.", severity="warning")

    def action_go(self, name: str) -> None:
        if self.user is None or self._locked:
            return
        if name not in [place.name for place in places_for(Role(self.user.role))]:
            self.notify(f"{self.user.role} has no work on the {name} screen", severity="warning")
            return
        self.switch_mode(name)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Screens a role may not open are not offered in the footer."""
        if action == "go":
            if self.user is None:
                return False
            return parameters[0] in [p.name for p in places_for(Role(self.user.role))]
        return True

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.user, self.screen))

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.theme == DARK else DARK

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every action is reachable from the command palette: the screens, then this screen's keys."""
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Dark or light", "Switch between the dark and light themes", self.action_toggle_theme
        )
        yield SystemCommand("Help", "Keys, screens and what your role may do", self.action_help)
        if self.user is None:
            return
        for place in places_for(Role(self.user.role)):
            yield SystemCommand(
                f"Go to {place.name}",
                f"Open the {place.name} screen ({place.key.upper()})",
                partial(self.action_go, place.name),
            )
        for binding in screen.BINDINGS:
            if isinstance(binding, Binding) and binding.description:
                yield SystemCommand(binding.description, f"{binding.key} on this screen", partial(screen.run_action, binding.action))  # fmt: skip

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
