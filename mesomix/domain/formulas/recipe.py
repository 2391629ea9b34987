"""A formula and its versions: what a version holds, the checks on what is typed into one, and a
version to and from a draft mixture and stored records."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from mesomix.domain.catalog import fold
from mesomix.domain.mixture import DEFAULT_DILUENT, PURPOSES, DraftIngredient, DraftMixture
from mesomix.domain.units import Field, QuantityError, canonical, parse_quantity
from mesomix.errors import Refused

MAX_NAME = 80


MAX_TEXT = 500  # a description or a note


MAX_WHAT = 120  # an ingredient's name as typed


MAX_INGREDIENTS = 30


class FormulaError(Refused, ValueError):
    """A formula refused; the message is meant for the person who asked."""


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


def plain_decimal(value: Decimal) -> str:
    """A Decimal in plain digits (no exponent, no trailing zero): as a recipe writes it."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def _amount_key(text: str, field: Field) -> tuple[str, str]:
    try:
        value, dimension = canonical(parse_quantity(text, field))
    except QuantityError:
        return (" ".join(text.split()), "")
    return (plain_decimal(value), dimension)


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


def ingredients_to_records(ingredients: Iterable[DraftIngredient]) -> list[dict[str, Any]]:
    """The ingredients as JSON-ready records (what, amount, product)."""
    return [{"what": i.what, "amount": i.amount, "product": i.product} for i in ingredients]


def ingredients_from_records(records: Iterable[Mapping[str, Any]]) -> tuple[DraftIngredient, ...]:
    return tuple(
        DraftIngredient(str(r["what"]), str(r["amount"]), r.get("product") or None) for r in records
    )
