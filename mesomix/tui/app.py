"""The Textual application: built by one factory from its settings and the program behind it, so
tests build it on a temp database. It opens on sign-in (or on creating the first admin), and
locks when idle.

The first frame comes before anything heavy: this module and the sign-in screen import neither
the database, pint nor pandas. The program (database checked and migrated, services built, the
demo data made) is built in a worker after that frame; the screens of the work are imported when
first opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import sys
import termios
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import App, SystemCommand, UnknownModeError
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import WorkerCancelled, WorkerFailed, WorkerState

from mesomix.domain.idle import DEFAULT_IDLE, IdleLock
from mesomix.domain.permissions import Action, Role, allowed, may_do
from mesomix.settings import Settings
from mesomix.tui.failures import reported
from mesomix.tui.keys import KeyGate
from mesomix.tui.messages import Unfinished
from mesomix.tui.screens.help import HelpScreen
from mesomix.tui.screens.signin import FirstAdminScreen, LockScreen, SignedInMessage, SignInScreen

if TYPE_CHECKING:
    from mesomix.bootstrap import Services
    from mesomix.services.accounts import SignedIn
    from mesomix.tui.screens.base import WorkScreen

IDLE_CHECK_SECONDS = 5
TERMINAL_CHECK_SECONDS = 1  # how soon a closed terminal window ends the app
AHEAD = timedelta(milliseconds=250)  # the longest a screen waits to open with its rows read
CONFIRM_WITHIN = timedelta(seconds=5)  # a second Ctrl+O or Ctrl+Q drops unfinished work
DARK, LIGHT = "textual-dark", "textual-light"
SIGNED_OUT = "signed-out"  # the mode that holds the sign-in screen after someone signs out


@dataclass(frozen=True)
class Place:
    """One screen of the application: its key, who may open it, and where its screen class is
    ("module:Class", imported when the program is built, not before the first frame)."""

    name: str
    key: str
    action: Action
    screen: str

    def screen_class(self) -> type[WorkScreen]:
        module, _, name = self.screen.partition(":")
        built: type[WorkScreen] = getattr(importlib.import_module(module), name)
        return built


PLACES = (
    Place("compose", "f2", Action.CHECK_MIXTURE, "mesomix.tui.screens.compose:ComposeScreen"),
    Place("patients", "f3", Action.VIEW_PATIENTS, "mesomix.tui.screens.patients:PatientsScreen"),
    Place("formulas", "f4", Action.CHECK_MIXTURE, "mesomix.tui.screens.formulas:FormulasScreen"),
    # F11 and F12: Compose keeps F7–F9 for its own work; a terminal that takes F11 or F12 for
    # itself still has the command palette (Ctrl+P), which offers every screen.
    Place("courses", "f11", Action.VIEW_COURSES, "mesomix.tui.screens.courses:CoursesScreen"),
    Place("sessions", "f12", Action.VIEW_COURSES, "mesomix.tui.screens.sessions:SessionsScreen"),
    # Before inventory: an admin, who has only these two, lands on the accounts.
    Place("accounts", "f7", Action.MANAGE_USERS, "mesomix.tui.screens.accounts:AccountsScreen"),
    Place("inventory", "f5", Action.VIEW_STOCK, "mesomix.tui.screens.inventory:InventoryScreen"),
    Place("reports", "f6", Action.VIEW_REPORTS, "mesomix.tui.screens.reports:ReportsScreen"),
)


def _described(bindings: Iterable[object]) -> Iterator[Binding]:
    """The bindings a person can name: those with a description (not the bare key aliases)."""
    return (b for b in bindings if isinstance(b, Binding) and b.description)


STYLES = Path(__file__).resolve().parent / "styles"


def places_for(role: Role) -> list[Place]:
    """The screens a role has work on: the same matrix the services enforce."""
    return [place for place in PLACES if allowed(role, place.action)]


class MesomixApp(App[None]):
    CSS_PATH = "styles/base.tcss"  # what every screen shares; each screen has its own sheet
    TITLE = "mesomix"
    # Each screen carries the class of its terminal's width, for the layouts in its sheet.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (80, "-normal")]
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", show=False),  # in Help: the footer is full
        Binding("f1", "help", "Help", id="app.help"),
        *(
            Binding(  # in Help and the palette; the footer keeps to what fits in 80 columns
                place.key,
                f"go('{place.name}')",
                place.name.capitalize(),
                id=f"go.{place.name}",
                show=False,
            )
            for place in PLACES
        ),
        Binding("ctrl+t", "toggle_theme", "Dark/light", id="app.theme", show=False),
        # Priority: the lock works over a dialog or the palette too (what they show is hidden).
        Binding("ctrl+l", "lock", "Lock", id="app.lock", show=False, priority=True),
        Binding("ctrl+o", "sign_out", "Sign out", id="app.sign_out", show=False),
    ]

    def __init__(
        self,
        settings: Settings,
        program: Future[Services],
        build: Callable[[], Services] | None = None,
        user: SignedIn | None = None,
        idle: timedelta = DEFAULT_IDLE,
    ) -> None:
        # Set before Textual starts: events can arrive while the app is still being built.
        self.settings = settings
        self._program = program
        self._build = build
        self.user = user
        self.idle = IdleLock(idle, settings.clock.now())
        self._locked = False
        self._opened: list[str] = []  # the modes of the person signed in
        self._screens: dict[str, WorkScreen] = {}  # their screens, once built
        self._unfinished = ""  # what Compose holds that is not dispensed or saved
        self._warned: tuple[str, datetime] | None = None  # (action, when) asked once already
        self.start_error: Exception | None = None  # why the program could not be built
        super().__init__()
        self.typing = KeyGate(self)  # keys in order, each where the one before left the cursor

    @property
    def services(self) -> Services:
        """The program. Built before anyone can sign in, so every screen after sign-in has it."""
        return self._program.result(timeout=0)

    def ready_services(self) -> Services:
        """The program, waited for (a worker's call: never on the event loop)."""
        return self._program.result()

    def on_mount(self) -> None:
        self.set_interval(IDLE_CHECK_SECONDS, self.lock_if_idle)
        if not self.is_headless and sys.stdin.isatty():
            self.set_interval(TERMINAL_CHECK_SECONDS, self._exit_if_terminal_gone)
        if self.user is not None:
            self._open_places(self.user)
            return
        self.push_screen(
            SignInScreen(
                self.ready_services, self.settings.user or "", opening=not self._program.done()
            )
        )
        self.call_after_refresh(self._start)

    @work(thread=True, exclusive=True, group="start")
    def _start(self) -> None:
        """After the first frame: build the program, then ask whether the database has users."""
        try:
            if self._build is not None and not self._program.done():
                self._program.set_result(self._build())
            services = self._program.result()
            for place in PLACES:  # so that the first screen after sign-in opens at once
                place.screen_class()
            has_users = services.accounts.has_users()
            site = services.sites.here()
        except Exception as error:  # reported once the terminal is given back
            if not self._program.done():
                self._program.set_exception(error)
            self.call_from_thread(self._could_not_start, error)
            return
        self.call_from_thread(self._program_ready)
        if site is not None:
            self.call_from_thread(self._at_site, f"{site.name} ({site.code})")
        if services.read_only:
            self.call_from_thread(self._read_only, services.read_only)
        if not has_users:
            self.call_from_thread(self.switch_screen, FirstAdminScreen(services))

    def _program_ready(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, SignInScreen):
                screen.program_ready()

    def _could_not_start(self, error: Exception) -> None:
        self.start_error = error
        self.exit(return_code=2)

    def _at_site(self, where: str) -> None:
        """In a chain of clinics, the header says which one this terminal works at."""
        self.sub_title = f"{where} · {self.sub_title}" if self.sub_title else where

    def _read_only(self, reason: str) -> None:
        """Said once, and kept in the header: nothing can be written."""
        said = f"READ-ONLY ({reason})"
        self.sub_title = f"{self.sub_title} · {said}" if self.sub_title else said
        self.notify(
            f"The database is open read-only ({reason}): stock and reports can be seen, "
            "nothing can be written.",
            severity="warning",
            timeout=30,
        )

    def on_signed_in_message(self, message: SignedInMessage) -> None:
        self.user = message.user
        self.idle.touch(self.settings.clock.now())
        self._open_places(message.user)

    def _open_places(self, user: SignedIn) -> None:
        """One mode per screen the person's role has work on; they land on the first."""
        places = places_for(Role(user.role))
        self._read_screen_sheets()
        for place in places:
            self.add_mode(place.name, partial(self._place_screen, place, user))
        self._opened = [place.name for place in places]
        if places:
            self.switch_mode(places[0].name)
        else:
            self.notify("Your role has no screen here: use the command line.", severity="warning")

    def _read_screen_sheets(self) -> None:
        """Every screen's sheet, read as the person signs in, while the sign-in screen is all
        there is to restyle. A sheet a screen brings when it first opens makes Textual re-parse
        every sheet and restyle the whole app then, which was most of a screen's first opening
        (the worklist's); read at start, they would slow the first frame."""
        sheets = [
            s for s in sorted(STYLES.glob("*.tcss")) if not self.stylesheet.has_source(str(s), "")
        ]
        if sheets:
            for sheet in sheets:
                self.stylesheet.read(sheet)
            self.stylesheet.reparse()
            self.stylesheet.update(self)

    def _place_screen(self, place: Place, user: SignedIn) -> WorkScreen:
        """A place's screen: the one built ahead of its first opening (to read what it shows
        before it is shown), or a new one. Textual re-parses every sheet and restyles the whole
        app for a new mode's screen, as if the theme had changed since it was styled (its
        update count starts behind the app's) — a redundant pass, most of a first opening once
        the sheets are read at sign-in: a screen built now is styled by the sheets as they are
        now, as its widgets mount, so it starts level with the app."""
        screen = self._screens.get(place.name)
        if screen is None:
            screen = self._screens[place.name] = place.screen_class()(self.services, user)
            screen._css_update_count = self._css_update_count
        return screen

    async def _read_ahead(self, place: Place, user: SignedIn) -> None:
        """Read what a place's screen shows before showing it, in a worker, for a moment at
        most (AHEAD): the screen then opens with its rows. Read while the screen is built, the
        read waited for the interpreter on every row (a thread that gives it up for each row
        SQLite steps through gets it back only at the next switch interval while the screen
        is being drawn), and the rows came long after the screen. Keys typed meanwhile wait
        at the gate (tui/keys.py) for the screen to be shown. A read that fails or takes
        longer is left to the screen, which reads and says so on its own."""
        screen = self._place_screen(place, user)
        if not screen.READS_AHEAD:
            return
        worker = self.run_worker(screen.read, thread=True, exit_on_error=False, group="ahead")
        with contextlib.suppress(TimeoutError, WorkerCancelled, WorkerFailed):
            screen.ahead = await asyncio.wait_for(worker.wait(), AHEAD.total_seconds())
        if worker.state is not WorkerState.SUCCESS:
            worker.cancel()

    async def action_go(self, name: str) -> None:
        user = self.user
        if user is None or self._locked:
            return
        place = next((p for p in places_for(Role(user.role)) if p.name == name), None)
        if place is None:
            self.notify(f"{user.role} has no work on the {name} screen", severity="warning")
            return
        if name != self.current_mode:
            await self._read_ahead(place, user)
            if self.user is not user or self._locked:
                return  # locked or signed out meanwhile: the screen is not shown
            self.switch_mode(name)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No screen before sign-in; after it, F2–F7, F11, F12 always answer (action_go says when a
        role has no work on a screen) but the palette offers only the role's screens. A locked
        session offers nothing but quitting: no palette, no help over the lock."""
        if self._locked:
            return action == "quit"
        if action in ("go", "lock", "sign_out"):
            return self.user is not None
        return True

    def action_command_palette(self) -> None:
        if not self._locked:  # the header's icon calls this directly, past check_action
            super().action_command_palette()

    def action_lock(self) -> None:
        """Walking away from the terminal: lock now rather than after the idle minutes."""
        if self.user is not None and not self._locked:
            self._lock(self.user)

    def on_unfinished(self, message: Unfinished) -> None:
        self._unfinished = message.what

    def _asked_twice(self, action: str, key: str, verb: str) -> bool:
        """Nothing unfinished, or the same key pressed again within a few seconds: go on.
        Otherwise say what would be dropped, once."""
        now = self.settings.clock.now()
        if not self._unfinished or (
            self._warned is not None
            and self._warned[0] == action
            and now - self._warned[1] <= CONFIRM_WITHIN
        ):
            self._warned = None
            return True
        self._warned = (action, now)
        self.notify(
            f"{self._unfinished} is not dispensed or saved: press {key} again to {verb} and drop it.",
            severity="warning",
            markup=False,
        )
        return False

    async def action_sign_out(self) -> None:
        if self._asked_twice("sign_out", "Ctrl+O", "sign out"):
            await self._sign_out("signed out")

    async def action_quit(self) -> None:
        if self._asked_twice("quit", "Ctrl+Q", "quit"):
            await super().action_quit()

    async def _sign_out(self, reason: str) -> None:
        """Close the person's screens (what was not dispensed or saved is dropped) and open
        the sign-in screen for whoever comes next."""
        user = self.user
        if user is None:
            return
        self.user, self._locked, self._unfinished = None, False, ""
        with contextlib.suppress(UnknownModeError):  # the sign-in of an earlier sign-out
            await self.remove_mode(SIGNED_OUT)
        self.add_mode(SIGNED_OUT, partial(SignInScreen, self.ready_services))
        await self.switch_mode(SIGNED_OUT)
        for name in self._opened:
            await self.remove_mode(name)
        self._opened, self._screens = [], {}
        self._record_sign_out(user.name, reason)
        self.notify(f"{user.display_name} signed out.", markup=False)

    @work(thread=True, group="sign-out")
    def _record_sign_out(self, name: str, reason: str) -> None:
        def unrecorded(problem: str) -> None:  # closed all the same; the trail says why not
            self.call_from_thread(partial(self.notify, severity="warning", markup=False), problem)

        with reported(unrecorded, "The sign-out could not be recorded"):
            self.services.accounts.sign_out(name, reason)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.user, self.screen))

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.theme == DARK else DARK

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every action is reachable from the command palette: the screens, then this screen's keys."""
        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":  # an SVG of patients' data left in a folder
                yield command
        yield SystemCommand(
            "Dark or light", "Switch between the dark and light themes", self.action_toggle_theme
        )
        yield SystemCommand("Help", "Keys, screens and what your role may do", self.action_help)
        if self.user is None:
            return
        yield SystemCommand("Lock", "Lock the screen now (Ctrl+L)", self.action_lock)
        yield SystemCommand(
            "Sign out",
            "Close your screens so someone else can sign in (Ctrl+O)",
            self.action_sign_out,
        )
        for place in places_for(Role(self.user.role)):
            yield SystemCommand(
                f"Go to {place.name}",
                f"Open the {place.name} screen ({place.key.upper()})",
                partial(self.action_go, place.name),
            )
        for binding in _described(screen.BINDINGS):
            if screen.check_action(binding.action.split("(")[0], ()) is not False:
                key = binding.key.split(",")[0].upper()
                yield SystemCommand(
                    binding.tooltip or binding.description,
                    f"{key} on this screen",
                    partial(screen.run_action, binding.action),
                )
        yield from self._elsewhere(screen)

    def _elsewhere(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The other screens' actions by name ("Patients: Record an allergy"): the palette
        opens the screen, then does it. What the role may not do is not offered (NEEDS)."""
        assert self.user is not None
        role = Role(self.user.role)
        for place in places_for(role):
            kind = place.screen_class()
            if isinstance(screen, kind):
                continue
            needs: dict[str, Action] = getattr(kind, "NEEDS", {})
            for binding in _described(getattr(kind, "BINDINGS", [])):
                if may_do(role, needs, binding.action.split("(")[0]):
                    key = binding.key.split(",")[0].upper()
                    yield SystemCommand(
                        f"{place.name.title()}: {binding.tooltip or binding.description}",
                        f"{key} on the {place.name.title()} screen ({place.key.upper()})",
                        partial(self._go_and_do, place.name, binding.action),
                    )

    async def _go_and_do(self, place: str, action: str) -> None:
        await self.switch_mode(place)
        await self.screen.run_action(action)

    async def on_event(self, event: events.Event) -> None:
        """Keys from the terminal go through the gate (tui/keys.py) before Textual routes them."""
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            if isinstance(event, events.Key) and not self._locked:
                self.idle.touch(self.settings.clock.now())
            if not self.typing.admit(event):
                return
        elif isinstance(event, events.MouseDown) and not self._locked:
            self.idle.touch(self.settings.clock.now())
        self.typing.handling += 1
        try:
            await super().on_event(event)
        finally:
            self.typing.handling -= 1

    def _exit_if_terminal_gone(self) -> None:
        """End the app once its terminal has hung up (the window closed, the SSH link cut):
        Textual's input thread then reads end-of-file in a busy loop, and a parent that
        outlives the hangup (make, a shell that ignores SIGHUP) keeps the app spinning a core
        for ever, with the session signed in. What was typed and not dispensed is lost, as it
        is when the power goes; nothing half-written, since every change is one transaction."""
        try:
            termios.tcgetattr(sys.stdin.fileno())
        except (termios.error, OSError, ValueError):
            self.exit(return_code=1, message="the terminal was closed")

    def lock_if_idle(self) -> None:
        """Lock a signed-in session that has been idle too long; the password opens it again.
        (Not named check_idle: that is Textual's own, which repaints after a batch update.)"""
        if self.user is None or self._locked or not self.idle.locked(self.settings.clock.now()):
            return
        self._lock(self.user)

    def _lock(self, user: SignedIn) -> None:
        self._locked = True
        self.push_screen(LockScreen(self.services, user), self._unlocked)

    def _unlocked(self, ok: bool | None) -> None:
        if not ok:  # someone else takes the terminal
            self.call_later(self._sign_out, "signed out at the lock")
            return
        self._locked = False
        self.idle.touch(self.settings.clock.now())


def make_app(
    services: Services, user: SignedIn | None = None, idle: timedelta = DEFAULT_IDLE
) -> MesomixApp:
    """The application on a program already built (tests, benchmarks)."""
    program: Future[Services] = Future()
    program.set_result(services)
    return MesomixApp(services.settings, program, user=user, idle=idle)


def starting_app(settings: Settings, build: Callable[[], Services]) -> MesomixApp:
    """The application as a person starts it: sign-in first, the program built behind it."""
    return MesomixApp(settings, Future(), build, idle=timedelta(minutes=settings.idle_minutes))
