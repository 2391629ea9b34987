"""The acknowledgement dialog: before a mixture with warnings is dispensed, the person dispensing
reads each one, whole, and says so — one key per warning.

The dialog only gathers which warnings were read; the dispense service checks them against its
own re-check (a warning that changed since is asked again) and keeps each acknowledgement with
the batch, or refuses and writes nothing.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from mesomix.domain.findings import Finding


class ReadIt(Static, can_focus=True):
    """One warning, shown whole (a warning cut to a line cannot be read), and whether the person
    dispensing has read it — in words, not by colour alone. Enter marks it read and goes on to
    the next; Space or a click changes it."""

    BINDINGS = [
        Binding("enter", "read", "Read, next", id="acknowledge.read"),
        Binding("space", "toggle('read')", "Read / not read", id="acknowledge.toggle"),
    ]

    read: reactive[bool] = reactive(False)  # each warning is read by choice, never by default

    def __init__(self, finding: Finding, *, id: str) -> None:
        super().__init__(id=id, classes="read-it")
        self.finding = finding

    def render(self) -> Table:
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=10, no_wrap=True)
        grid.add_column(ratio=1)
        mark = "[x] read" if self.read else "[ ] unread"
        grid.add_row(Text(mark, style="bold"), Text(f"WARNING: {self.finding.message}"))
        return grid

    def watch_read(self, read: bool) -> None:
        self.set_class(read, "-read")
        if self.is_mounted and isinstance(self.screen, AcknowledgeScreen):
            self.screen.counted()

    def action_read(self) -> None:
        self.read = True
        if isinstance(self.screen, AcknowledgeScreen):
            self.screen.go_on(self)

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.read = not self.read


class AcknowledgeScreen(ModalScreen[list[str] | None]):
    """Every WARNING of the mixture, each to be marked read; then the mixture is dispensed with
    their keys. Escape goes back to the mixture, dispensing nothing."""

    CSS_PATH = "../styles/acknowledge.tcss"

    BINDINGS = [Binding("escape", "cancel", "Back to the mixture")]

    def __init__(self, warnings: list[Finding]) -> None:
        super().__init__()
        self._warnings = warnings

    def compose(self) -> ComposeResult:
        count = len(self._warnings)
        with Vertical(id="acknowledge-box"):
            yield Label(
                f"{count} WARNING{'s' if count > 1 else ''} — read before dispensing",
                id="acknowledge-title",
            )
            yield Static(
                "Enter marks the warning in view read and goes on; Space changes it; "
                "Escape goes back to the mixture.",
                id="acknowledge-how",
            )
            warnings = VerticalScroll(id="acknowledge-warnings")
            warnings.can_focus = False  # Tab goes to the warnings themselves, not their frame
            with warnings:
                for index, finding in enumerate(self._warnings):
                    yield ReadIt(finding, id=f"warning-{index}")
            yield Static("", id="acknowledge-problem")
            with Horizontal(id="acknowledge-buttons"):
                yield Button(
                    "I have read these: dispense",
                    id="acknowledge-dispense",
                    variant="warning",
                    disabled=True,
                    compact=True,
                )
                yield Button("Back", id="acknowledge-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#warning-0", ReadIt).focus()

    def _unread(self) -> list[ReadIt]:
        return [item for item in self.query(ReadIt) if not item.read]

    def counted(self) -> None:
        """A warning was marked read or not: the button and the count follow."""
        left = len(self._unread())
        self.query_one("#acknowledge-dispense", Button).disabled = bool(left)
        self.query_one("#acknowledge-problem", Static).update(
            f"{left} still unread" if left else ""
        )

    def go_on(self, item: ReadIt) -> None:
        """After a warning is read: the next unread one, or the button once all are read."""
        items = list(self.query(ReadIt))
        after = items[items.index(item) + 1 :] + items[: items.index(item)]
        unread = [other for other in after if not other.read]
        # Focus moves at once (not after the next refresh), so that the next key of a burst
        # lands on the warning now in view, never again on the one just read.
        if unread:
            self.set_focus(unread[0])
            return
        button = self.query_one("#acknowledge-dispense", Button)
        button.disabled = False
        self.set_focus(button)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#acknowledge-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#acknowledge-dispense")
    def _read_all(self) -> None:
        unread = self._unread()
        if unread:  # the button is disabled then; a click that slips through is told why
            self.query_one("#acknowledge-problem", Static).update(
                Text(f"{len(unread)} still unread: Enter on each to mark it read")
            )
            unread[0].focus()
            return
        self.dismiss([finding.key for finding in self._warnings])
