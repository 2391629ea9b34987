"""The forms of the manager's work on the Inventory screen: importing a file, receiving a
delivery, a product's reorder level, and adjusting, wasting, counting or changing the status of
a lot. Each form only gathers text; its submit calls a service, which checks the role, writes
the ledger movement and its audit row, or refuses and writes nothing. The screen chooses the lot
or product a form is for, opens it, and reads its lists again when it closes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mesomix.domain.inventory import ADJUSTMENT_REASONS, COUNT_REASONS, Shelved
from mesomix.domain.matcher import product_lines, rows_of
from mesomix.domain.scan import looks_like_scan
from mesomix.services.errors import Refusals, ServiceError
from mesomix.services.gtins import PACKAGING
from mesomix.services.imports import ImportRefused, read_import_file
from mesomix.services.stock.lots import LotLine
from mesomix.tui.screens.base import short
from mesomix.tui.widgets.form import Form, FormField, Progress, Values

if TYPE_CHECKING:  # a type hint only: the screens never import the wiring at run time
    from mesomix.bootstrap import Services

_REASONS = [(label, code) for code, label in ADJUSTMENT_REASONS.items()]
# A count that matches the books needs no reason; one that differs is refused without one.
_COUNT_REASONS = [
    ("only if the count differs", ""),
    *((words, code) for code, (words, _) in COUNT_REASONS.items()),
]
VERBS = {"quarantined": "Quarantine", "available": "Release", "recalled": "Recall"}


def import_form(services: Services, user: str) -> Form:
    """A supplier's delivery note or a product list as CSV: every row checked first, then all
    written in one transaction — or nothing (data/import/ has samples and the columns)."""
    imports = services.imports

    def run(values: Values, progress: Progress | None) -> str:
        text = read_import_file(Path(values["file"].strip()).expanduser())
        job = imports.products if values["kind"] == "products" else imports.stock
        try:
            result = job(user, text, progress)
        except ImportRefused as refused:  # one problem a line, each shown on its own
            raise Refusals(str(refused).splitlines()) from None
        return f"Imported {values['file'].strip()}: {result}."

    return Form(
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
    )


def receive_form(services: Services, user: str) -> Form:
    """A delivery, by a scan of the box's code, the name on the box or our code: the form says
    as it is typed which product the name finds, and names the candidates when it fits several
    (none is picked); a scan names the product by its GTIN and gives the lot and expiry, so
    Enter after it goes on to how many containers."""
    stock = services.stock
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
        if looks_like_scan(values["product"]):
            return stock.scanned(values["product"])
        choice = stock.which_product(values["product"])
        # the whole name and code (a preservative or an active is at its end), wrapped to
        # the form's width (72 columns, 70 beside a scrollbar), four rows at most
        if not choice.code:
            return ""
        return product_lines("Receives into: ", choice.name, choice.code, 70, 4)

    def after(values: Values, key: str) -> str | None:
        return "containers" if key == "product" and looks_like_scan(values["product"]) else None

    return Form(
        "Receive a delivery",
        [
            FormField("product", "Product", "scan the box, or its name, or our code"),
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
        after=after,
    )


def link_code_form(services: Services, user: str) -> Form:
    """A box's or vial's code the shelf does not know yet, linked to its product (on the
    audit trail): scan it, or type the digits under its bar code, and name the product."""
    stock, gtins = services.stock, services.gtins

    def product_code(values: Values) -> str:
        choice = stock.which_product(values["product"])
        if not choice.code:  # the candidates a line each, as the receive form says them
            raise Refusals(f"product: {choice.problem}".splitlines())
        return choice.code

    def submit(values: Values) -> str:
        link = gtins.link(user, values["code"], product_code(values), values["packaging"])
        return f"GTIN {link.gtin} now names {link.product_name} · {link.product_code}"

    def hint(values: Values) -> str:
        if not values["product"].strip():
            return ""
        choice = stock.which_product(values["product"])
        return product_lines("Links to: ", choice.name, choice.code, 70, 4) if choice.code else ""

    return Form(
        "Link a box's code to its product",
        [
            FormField("code", "Code", "scan it, or the digits under the bars"),
            FormField("product", "Product", "name on the box, or our code"),
            FormField("packaging", "On the", choices=[(p, p) for p in PACKAGING if p]),
        ],
        submit,
        go="Link",
        hint=hint,
    )


def reorder_form(
    services: Services, user: str, code: str, name: str, level: int | None, quantity: int | None
) -> Form:
    """The reorder level of a product, with its level and order now (None: not set yet)."""
    inventory = services.inventory
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

    return Form(
        "Reorder level",
        [
            FormField(
                "level",
                "Level",
                "low at this many sealed or fewer",
                value="" if level is None else str(level),
            ),
            FormField(
                "quantity",
                "Order",
                "containers to order",
                value="" if quantity is None else str(quantity),
            ),
        ],
        submit,
        intro=f"{name} ({code}): {now}.",
    )


def adjust_form(services: Services, user: str, lot: LotLine) -> Form:
    inventory = services.inventory

    def submit(values: Values) -> str:
        inventory.adjust_typed(
            user,
            lot.lot_id,
            values["volume"],
            values["direction"],
            values["reason"],
            values["note"],
        )
        return f"Lot {lot.lot_number} adjusted."

    return Form(
        f"Adjust lot {lot.lot_number}",
        [
            FormField(
                "direction", "Direction", choices=[("take off", "remove"), ("put on", "add")]
            ),
            FormField("volume", "Quantity", _quantity_example(lot)),
            FormField("reason", "Reason", choices=_REASONS),
            FormField("note", "Note", "what happened"),
        ],
        submit,
        intro=f"{lot.product_name}: {lot.on_hand_ul / 1000:g} mL on hand",
    )


def waste_form(services: Services, user: str, lot: LotLine) -> Form:
    inventory = services.inventory

    def submit(values: Values) -> str:
        inventory.waste_typed(user, lot.lot_id, values["volume"], values["reason"], values["note"])
        return f"Waste booked on lot {lot.lot_number}."

    return Form(
        f"Waste from lot {lot.lot_number}",
        [
            FormField("volume", "Quantity", _quantity_example(lot)),
            FormField("reason", "Reason", choices=_REASONS),
            FormField("note", "Note"),
        ],
        submit,
        intro=f"{lot.product_name}: {lot.on_hand_ul / 1000:g} mL on hand",
    )


def count_form(services: Services, user: str, lot: LotLine) -> Form:
    inventory = services.inventory

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
    books = f"{lot.sealed_containers} sealed, {lot.booked_open_ul / 1000:g} mL open"
    return Form(
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
        intro=f"{lot.product_name}: books say {books}",
    )


def status_form(services: Services, user: str, lot: LotLine, status: str) -> Form:
    """Quarantine, release or recall a lot, with the reason why."""
    inventory, verb = services.inventory, VERBS[status]

    def submit(values: Values) -> str:
        inventory.set_status(user, lot.lot_id, status, values["reason"])
        return f"Lot {lot.lot_number}: {status}."

    intro = f"{lot.product_name}, lot {lot.lot_number}, now {lot.status}."
    if status == "recalled":
        intro += " A recall cannot be undone; T shows every batch and patient that received it."
    reason = [FormField("reason", "Reason", "why")]
    return Form(f"{verb} lot {lot.lot_number}", reason, submit, go=verb, intro=intro)


def _counted(volume_ul: int, lot: LotLine) -> str:
    """A difference as a count reads it: whole containers, with their volume ("2 ampoules
    (4 mL)"), or a volume alone."""
    volume = f"{volume_ul / 1000:g} mL"
    containers, rest = divmod(volume_ul, lot.container_volume_ul or volume_ul + 1)
    if not containers or rest:
        return volume
    word = Shelved(lot.product_name, lot.container_volume_ul).container_word or "container"
    return f"{containers} {word}{'s' if containers > 1 else ''} ({volume})"


def _quantity_example(lot: LotLine) -> str:
    """An example in the lot's own words: its container ("1 ampoule"), whole for single-dose."""
    word = Shelved(lot.product_name, lot.container_volume_ul).container_word or "container"
    if lot.single_dose:
        return f"whole ones: e.g. 1 {word}, or {lot.container_volume_ul / 1000:g} mL"
    return f"e.g. {lot.container_volume_ul / 2000:g} mL or 1 {word}"
