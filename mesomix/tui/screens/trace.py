"""A recall's trace: every batch and patient that received a lot, with the reactions after each
batch, opened from Inventory (T, and after a recall)."""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from mesomix.services.stock.lots import LotLine, RecallLine


class TraceScreen(ModalScreen[None]):
    """Every batch and patient that received a lot."""

    CSS_PATH = "../styles/trace.tcss"

    BINDINGS = [Binding("escape,enter", "dismiss", "Close")]

    def __init__(self, lot: LotLine, lines: list[RecallLine], zone: tzinfo) -> None:
        super().__init__()
        self._lot, self._lines, self._zone = lot, lines, zone

    def compose(self) -> ComposeResult:
        with Vertical(classes="form-box"):
            yield Label(
                Text(
                    f"Lot {self._lot.lot_number} of {self._lot.product_name}: {len(self._lines)} batch(es)"
                ),
                classes="form-title",
            )
            yield DataTable(id="trace-list", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one("#trace-list", DataTable)
        # What was drawn before the names, whose length has no bound: a long name scrolls
        # sideways and never pushes the amount out of a narrow dialog.
        table.add_columns("Batch", "Made", "Drawn", "Reactions", "Patient", "By")
        for line in self._lines:
            table.add_row(
                str(line.batch_id),
                f"{line.made_at.astimezone(self._zone):%Y-%m-%d %H:%M}",
                f"{line.volume_ul / 1000:g} mL",
                Text(", ".join(line.reactions), style="bold red") if line.reactions else "",
                Text(f"{line.patient_name} ({line.patient_ref})"),
                Text(line.made_by),
            )
        table.focus()
