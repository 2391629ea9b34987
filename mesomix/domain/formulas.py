"""Formulas: named, versioned recipes a mixture starts from, and scaling them to another volume.

A formula's versions never change: a new recipe is a new version, and a batch records the
version it was started from. Scaling multiplies every amount by new final volume / old final
volume in exact fractions and keeps each amount's own unit (20 mg in 5 mL is 40 mg in 10 mL,
1000 IU is 2000 IU); an amount whose exact value has no short decimal is rounded to four
significant digits and said so. Pure: no database, no UI.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from typing import Any

from mesomix.domain.catalog import fold
from mesomix.domain.mixture import (
    DEFAULT_DILUENT,
    PURPOSES,
    DraftIngredient,
    DraftMixture,
    round_draw,
    to_ul,
)
from mesomix.domain.units import (
    Field,
    Quantity,
    QuantityError,
    canonical,
    parse_quantity,
    unit_text,
)

MAX_NAME = 80
MAX_TEXT = 500  # a description or a note
MAX_WHAT = 120  # an ingredient's name as typed
MAX_INGREDIENTS = 30
MAX_FACTOR = Fraction(100)  # scaling beyond these is a typing mistake, not a recipe
MIN_FACTOR = Fraction(1, 100)
SIGNIFICANT = 4  # digits kept when a scaled amount has no exact decimal the parser reads
_MAX_DECIMALS = 6  # what the quantity parser accepts after the point


class FormulaError(ValueError):
    """A formula refused; the message is meant for the person who asked."""


class ScaleError(FormulaError):
    """The formula cannot be scaled to that volume."""


class Unchanged(FormulaError):
    """The recipe is the latest version's already: no new version is made."""


@dataclass(frozen=True)
class FormulaVersion:
    """One recipe, as saved: never changed afterwards."""

    number: int  # 1, 2, 3 ... within its formula
    ingredients: tuple[DraftIngredient, ...]
    final_volume: str = ""  # as typed, e.g. "5 mL"; empty: the sum of what is drawn
    diluent: str | None = None  # product code of the q.s.; None: the catalogue's default
    storage: str = "room"
    note: str = ""
    id: int | None = None  # the stored version's identity: what a batch records
    created_at: datetime | None = None
    created_by: str = ""  # user name

    def same_recipe(self, other: FormulaVersion) -> bool:
        """Whether two versions make the same mixture: the same ingredients and amounts (in any
        order, "20mg" and "20 mg" alike), final volume, diluent and storage. The note is not the
        recipe, so a changed note alone is not a new version."""
        return _recipe_key(self) == _recipe_key(other)


@dataclass(frozen=True)
class Formula:
    code: str
    name: str
    purpose: str  # one of PURPOSES
    description: str = ""
    active: bool = True  # False once retired: kept for the batches made from it
    versions: tuple[FormulaVersion, ...] = ()  # oldest first

    @property
    def latest(self) -> FormulaVersion | None:
        return self.versions[-1] if self.versions else None

    def version(self, number: int | None = None) -> FormulaVersion:
        """The version of that number; the latest when none is given."""
        if not self.versions:
            raise FormulaError(f"formula '{self.name}' has no version yet")
        if number is None:
            return self.versions[-1]
        for version in self.versions:
            if version.number == number:
                return version
        raise FormulaError(
            f"formula '{self.name}' has no version {number}: "
            f"versions 1 to {self.versions[-1].number}"
        )

    def next_version(self, draft: DraftMixture, note: str = "") -> FormulaVersion:
        """The draft as this formula's next version; refused when it is the latest recipe again."""
        latest = self.latest
        candidate = version_from_draft((latest.number if latest else 0) + 1, draft, note)
        if latest is not None and latest.same_recipe(candidate):
            raise Unchanged(
                f"this is the recipe of '{self.name}' version {latest.number} already: "
                "no new version was saved"
            )
        return candidate


@dataclass(frozen=True)
class Rounded:
    """A scaled amount that had no exact short decimal, and what was written instead."""

    ingredient: int  # position in the draft
    what: str
    exact: str  # the exact value, e.g. "33.33333333… mg"
    written: str  # e.g. "33.33 mg"


@dataclass(frozen=True)
class Scaling:
    draft: DraftMixture
    factor: Fraction  # new final volume / old final volume, exactly
    rounded: tuple[Rounded, ...] = ()

    @property
    def factor_text(self) -> str:
        return _shown_fraction(self.factor)


# --- checking what a person typed ---------------------------------------------------------


def check_name(name: str) -> str:
    """A formula's name: 1 to 80 printable characters once the outer spaces are dropped."""
    if not isinstance(name, str):
        raise FormulaError("a formula's name must be text")
    cleaned = name.strip()
    if not cleaned:
        raise FormulaError("give the formula a name (1 to 80 characters)")
    if len(cleaned) > MAX_NAME:
        raise FormulaError(
            f"a formula's name has at most {MAX_NAME} characters ({len(cleaned)} typed)"
        )
    _printable(cleaned, "the name")
    return cleaned


def check_purpose(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise FormulaError(f"unknown purpose '{purpose}': use one of {', '.join(PURPOSES)}")
    return purpose


def check_text(text: str, what: str) -> str:
    """A description or a note: at most 500 characters, printable apart from line breaks."""
    cleaned = (text or "").strip()
    if len(cleaned) > MAX_TEXT:
        raise FormulaError(f"the {what} has at most {MAX_TEXT} characters ({len(cleaned)} typed)")
    for line in cleaned.splitlines():
        _printable(line, f"the {what}")
    return cleaned


def _printable(text: str, where: str) -> None:
    for position, char in enumerate(text, start=1):
        if not char.isprintable():
            raise FormulaError(
                f"{where} holds an invisible or control character (U+{ord(char):04X}) at "
                f"position {position}: retype it"
            )


def formula_code(name: str, taken: Iterable[str] = ()) -> str:
    """A stable code from a name ("Hair restoration" → "hair_restoration"), unique among `taken`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:40].strip("_") or "formula"
    used = set(taken)
    code, suffix = base, 2
    while code in used:
        code, suffix = f"{base}_{suffix}", suffix + 1
    return code


def version_from_draft(number: int, draft: DraftMixture, note: str = "") -> FormulaVersion:
    """The recipe part of a draft (not its patient, prescriber or purpose), tidied and checked:
    blank rows are dropped; an empty mixture, a row without a name or an amount, and an amount
    or final volume the parser refuses are refused."""
    ingredients = []
    for position, item in enumerate(draft.ingredients, start=1):
        what, amount = item.what.strip(), item.amount.strip()
        product = (item.product or "").strip() or None
        if not what and not amount and product is None:
            continue
        label = f"ingredient {position}" + (f" ({what})" if what else "")
        if not what:
            raise FormulaError(f"{label}: which substance or product?")
        if len(what) > MAX_WHAT:
            raise FormulaError(f"{label}: a name has at most {MAX_WHAT} characters")
        _printable(what, label)
        if not amount:
            raise FormulaError(f"{label}: no amount")
        try:
            parse_quantity(amount, Field.AMOUNT)
        except QuantityError as exc:
            raise FormulaError(f"{label}: {exc}") from None
        ingredients.append(DraftIngredient(what, amount, product))
    if not ingredients:
        raise FormulaError("the mixture has no ingredients: there is nothing to save")
    if len(ingredients) > MAX_INGREDIENTS:
        raise FormulaError(f"a formula has at most {MAX_INGREDIENTS} ingredients")
    final = draft.final_volume.strip()
    if final:
        try:
            parse_quantity(final, Field.VOLUME)
        except QuantityError as exc:
            raise FormulaError(f"final volume: {exc}") from None
    return FormulaVersion(
        number=number,
        ingredients=tuple(ingredients),
        final_volume=final,
        diluent=(draft.diluent or "").strip() or None,
        storage=draft.storage,
        note=check_text(note, "note"),
    )


# --- from a formula to a draft --------------------------------------------------------------


def to_draft(
    version: FormulaVersion, patient: str | None, purpose: str = "", prescriber: str | None = None
) -> DraftMixture:
    """A draft for one patient, exactly as the version says, that records where it came from."""
    return DraftMixture(
        ingredients=version.ingredients,
        final_volume=version.final_volume,
        diluent=version.diluent,
        patient=patient,
        storage=version.storage,
        purpose=purpose,
        prescriber=prescriber,
        formula_version=version.id,
    )


def scale(
    version: FormulaVersion,
    new_final_volume: str,
    patient: str | None = None,
    purpose: str = "",
) -> DraftMixture:
    """The version scaled to another final volume, as a draft (see `scaling` for the details)."""
    return scaling(version, new_final_volume, patient, purpose).draft


def scaling(
    version: FormulaVersion,
    new_final_volume: str,
    patient: str | None = None,
    purpose: str = "",
) -> Scaling:
    """Every amount multiplied by new/old final volume, exactly, each in its own unit.

    Refused (ScaleError) when the version has no final volume, when the new one is not a volume
    a syringe measures, or when the factor is above 100 or below 1/100 (a slip of the keyboard)."""
    if not version.final_volume.strip():
        raise ScaleError(
            "this formula has no final volume (it is the sum of what is drawn): "
            "there is nothing to scale from — start it as it is"
        )
    try:
        old_ul = to_ul(parse_quantity(version.final_volume, Field.VOLUME))
    except QuantityError as exc:
        raise ScaleError(f"the formula's final volume cannot be read: {exc}") from None
    new = _new_volume(new_final_volume)
    new_ul = to_ul(new)
    factor = Fraction(new_ul) / Fraction(old_ul)
    old_text, new_text = version.final_volume.strip(), _exact_quantity(new)
    if factor > MAX_FACTOR:
        raise ScaleError(
            f"{old_text} to {new_text} multiplies every amount by {_shown_fraction(factor)}: "
            f"more than {MAX_FACTOR}× is refused — check the volume"
        )
    if factor < MIN_FACTOR:
        raise ScaleError(
            f"{old_text} to {new_text} divides every amount by {_shown_fraction(1 / factor)}: "
            f"more than {MAX_FACTOR}× smaller is refused — check the volume"
        )
    ingredients, rounded = [], []
    for index, item in enumerate(version.ingredients):
        written, exact = _scaled_amount(index, item, factor)
        if exact is not None:
            rounded.append(Rounded(index, item.what, exact, written))
        ingredients.append(replace(item, amount=written))
    draft = replace(
        to_draft(version, patient, purpose),
        ingredients=tuple(ingredients),
        final_volume=new_text,
    )
    return Scaling(draft, factor, tuple(rounded))


def _new_volume(text: str) -> Quantity:
    if not isinstance(text, str) or not text.strip():
        raise ScaleError("type the new final volume, e.g. 10 mL")
    stripped = text.strip()
    if stripped.startswith("-"):
        raise ScaleError(f"'{stripped}': a final volume cannot be negative")
    try:
        volume = parse_quantity(stripped, Field.VOLUME)
    except QuantityError as exc:
        raise ScaleError(f"new final volume: {exc}") from None
    microlitres = to_ul(volume)
    if round_draw(microlitres) != microlitres:
        raise ScaleError(
            f"new final volume {stripped}: a syringe measures 0.01 mL — type a volume in "
            "hundredths of a millilitre"
        )
    return volume


def _scaled_amount(index: int, item: DraftIngredient, factor: Fraction) -> tuple[str, str | None]:
    """(the scaled amount as text the parser reads back, the exact value when it was rounded)."""
    label = f"ingredient {index + 1} ({item.what})"
    try:
        amount = parse_quantity(item.amount, Field.AMOUNT)
    except QuantityError as exc:
        raise ScaleError(f"{label}: {exc}") from None
    unit = unit_text(amount)
    exact = Fraction(Decimal(amount.magnitude)) * factor
    text, was_rounded = _decimal_text(exact)
    if text == "0":
        raise ScaleError(f"{label}: {item.amount.strip()} scaled becomes too small to write")
    written = f"{text} {unit}"
    try:
        parse_quantity(written, Field.AMOUNT)
    except QuantityError as exc:
        raise ScaleError(f"{label}: scaled to {written}, which cannot be used: {exc}") from None
    return written, (f"{_shown_fraction(exact)} {unit}" if was_rounded else None)


def _decimal_text(value: Fraction) -> tuple[str, bool]:
    """The exact decimal when it has at most 6 decimals; else four significant digits."""
    with localcontext() as context:
        context.prec = 60
        decimal = Decimal(value.numerator) / Decimal(value.denominator)
        if _terminates_within(value.denominator, _MAX_DECIMALS):
            return _plain(decimal), False
        exponent = max(decimal.adjusted() - (SIGNIFICANT - 1), -_MAX_DECIMALS)
        rounded = decimal.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN)
    return _plain(rounded), True


def _terminates_within(denominator: int, decimals: int) -> bool:
    """Whether 1/denominator is a decimal of at most `decimals` places (only 2s and 5s, few)."""
    power: int = 10**decimals
    return power % denominator == 0


def _plain(value: Decimal) -> str:
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def _shown_fraction(value: Fraction) -> str:
    """A fraction as a decimal to read: exact when short, else eight significant digits and '…'."""
    text, rounded = _decimal_text(value)
    if not rounded:
        return text
    with localcontext() as context:
        context.prec = 8
        return _plain(Decimal(value.numerator) / Decimal(value.denominator)) + "…"


def _exact_quantity(quantity: Quantity) -> str:
    return f"{_plain(Decimal(quantity.magnitude))} {unit_text(quantity)}"


# --- comparing recipes ----------------------------------------------------------------------


def _amount_key(text: str, field: Field) -> tuple[str, str]:
    try:
        value, dimension = canonical(parse_quantity(text, field))
    except QuantityError:
        return (" ".join(text.split()), "")
    return (_plain(value), dimension)


def _recipe_key(version: FormulaVersion) -> tuple[Any, ...]:
    ingredients = sorted(
        (fold(item.what), _amount_key(item.amount, Field.AMOUNT), item.product or "")
        for item in version.ingredients
    )
    final = _amount_key(version.final_volume, Field.VOLUME) if version.final_volume else ("", "")
    return (
        tuple(ingredients),
        final,
        version.diluent or DEFAULT_DILUENT,
        version.storage,
    )


# --- stored form ----------------------------------------------------------------------------


def ingredients_to_records(ingredients: Iterable[DraftIngredient]) -> list[dict[str, Any]]:
    """The ingredients as JSON-ready records (what, amount, product)."""
    return [{"what": i.what, "amount": i.amount, "product": i.product} for i in ingredients]


def ingredients_from_records(records: Iterable[Mapping[str, Any]]) -> tuple[DraftIngredient, ...]:
    return tuple(
        DraftIngredient(str(r["what"]), str(r["amount"]), r.get("product") or None) for r in records
    )
