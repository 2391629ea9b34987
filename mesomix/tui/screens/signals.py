"""Lot signals: the lots whose reactions meet a vigilance rule, each with what it counted, the
quarantine it proposes and every patient who received the lot, to call. Opened from Inventory
(G); Q there quarantines the chosen signal's lot through the status form."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from mesomix.services.reactions import SignalView


class SignalsScreen(ModalScreen[int | None]):
    """Every signal; dismissed with the lot to quarantine (Q), or None."""

    CSS_PATH = "../styles/signals.tcss"
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "quarantine", "Quarantine the lot"),
    ]

    def __init__(self, signals: list[SignalView]) -> None:
        super().__init__()
        self._signals = signals

    def compose(self) -> ComposeResult:
        with Vertical(classes="form-box"):
            count = len(self._signals)
            yield Label(
                Text(f"{count} lot signal{'s' if count != 1 else ''} (Q quarantines, Esc closes)"),
                classes="form-title",
            )
            yield DataTable(id="signal-list", cursor_type="row")
            with VerticalScroll(id="signal-detail-box"):
                yield Static("", id="signal-detail")

    def on_mount(self) -> None:
        table = self.query_one("#signal-list", DataTable)
        table.add_columns("Lot", "Product", "Reactions", "Proposed")
        for row, view in enumerate(self._signals):
            table.add_row(
                Text(view.lot_number),
                Text(view.signal.product),
                str(len(view.signal.reactions)),
                Text(view.proposal),
                key=str(row),
            )
        table.focus()
        self._show(0)

    @on(DataTable.RowHighlighted, "#signal-list")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show(int(str(event.row_key.value)))

    def _show(self, row: int) -> None:
        detail = self.query_one("#signal-detail", Static)
        if not 0 <= row < len(self._signals):
            detail.update(Text("No lot meets a vigilance rule."))
            return
        view = self._signals[row]
        text = Text(f"SIGNAL {view.signal.rule}: ", style="bold red")
        text.append(view.signal.said, style="")
        text.append(f"\nProposed: {view.proposal}.\nPatients to call:", style="bold")
        for patient in view.patients:
            text.append(f"\n  {patient}")
        detail.update(text)

    def action_quarantine(self) -> None:
        row = self.query_one("#signal-list", DataTable).cursor_row
        if 0 <= row < len(self._signals) and self._signals[row].lot_status == "available":
            self.dismiss(self._signals[row].signal.lot_id)
