"""Inventory: stock by product and lot with status and expiry, what is low and what expires soon,
and the manager's work on a lot — receive, adjust, waste, count, quarantine, release, recall —
and on its product's reorder level.

Rows are read by the services in workers; each change is a form whose submit calls a service
(which checks the role, writes the ledger movement and its audit row, or refuses and writes
nothing). The receive form is checked by the service as it is typed, and says which product the
name typed finds (the name on the box, not our code).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from mesomix.bootstrap import Services
from mesomix.domain.inventory import ADJUSTMENT_REASONS, COUNT_REASONS, Shelved, status_refusal
from mesomix.domain.matcher import product_lines, rows_of
from mesomix.domain.permissions import Action
from mesomix.services.accounts import SignedIn
from mesomix.services.errors import Refusals, ServiceError
from mesomix.services.imports import ImportRefused, read_import_file
from mesomix.services.stock.lots import LotLine, RecallLine
from mesomix.services.stock.reorder import LowStock
from mesomix.tui.failures import reported
from mesomix.tui.screens.base import WorkScreen, columns, matches, same_row, short
from mesomix.tui.widgets.form import Form, FormField, Progress, Values

EXPIRING_DAYS = 30
_REASONS = [(label, code) for code, label in ADJUSTMENT_REASONS.items()]
# A count that matches the books needs no reason; one that differs is refused without one.
_COUNT_REASONS = [
    ("only if the count differs", ""),
    *((words, code) for code, (words, _) in COUNT_REASONS.items()),
]


def _counted(volume_ul: int, lot: LotLine) -> str:
    """A difference as a count reads it: whole containers, with their volume ("2 ampoules
    (4 mL)"), or a volume alone."""
    volume = f"{volume_ul / 1000:g} mL"
    containers, rest = divmod(volume_ul, lot.container_volume_ul or volume_ul + 1)
    if not containers or rest:
        return volume
    word = Shelved(lot.product_name, lot.container_volume_ul).container_word or "container"
    return f"{containers} {word}{'s' if containers > 1 else ''} ({volume})"


def expiry_word(expiry: date, today: date) -> tuple[str, str]:
    """How an expiry reads on the shelf list, and its style class: a word, never colour alone."""
    days = (expiry - today).days
    if days < 0:
        return "EXPIRED", "expired"
    if days <= EXPIRING_DAYS:
        return f"{days} d left", "expiring"
    return "", ""


class InventoryScreen(WorkScreen):
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
    ]  # fmt: skip
    NEEDS = {
        "receive": Action.RECEIVE,
        "import_file": Action.RECEIVE,
        "adjust": Action.ADJUST_STOCK,
        "waste": Action.ADJUST_STOCK,
        "count": Action.ADJUST_STOCK,
        "set_status": Action.SET_LOT_STATUS,
        "reorder": Action.SET_REORDER,
        "trace": Action.VIEW_REPORTS,  # the recall report: who received the lot
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
        yield Input(
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
            ("Product", 20), ("Lot", 10), ("On hand", 8), ("Sealed", 6), ("Status", 12), ("Expiry", 10),
        )  # fmt: skip
        columns(
            self.query_one("#low-list", DataTable),
            ("Product", 40), ("Sealed", 8), ("Level", 6), ("Order", 10),
        )  # fmt: skip
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
                )  # fmt: skip

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
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return self._lots.get(int(key)) if key is not None else None

    def _product_or_say(self) -> tuple[str, str] | None:
        """(code, name) of the product in the low-stock list when it has the focus, else of the
        selected lot."""
        low = self.query_one("#low-list", DataTable)
        if low.has_focus and low.row_count:
            key = low.coordinate_to_cell_key((low.cursor_row, 0)).row_key.value
            line = self._low.get(key) if key is not None else None
            if line is not None:
                return line.product_code, line.product_name
        lot = self._lot_or_say(from_low=True)
        return (lot.product_code, lot.product_name) if lot is not None else None

    # --- the manager's work ---------------------------------------------------------------

    def action_import_file(self) -> None:
        """A supplier's delivery note or a product list as CSV: every row checked first, then all
        written in one transaction — or nothing (data/import/ has samples and the columns)."""
        imports, user = self.services.imports, self.user.name

        def run(values: Values, progress: Progress | None) -> str:
            text = read_import_file(Path(values["file"].strip()).expanduser())
            job = imports.products if values["kind"] == "products" else imports.stock
            try:
                result = job(user, text, progress)
            except ImportRefused as refused:  # one problem a line, each shown on its own
                raise Refusals(str(refused).splitlines()) from None
            return f"Imported {values['file'].strip()}: {result}."

        self.ask(
            Form(
                "Import a CSV file",
                [
                    FormField(
                        "kind",
                        "What it holds",
                        choices=(("stock received", "stock"), ("new products", "products")),
                    ),
                    FormField("file", "File", "path of a UTF-8 CSV file"),
                ],
                lambda values: run(values, None),
                go="Import",
                problems_shown=8,
                steps=run,
            ),
            self.reload,
        )

    def action_receive(self) -> None:
        """A delivery, by the name on the box or our code: the form says as it is typed which
        product the name finds, and names the candidates when it fits several (none is picked)."""
        stock, user = self.services.stock, self.user.name
        fields = ("product", "lot_number", "expiry", "containers", "supplier", "unit_cost")

        def cells(values: Values) -> dict[str, str]:
            return {key: values[key] for key in fields}

        def submit(values: Values) -> str:
            done = stock.receive_typed(user, cells(values))
            said = f"Received lot {done.lot_number}: {done.containers} × "
            name, code = done.product_name, done.product_code
            # the status line wraps to its three rows at 80 columns (78 inside its padding): the
            # lot, the whole name and the code; a month on the box, and the day it is read as,
            # beneath, or after them when the name needs the row — only then is the name cut
            if "→" not in done.expiry_read:
                return product_lines(said, name, code, 78, 3)
            for tail in (f"\nExpiry {done.expiry_read}.", f"; expiry {done.expiry_read}."):
                whole = f"{said}{name} · {code}{tail}"
                if rows_of(whole, 78) <= 3:
                    return whole
            return product_lines(said, name, code, 78, 3, tail)

        def check(values: Values) -> list[str]:
            problems = stock.check_receipt(cells(values))[1]
            return [line for problem in problems for line in problem.splitlines()]

        def hint(values: Values) -> str:
            if not values["product"].strip():
                return ""
            choice = stock.which_product(values["product"])
            # the whole name and code (a preservative or an active is at its end), wrapped to
            # the form's width (72 columns, 70 beside a scrollbar), four rows at most
            if not choice.code:
                return ""
            return product_lines("Receives into: ", choice.name, choice.code, 70, 4)

        self.ask(
            Form(
                "Receive a delivery",
                [
                    FormField("product", "Product", "name on the box, or our code"),
                    FormField("lot_number", "Lot number"),
                    FormField("expiry", "Expiry", "YYYY-MM-DD or YYYY-MM"),
                    FormField("containers", "Containers", "how many sealed"),
                    FormField("supplier", "Supplier"),
                    FormField("unit_cost", "Unit cost", "one container, e.g. 12.50"),
                ],
                submit,
                check=check,
                go="Receive",
                problems_shown=6,
                hint=hint,
            ),
            self.reload,
        )

    def action_reorder(self) -> None:
        """The reorder level of the selected product (in the low-stock list if it has the
        focus, else the selected lot's): at or below it, the product shows as low."""
        target = self._product_or_say()
        if target is None:
            return
        code, name = target
        inventory, user = self.services.inventory, self.user.name
        known = next((lot for lot in self._lots.values() if lot.product_code == code), None)
        level = known.reorder_level if known is not None else None
        quantity = known.reorder_quantity if known is not None else None
        if level is None and code in self._low:
            level = self._low[code].reorder_level
        now = (
            f"now: low at {level} or fewer, order {quantity}"
            if level is not None and quantity is not None
            else "no reorder level yet"
        )

        def submit(values: Values) -> str:
            inventory.set_reorder_typed(user, code, values["level"], values["quantity"])
            return (
                f"{short(name, 40)}: low at {values['level'].strip()} or fewer sealed, "
                f"order {values['quantity'].strip()}."
            )

        self.ask(
            Form(
                "Reorder level",
                [
                    FormField("level", "Level", "low at this many sealed or fewer",
                              value="" if level is None else str(level)),
                    FormField("quantity", "Order", "containers to order",
                              value="" if quantity is None else str(quantity)),
                ],
                submit,
                intro=f"{name} ({code}): {now}.",
            ),
            self.reload,
        )  # fmt: skip

    def action_adjust(self) -> None:
        lot = self._lot_or_say()
        if lot is None:
            return
        inventory, user = self.services.inventory, self.user.name

        def submit(values: Values) -> str:
            inventory.adjust_typed(
                user, lot.lot_id, values["volume"], values["direction"], values["reason"],
                values["note"],
            )  # fmt: skip
            return f"Lot {lot.lot_number} adjusted."

        self.ask(
            Form(
                f"Adjust lot {lot.lot_number}",
                [
                    FormField("direction", "Direction", choices=[("take off", "remove"), ("put on", "add")]),
                    FormField("volume", "Quantity", _quantity_example(lot)),
                    FormField("reason", "Reason", choices=_REASONS),
                    FormField("note", "Note", "what happened"),
                ],
                submit,
                intro=f"{lot.product_name}: {lot.on_hand_ul / 1000:g} mL on hand",
            ),
            self.reload,
        )  # fmt: skip

    def action_waste(self) -> None:
        lot = self._lot_or_say()
        if lot is None:
            return
        inventory, user = self.services.inventory, self.user.name

        def submit(values: Values) -> str:
            inventory.waste_typed(
                user, lot.lot_id, values["volume"], values["reason"], values["note"]
            )
            return f"Waste booked on lot {lot.lot_number}."

        self.ask(
            Form(
                f"Waste from lot {lot.lot_number}",
                [
                    FormField("volume", "Quantity", _quantity_example(lot)),
                    FormField("reason", "Reason", choices=_REASONS),
                    FormField("note", "Note"),
                ],
                submit,
                intro=f"{lot.product_name}: {lot.on_hand_ul / 1000:g} mL on hand",
            ),
            self.reload,
        )  # fmt: skip

    def action_count(self) -> None:
        lot = self._lot_or_say()
        if lot is None:
            return
        inventory, user = self.services.inventory, self.user.name

        def sealed(values: Values) -> int:
            typed = values["sealed"].strip()
            if not typed.isascii() or not typed.isdigit():
                raise ServiceError(f"sealed: '{typed}' is not a whole number of containers")
            return int(typed)

        def submit(values: Values) -> str:
            counted = inventory.count_lot(
                user, lot.lot_id, sealed(values), values["open"], values["reason"], values["note"]
            )
            return f"Count of lot {lot.lot_number}: {counted.said()}."

        def hint(values: Values) -> str:
            """How the count typed so far differs from the books: the reason is asked for that."""
            if not values["sealed"].strip():
                return ""
            try:
                difference = inventory.count_difference(
                    user, lot.lot_id, sealed(values), values["open"]
                )
            except ServiceError:
                return ""  # said when the count is booked, in the service's words
            if not difference:
                return "Matches the books: no reason needed."
            way = "more" if difference > 0 else "less"
            return f"{_counted(abs(difference), lot)} {way} than the books: choose a reason."

        half = f"{lot.container_volume_ul / 2000:g}"  # an example the container can hold
        left = (
            "0: single-dose ones are not kept open"
            if lot.single_dose
            else f"left in it: e.g. {half} mL, or 0 (blank: as booked)"
        )
        self.ask(
            Form(
                f"Count lot {lot.lot_number}",
                [
                    FormField("sealed", "Sealed", "containers on the shelf"),
                    FormField("open", "Open vial", left),
                    FormField("reason", "Reason", choices=_COUNT_REASONS),
                    FormField("note", "Note", "your own words (needed for other)"),
                ],
                submit,
                hint=hint,
                go="Book count",
                intro=f"{lot.product_name}: books say {lot.sealed_containers} sealed, {lot.booked_open_ul / 1000:g} mL open",
            ),
            self.reload,
        )  # fmt: skip

    def action_set_status(self, status: str) -> None:
        lot = self._lot_or_say()
        if lot is None:
            return
        refused = status_refusal(lot.lot_number, lot.status, status)
        if refused:  # said at once, before a reason is typed for nothing
            self.say(refused[0].upper() + refused[1:] + ".", error=True)
            return
        inventory, user = self.services.inventory, self.user.name
        verb = {"quarantined": "Quarantine", "available": "Release", "recalled": "Recall"}[status]

        def submit(values: Values) -> str:
            inventory.set_status(user, lot.lot_id, status, values["reason"])
            return f"Lot {lot.lot_number}: {status}."

        intro = f"{lot.product_name}, lot {lot.lot_number}, now {lot.status}."
        if status == "recalled":
            intro += " A recall cannot be undone; T shows every batch and patient that received it."

        def then() -> None:
            self.reload()
            if status == "recalled":
                self._trace(lot)

        self.ask(
            Form(f"{verb} lot {lot.lot_number}", [FormField("reason", "Reason", "why")], submit, go=verb, intro=intro),
            then,
        )  # fmt: skip

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


class TraceScreen(ModalScreen[None]):
    """Every batch and patient that received a lot."""

    BINDINGS = [Binding("escape,enter", "dismiss", "Close")]

    def __init__(self, lot: LotLine, lines: list[RecallLine], zone: object) -> None:
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
        table.add_columns("Batch", "Made", "Drawn", "Patient", "By")
        for line in self._lines:
            table.add_row(
                str(line.batch_id),
                f"{line.made_at.astimezone(self._zone):%Y-%m-%d %H:%M}",  # type: ignore[arg-type]
                f"{line.volume_ul / 1000:g} mL",
                Text(f"{line.patient_name} ({line.patient_ref})"),
                Text(line.made_by),
            )  # fmt: skip
        table.focus()


def _quantity_example(lot: LotLine) -> str:
    """An example in the lot's own words: its container ("1 ampoule"), whole for single-dose."""
    word = Shelved(lot.product_name, lot.container_volume_ul).container_word or "container"
    if lot.single_dose:
        return f"whole ones: e.g. 1 {word}, or {lot.container_volume_ul / 1000:g} mL"
    return f"e.g. {lot.container_volume_ul / 2000:g} mL or 1 {word}"
