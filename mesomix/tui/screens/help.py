"""Help: the keys of the screen you came from, the screens, and what your role may do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from mesomix.domain.permissions import Role, matrix

if TYPE_CHECKING:
    from mesomix.services.accounts import SignedIn

# One thing a line, never broken by hand: the dialog wraps each line to its own width.
GENERAL = "\n".join(
    (
        "· F1 help · F2 Compose · F3 Patients · F4 Formulas · F5 Inventory · F6 Reports "
        "· F7 Accounts (as your role allows)",
        "· Ctrl+P the command palette: every action by name · Ctrl+T dark or light · Ctrl+Q quit",
        "· Tab and Shift+Tab move between fields; Enter goes on to the next field and submits "
        "from the last one or a button; Space or the arrows open a list; Escape closes a dialog.",
        "· In the override dialog Space signs off a finding or leaves it.",
        "· Ctrl+L locks the screen now; Ctrl+O signs out so someone else can sign in (also from "
        "the lock). The app locks when idle.",
        "· Findings read BLOCK, WARNING or NOTE in words as well as colours.",
    )
)


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "../styles/help.tcss"
    BINDINGS = [Binding("escape,f1,enter", "dismiss", "Close")]

    def __init__(self, user: SignedIn | None, came_from: Screen[object]) -> None:
        super().__init__()
        self._user = user
        self._came_from = came_from

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="form-box", id="help-box"):
            yield Label("mesomix — help", classes="form-title")
            yield Static(Text(GENERAL))
            keys = [
                f"{b.key.split(',')[0]:<10} {b.tooltip or b.description}"
                for b in self._came_from.BINDINGS
                if isinstance(b, Binding)
                and b.description
                and self._came_from.check_action(b.action.split("(")[0], ()) is not False
            ]
            if keys:
                yield Label("On this screen", classes="section")
                yield Static(Text("\n".join(keys)), id="help-keys")
            if self._user is not None:
                role = Role(self._user.role)
                may = [action.value for action, roles in matrix().items() if role in roles]
                yield Label(f"{self._user.display_name} ({role.value}) may", classes="section")
                yield Static(Text("\n".join(f"· {what}" for what in may)), id="help-may")
