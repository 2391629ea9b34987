"""Stock changes other than dispensing: what they may be, and how a lot looks afterwards.

A lot holds sealed containers and at most one opened one (`open_ul`). Stock taken off a lot
comes from the opened container first (it is what goes stale), then from sealed ones: a part of a
container taken off opens it, and what is left in it is the lot's opened container. Stock put
back goes on the sealed side. Nothing may leave a lot below zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from mesomix.domain.allocation import LotStatus
from mesomix.domain.units import Field, QuantityError, parse_quantity
from mesomix.errors import Refused

ADJUSTMENT_REASONS = {
    "damaged": "damaged",
    "expired": "expired",
    "found": "found",
    "missing": "missing",
    "count_correction": "count correction",
    "data_entry_error": "data-entry error",
    "cold_chain_failure": "cold-chain failure",
    "in_use_limit_passed": "open-vial time limit passed",
    "contaminated": "contaminated",
    "other": "other (say why in the note)",
}
# Why a count differs from the books: asked whenever it does, and kept as the count movement's
# reason. Each says which way the shelf may differ from the books ("less", "more", or "either"),
# so a shelf short of the books is never put down to stock found.
COUNT_REASONS: dict[str, tuple[str, str]] = {
    "breakage": ("breakage: broken or spoilt, not booked as waste", "less"),
    "expired_disposed": ("expired or disposed of, not booked as waste", "less"),
    "used_unbooked": ("used without being booked", "less"),
    "theft_loss_suspected": ("theft or loss suspected", "less"),
    "found_stock": ("found stock, not booked in", "more"),
    "miscount_previously": ("miscounted previously", "either"),
    "booking_error": ("a receipt or movement booked wrongly", "either"),
    "other": ("other (say why in the note)", "either"),
}
MAX_LOT_UL = 10**15  # a billion litres: far above any real lot, far below a 64-bit integer
MOVEMENT_KINDS = ("receive", "dispense", "waste", "adjust", "count", "return")
CORRECTABLE = ("receive", "waste", "adjust", "count", "return")  # a dispense is undone by a return


class StockChangeError(Refused, ValueError):
    """A change the lot cannot take; the message says why."""


CONTAINER_WORDS = (
    "container",
    "vial",
    "ampoule",
    "ampule",
    "bottle",
    "syringe",
    "cartridge",
    "bag",
)
MAX_CONTAINERS = 100_000  # as many as one receipt may bring
_COUNTED = re.compile(r"([\d.,]+)\s*([^\W\d_]+)", re.IGNORECASE)  # "2 vials", "1.5 ampoules"
_LETTERS = re.compile(r"[^\W\d_]+")
_EMPTY = re.compile(r"0\s*(ml)?|empty", re.IGNORECASE)  # an opened container counted empty


@dataclass(frozen=True)
class Shelved:
    """What a product's containers are, as far as counting them in words needs."""

    name: str  # as on the box: "… 2 mL ampoule", "… 10 mL multiple-dose vial"
    container_ul: int

    @property
    def container_word(self) -> str:
        """The kind of container its name says ("ampoule"), or "" when it says none."""
        words = _LETTERS.findall(self.name.casefold())
        return next((word for word in words if word in CONTAINER_WORDS), "")


def stock_volume_ul(typed: str, product: Shelved, what: str = "volume") -> int:
    """Stock as a person takes it off the shelf, in microlitres: a volume ("2 mL", "0.5 mL") or
    whole containers of the lot's product ("1 vial", "2 ampoules"), which the label counts in.
    A container word other than the product's own ("1 vial" of ampoules) is refused: it may be
    a slip for another lot."""
    container_ul = product.container_ul
    text = typed.strip()
    named = _containers_named(text)
    if named is None:
        return _volume_ul(text, what)
    number, word = named
    own = _singular(product.container_word)
    if word != "container" and own and word != own:
        raise StockChangeError(
            f"{what}: this lot holds {own}s, not {word}s: type e.g. 1 {own}, or 1 container"
        )
    if not number.isdigit() or int(number) < 1:
        raise StockChangeError(
            f"{what}: '{text}' is not a whole number of containers: type e.g. 1 {word}, "
            "or a volume such as 2 mL"
        )
    if int(number) > MAX_CONTAINERS:
        raise StockChangeError(
            f"{what}: {int(number):,} is more than {MAX_CONTAINERS:,} containers"
        )
    if container_ul <= 0:
        raise StockChangeError(
            f"{what}: this product's container size is not known: type a volume such as 2 mL"
        )
    return int(number) * container_ul


def open_volume_ul(typed: str, container_ul: int) -> int:
    """What is left in a lot's opened container as counted: a volume, or nothing ("0 mL", "0",
    "empty") when the opened container is empty or gone."""
    text = typed.strip()
    if _EMPTY.fullmatch(text):
        return 0
    if _containers_named(text) is not None:
        raise StockChangeError(
            f"open vial: '{text}' counts containers: type what is left in the opened one, "
            "e.g. 3 mL, or 0 when it is empty"
        )
    left = _volume_ul(text, "open vial")
    if container_ul > 0 and left > container_ul:
        raise StockChangeError(f"an opened container holds at most {container_ul / 1000:g} mL")
    return left


def _singular(word: str) -> str:
    """'ampoules' → 'ampoule', 'ampules' → 'ampoule' (the same container, spelt two ways)."""
    for stem in (word, word.removesuffix("s"), word.removesuffix("es")):
        if stem in CONTAINER_WORDS:
            return "ampoule" if stem == "ampule" else stem
    return word


def _containers_named(text: str) -> tuple[str, str] | None:
    """The number and the container, singular, when the text counts containers ("2 vials"),
    else None."""
    counted = _COUNTED.fullmatch(text)
    if counted is None:
        return None
    word = _singular(counted.group(2).casefold())
    return (counted.group(1), word) if word in CONTAINER_WORDS else None


def _volume_ul(text: str, what: str) -> int:
    try:
        volume = parse_quantity(text, Field.VOLUME)
    except QuantityError as exc:
        raise StockChangeError(f"{what}: {exc}") from None
    return int(Decimal(volume.to("microliter").magnitude))


@dataclass(frozen=True)
class LotBalance:
    on_hand_ul: int
    open_ul: int
    opened: bool = False  # a sealed container was opened by the change


def apply_change(
    balance: LotBalance, delta_ul: int, lot_number: str, container_ul: int = 0
) -> LotBalance:
    """The lot after a change of `delta_ul` (negative: out of stock); `container_ul`, the
    volume of one container, tells when taking from the sealed side leaves one opened."""
    if delta_ul == 0:
        raise StockChangeError("a change of zero changes nothing")
    if delta_ul > 0:
        if balance.on_hand_ul + delta_ul > MAX_LOT_UL:
            raise StockChangeError(
                f"lot {lot_number} would hold more than {MAX_LOT_UL // 1_000_000:,} L: "
                "check the quantity"
            )
        return LotBalance(balance.on_hand_ul + delta_ul, balance.open_ul)
    taking = -delta_ul
    if taking > balance.on_hand_ul:
        raise StockChangeError(
            f"lot {lot_number} holds {balance.on_hand_ul / 1000:g} mL: "
            f"{taking / 1000:g} mL cannot be taken off it"
        )
    from_open = min(taking, balance.open_ul)
    from_sealed = taking - from_open
    left_open = balance.open_ul - from_open
    if from_sealed and container_ul > 0:
        sealed_after = balance.on_hand_ul - balance.open_ul - from_sealed
        broken = sealed_after % container_ul  # left in the container opened to take the rest
        if broken:
            return LotBalance(balance.on_hand_ul - taking, broken, opened=True)
    return LotBalance(balance.on_hand_ul - taking, left_open)


def check_whole_containers(delta_ul: int, container_ul: int, lot_number: str) -> None:
    """Single-dose containers move whole: part of one taken off would leave it open, and an
    opened single-dose container is never used again; part of one put on is not on a shelf."""
    if container_ul > 0 and delta_ul % container_ul:
        raise StockChangeError(
            f"lot {lot_number} is of single-dose containers of {container_ul / 1000:g} mL: "
            f"give whole containers (e.g. 1 container, {container_ul / 1000:g} mL) — an opened "
            "single-dose container is not kept"
        )


def booked_open_ul(on_hand_ul: int, open_ul: int, container_ul: int) -> int:
    """What the books hold in the lot's opened container: all the lot holds beyond its whole
    sealed containers (a lot booked before partial takings opened a container shows it too)."""
    if container_ul <= 0:
        return open_ul
    sealed = max(0, on_hand_ul - open_ul) // container_ul
    return on_hand_ul - sealed * container_ul


def check_reason(reason: str, note: str) -> None:
    if reason not in ADJUSTMENT_REASONS:
        raise StockChangeError(
            f"unknown reason '{reason}': use one of {', '.join(ADJUSTMENT_REASONS)}"
        )
    if reason == "other" and len(note.strip()) < 3:
        raise StockChangeError("reason 'other' needs a note saying why")
    if len(note) > 500 or not note.isprintable():
        raise StockChangeError("a note is at most 500 printable characters")


def check_count_reason(reason: str, note: str, difference_ul: int) -> None:
    """A count that differs from the books needs a coded reason that fits the way it differs
    (and a note for 'other'); the message names the field, so the form shows it there."""
    said = f"{abs(difference_ul) / 1000:g} mL {'more' if difference_ul > 0 else 'less'}"
    if not reason:
        raise StockChangeError(
            f"reason: the shelf holds {said} than the books: choose why it differs"
        )
    if reason not in COUNT_REASONS:
        raise StockChangeError(
            f"reason: '{reason}' is not a count reason: use one of {', '.join(COUNT_REASONS)}"
        )
    words, way = COUNT_REASONS[reason]
    if way != "either" and (way == "more") != (difference_ul > 0):
        raise StockChangeError(
            f"reason: the shelf holds {said} than the books, which '{words}' does not explain"
        )
    if reason == "other" and len(note.strip()) < 3:
        raise StockChangeError("note: reason 'other' needs a note saying why")
    if len(note) > 500 or not note.isprintable():
        raise StockChangeError("note: a note is at most 500 printable characters")


def reason_words(reason: str) -> str:
    """A movement's reason as a person reads it: the words of a code, and a reason written in
    words (a dispense's waste, a receipt) as it is."""
    if reason in COUNT_REASONS:
        return COUNT_REASONS[reason][0]
    return ADJUSTMENT_REASONS.get(reason, reason)


def price_cents(typed: str) -> int:
    """A price as typed ("12.50", "12"), in whole cents; refused if it is not one."""
    text = typed.strip()
    if len(text) > 12:
        raise ValueError(
            f"unit cost: {len(text):,} characters is not a price: type one such as 12.50"
        )
    whole, _, fraction = text.partition(".")
    if (
        not whole.isdigit()
        or (fraction and (not fraction.isdigit() or len(fraction) > 2))
        or not text.isascii()
    ):
        raise ValueError(
            f"unit cost '{typed}': type a price such as 12.50 (a point, at most two decimals)"
        )
    cents = int(whole) * 100 + int(fraction.ljust(2, "0") or 0)
    if cents > 100_000_000:
        raise ValueError(f"unit cost '{typed}' is not a real price for one container")
    return cents


def status_refusal(lot_number: str, now: str, wanted: str) -> str:
    """Why a lot's status may not go from `now` to `wanted`, or "" when it may."""
    if now == wanted:
        return f"lot {lot_number} is {now} already"
    if now == LotStatus.RECALLED:
        verb = "released" if wanted == LotStatus.AVAILABLE else "quarantined"
        return f"lot {lot_number} was recalled: a recalled lot cannot be {verb} (a recall is not undone)"
    return ""
