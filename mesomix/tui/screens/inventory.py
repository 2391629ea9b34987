"""Inventory: stock by product and lot with status and expiry, what is low and what expires soon,
and the manager's work on a lot — receive, adjust, waste, count, quarantine, release, recall —
and on its product's reorder level.

Rows are read by the services in workers; each change is a form (inventory_forms.py) whose
submit calls a service (which checks the role, writes the ledger movement and its audit row, or
refuses and writes nothing). The receive form is checked by the service as it is typed, and says
which product the name typed finds (the name on the box, not our code). A recall's trace opens
over the screen (trace.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from mesomix.domain.inventory import status_refusal
from mesomix.domain.permissions import Action
from mesomix.services.accounts import SignedIn
from mesomix.services.reactions import SignalView
from mesomix.services.stock.lots import LotLine, RecallLine
from mesomix.services.stock.reorder import LowStock
from mesomix.tui.failures import reported
from mesomix.tui.screens.base import WorkScreen, columns, matches, same_row, short
from mesomix.tui.screens.inventory_forms import (
    adjust_form,
    count_form,
    import_form,
    link_code_form,
    receive_form,
    reorder_form,
    status_form,
    waste_form,
)
from mesomix.tui.screens.signals import SignalsScreen
from mesomix.tui.screens.trace import TraceScreen
from mesomix.tui.widgets.field import Field

if TYPE_CHECKING:  # a type hint only: the screens never import the wiring at run time
    from mesomix.bootstrap import Services

EXPIRING_DAYS = 30


def expiry_word(expiry: date, today: date) -> tuple[str, str]:
    """How an expiry reads on the shelf list, and its style class: a word, never colour alone."""
    days = (expiry - today).days
    if days < 0:
        return "EXPIRED", "expired"
    if days <= EXPIRING_DAYS:
        return f"{days} d left", "expiring"
    return "", ""


class InventoryScreen(WorkScreen):
    CSS_PATH = "../styles/inventory.tcss"
    # The footer keeps short words and what fits in 80 columns; Help and the palette list every
    # key with its full words (the tooltip).
    BINDINGS = [
        Binding("ctrl+f", "find", "Find", id="inventory.find", show=False,
                tooltip="Find a product or lot number"),
        Binding("r", "receive", "Receive", id="inventory.receive", tooltip="Receive a delivery"),
        Binding("a", "adjust", "Adjust", id="inventory.adjust", tooltip="Adjust the lot"),
        Binding("w", "waste", "Waste", id="inventory.waste", tooltip="Book waste from the lot"),
        Binding("c", "count", "Count", id="inventory.count", tooltip="Count the lot"),
        Binding("q", "set_status('quarantined')", "Quarantine", id="inventory.quarantine",
                show=False, tooltip="Quarantine the lot"),
        Binding("l", "set_status('available')", "Release", id="inventory.release", show=False,
                tooltip="Release the lot from quarantine"),
        Binding("x", "set_status('recalled')", "Recall", id="inventory.recall",
                tooltip="Recall the lot"),
        Binding("t", "trace", "Trace", id="inventory.trace", show=False,
                tooltip="Trace the lot to batches and patients"),
        Binding("o", "reorder", "Reorder", id="inventory.reorder",
                tooltip="Reorder level of the product"),
        Binding("i", "import_file", "Import", id="inventory.import", show=False,
                tooltip="Import a CSV file"),
        Binding("k", "link_code", "Link a code", id="inventory.link_code", show=False,
                tooltip="Link a box's or vial's barcode (GTIN) to its product"),
        Binding("g", "signals", "Signals", id="inventory.signals", show=False,
                tooltip="Lots whose reactions meet a vigilance rule, and whom to call"),
    ]  # fmt: skip # a table of keys: one binding to a line or two, as it reads
    NEEDS = {
        "receive": Action.RECEIVE,
        "import_file": Action.RECEIVE,
        "adjust": Action.ADJUST_STOCK,
        "waste": Action.ADJUST_STOCK,
        "count": Action.ADJUST_STOCK,
        "set_status": Action.SET_LOT_STATUS,
        "reorder": Action.SET_REORDER,
        "trace": Action.VIEW_REPORTS,  # the recall report: who received the lot
        "signals": Action.VIEW_VIGILANCE,
        "link_code": Action.EDIT_CATALOGUE,
    }

    @dataclass
    class Matched(Message):
        """The products a find's text means by name, strength and size (the one matcher)."""

        typed: str
        codes: frozenset[str] | None

    @dataclass
    class Loaded(Message):
        lots: list[LotLine]
        low: list[LowStock]

    @dataclass
    class Signalled(Message):
        signals: list[SignalView]
        asked: bool  # G pressed: show them even when there are none

    @dataclass
    class Traced(Message):
        lot: LotLine
        lines: list[RecallLine]

    def __init__(self, services: Services, user: SignedIn) -> None:
        super().__init__(services, user)
        self._lots: dict[int, LotLine] = {}
        self._low: dict[str, LowStock] = {}
        self._matched: tuple[str, frozenset[str] | None] = ("", None)  # (typed, product codes)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Field(
            placeholder="find a lot: product or lot number (Ctrl+F)", id="lot-find", compact=True
        )
        yield DataTable(id="lot-list", cursor_type="row", zebra_stripes=True)
        yield Static("", id="lot-detail")
        yield Label("Low stock (at or below the reorder level)", classes="section")
        yield DataTable(id="low-list", cursor_type="row")
        yield Static("", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "mesomix — Inventory"
        columns(
            self.query_one("#lot-list", DataTable),
            # Everything fits 80 columns: the highlighted lot's whole product name is in the line
            # under the table (1% and 2%, 10 and 50 mL differ at its end); an expired lot says
            # EXPIRED where its status is read.
            ("Product", 20),
            ("Lot", 10),
            ("On hand", 8),
            ("Sealed", 6),
            ("Status", 12),
            ("Expiry", 10),
        )
        low = self.query_one("#low-list", DataTable)
        columns(low, ("Product", 40), ("Sealed", 8), ("Level", 6), ("Order", 10))
        self.query_one("#lot-list", DataTable).focus()  # letters are actions here, not typing
        self.reload()

    @on(Input.Submitted, "#lot-find")
    def _found(self) -> None:
        self.query_one("#lot-list", DataTable).focus()

    @work(thread=True, exclusive=True, group="inventory")
    def reload(self) -> None:
        with self.reporting(bug="could not load the stock"):
            lots = self.services.stock.lots(self.user.name)
            low = self.services.inventory.low_stock(self.user.name)
            self.post_message(self.Loaded(lots, low))

    def on_inventory_screen_loaded(self, message: Loaded) -> None:
        self._lots = {lot.lot_id: lot for lot in message.lots}
        self._low = {line.product_code: line for line in message.low}
        self._fill()
        if self.check_action("signals", ()):
            self._signals(asked=False)  # said on the status line when a lot has one
        low = self.query_one("#low-list", DataTable)
        low.clear()
        for line in message.low:
            low.add_row(
                Text(short(line.product_name, 40)),
                f"{line.containers}",
                f"{line.reorder_level}",
                Text(f"order {line.suggested_order}", style="bold"),
                key=line.product_code,
            )

    @on(Input.Changed, "#lot-find")
    def _find_changed(self, event: Input.Changed) -> None:
        """Words are found at once; a strength or size typed ("lidocaine 2%", "Xylocaine 2%
        10 mL") is weighed by the one matcher in a worker, and the list narrowed when it says."""
        self._match(event.value)
        self._fill()

    @work(thread=True, exclusive=True, group="find")
    def _match(self, typed: str) -> None:
        with reported(lambda _words: None):  # the words found stay listed
            self.post_message(
                self.Matched(typed, self.services.catalog.matcher().product_codes(typed))
            )

    def on_inventory_screen_matched(self, message: Matched) -> None:
        if message.typed == self.query_one("#lot-find", Input).value:
            self._matched = (message.typed, message.codes)
            self._fill()

    def _shown(self, typed: str, lot: LotLine) -> bool:
        """A lot by its number, or by its product as the matcher reads a strength or size typed
        (once it has answered for this text), else by the words typed."""
        said, codes = self._matched
        if said == typed and codes is not None:
            return lot.product_code in codes or matches(typed, lot.lot_number)
        return matches(typed, lot.product_name, lot.lot_number, lot.product_code, *lot.actives)

    def _fill(self) -> None:
        typed = self.query_one("#lot-find", Input).value
        today = self.services.clock.today()
        table = self.query_one("#lot-list", DataTable)
        with same_row(table):
            table.clear()
            for lot in self._lots.values():
                if not self._shown(typed, lot):
                    continue
                word, style = expiry_word(lot.expiry, today)
                if lot.status == "available" and word:  # usable by status, not by date
                    status = Text(word, style=_STYLES.get(style, ""))
                else:
                    status = Text(lot.status, style=_STYLES.get(lot.status, ""))
                table.add_row(
                    Text(short(lot.product_name, 20)),
                    Text(lot.lot_number),
                    f"{lot.on_hand_ul / 1000:g} mL",
                    str(lot.sealed_containers),
                    status,
                    Text(lot.expiry.isoformat(), style=_STYLES.get(style, "")),
                    key=str(lot.lot_id),
                )

        if typed.strip() and table.row_count == 0 and self._lots:
            self.say(f"No lot matches '{typed.strip()}'.", error=True)

    @on(DataTable.RowHighlighted, "#lot-list")
    def _detail(self, event: DataTable.RowHighlighted) -> None:
        """The highlighted lot in full: the product's whole name and code, and its open vial."""
        key = event.row_key.value
        lot = self._lots.get(int(key)) if key is not None else None
        detail = self.query_one("#lot-detail", Static)
        if lot is None:
            detail.update("")
            return
        opened = f" · open vial {lot.open_ul / 1000:g} mL" if lot.open_ul else ""
        detail.update(
            Text(f"{lot.product_name} · {lot.product_code} · lot {lot.lot_number}{opened}")
        )

    def action_find(self) -> None:
        self.query_one("#lot-find", Input).focus()

    def _lot_or_say(self, from_low: bool = False) -> LotLine | None:
        """The lot highlighted in the stock list; none while the low-stock list has the focus
        (its rows are products, and the highlight above is not what the person looks at)."""
        if not from_low and self.query_one("#low-list", DataTable).has_focus:
            self.say(
                "Choose a lot in the stock list (the low-stock list holds products).", error=True
            )
            return None
        table = self.query_one("#lot-list", DataTable)
        if table.row_count == 0:
            self.say("No lot to work on.", error=True)
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return self._lots.get(int(key)) if key is not None else None

    def _product_or_say(self) -> tuple[str, str] | None:
        """(code, name) of the product in the low-stock list when it has the focus, else of the
        selected lot."""
        low = self.query_one("#low-list", DataTable)
        if low.has_focus and low.row_count:
            key = low.coordinate_to_cell_key(Coordinate(low.cursor_row, 0)).row_key.value
            line = self._low.get(key) if key is not None else None
            if line is not None:
                return line.product_code, line.product_name
        lot = self._lot_or_say(from_low=True)
        return (lot.product_code, lot.product_name) if lot is not None else None

    # --- the manager's work (the forms: inventory_forms.py) -------------------------------

    def action_import_file(self) -> None:
        self.ask(import_form(self.services, self.user.name), self.reload)

    def action_receive(self) -> None:
        self.ask(receive_form(self.services, self.user.name), self.reload)

    def action_link_code(self) -> None:
        self.ask(link_code_form(self.services, self.user.name), self.reload)

    def action_reorder(self) -> None:
        """The reorder level of the selected product (in the low-stock list if it has the
        focus, else the selected lot's): at or below it, the product shows as low."""
        target = self._product_or_say()
        if target is None:
            return
        code, name = target
        known = next((lot for lot in self._lots.values() if lot.product_code == code), None)
        level = known.reorder_level if known is not None else None
        quantity = known.reorder_quantity if known is not None else None
        if level is None and code in self._low:
            level = self._low[code].reorder_level
        form = reorder_form(self.services, self.user.name, code, name, level, quantity)
        self.ask(form, self.reload)

    def action_adjust(self) -> None:
        if (lot := self._lot_or_say()) is not None:
            self.ask(adjust_form(self.services, self.user.name, lot), self.reload)

    def action_waste(self) -> None:
        if (lot := self._lot_or_say()) is not None:
            self.ask(waste_form(self.services, self.user.name, lot), self.reload)

    def action_count(self) -> None:
        if (lot := self._lot_or_say()) is not None:
            self.ask(count_form(self.services, self.user.name, lot), self.reload)

    def action_set_status(self, status: str) -> None:
        lot = self._lot_or_say()
        if lot is None:
            return
        refused = status_refusal(lot.lot_number, lot.status, status)
        if refused:  # said at once, before a reason is typed for nothing
            self.say(refused[0].upper() + refused[1:] + ".", error=True)
            return

        def then() -> None:
            self.reload()
            if status == "recalled":
                self._trace(lot)

        self.ask(status_form(self.services, self.user.name, lot, status), then)

    def action_signals(self) -> None:
        self._signals(asked=True)

    @work(thread=True, exclusive=True, group="signals")
    def _signals(self, asked: bool) -> None:
        with self.reporting("could not read the lot signals"):
            self.post_message(
                self.Signalled(self.services.reactions.signals(self.user.name), asked)
            )

    def on_inventory_screen_signalled(self, message: Signalled) -> None:
        if not message.asked:  # on every reading of the stock: said, not opened
            if message.signals:
                count = len(message.signals)
                self.say(
                    f"{count} lot signal{'s' if count != 1 else ''}: reactions point at a lot. "
                    "G shows what and whom to call.",
                    error=True,
                )
            return

        def quarantine(lot_id: int | None) -> None:
            lot = self._lots.get(lot_id) if lot_id is not None else None
            if lot is not None:
                self.ask(
                    status_form(self.services, self.user.name, lot, "quarantined"), self.reload
                )
            elif lot_id is not None:
                self.say(f"Lot {lot_id} has no stock left to quarantine.", error=True)

        self.app.push_screen(SignalsScreen(message.signals), quarantine)

    def action_trace(self) -> None:
        lot = self._lot_or_say()
        if lot is not None:
            self._trace(lot)

    @work(thread=True, exclusive=True, group="trace")
    def _trace(self, lot: LotLine) -> None:
        with self.reporting():
            self.post_message(
                self.Traced(lot, self.services.inventory.recall_trace(self.user.name, lot.lot_id))
            )

    def on_inventory_screen_traced(self, message: Traced) -> None:
        self.app.push_screen(TraceScreen(message.lot, message.lines, self.services.clock.zone))


_STYLES = {
    "expired": "bold red reverse",
    "expiring": "bold yellow",
    "quarantined": "bold yellow reverse",
    "recalled": "bold red reverse",
}
