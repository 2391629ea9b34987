"""A mixture written in TOML, as `mesomix mix check|dispense FILE` reads it: patient,
final_volume, diluent, storage, category, purpose, prescriber, and [[ingredient]]
what/amount/product, each as text.

Pure: the text comes in, a draft mixture goes out, or MixtureFileError says what is wrong with
the file (the caller names the file).
"""

from __future__ import annotations

import tomllib

from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.errors import Refused

TEXT_KEYS = ("patient", "final_volume", "diluent", "storage", "category", "purpose", "prescriber")
INGREDIENT_KEYS = ("what", "amount", "product")


class MixtureFileError(Refused, ValueError):
    """The file is not a mixture; the message says where, without the file's name."""


def read_mixture(text: str) -> DraftMixture:
    """The draft mixture a file's text describes."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MixtureFileError(f"not valid TOML: {exc}") from None
    unknown = set(raw) - {"ingredient", *TEXT_KEYS}
    if unknown:
        raise MixtureFileError(f"unknown key(s) {', '.join(sorted(unknown))}")
    ingredients = raw.get("ingredient", [])
    if not isinstance(ingredients, list) or not ingredients:
        raise MixtureFileError("no [[ingredient]] entries")
    items = [_ingredient(number, item) for number, item in enumerate(ingredients, start=1)]
    for key in TEXT_KEYS:
        if key in raw and not isinstance(raw[key], str):
            raise MixtureFileError(f'{key} must be text, e.g. final_volume = "5 mL"')
    return DraftMixture(
        ingredients=tuple(items),
        final_volume=raw.get("final_volume", ""),
        diluent=raw.get("diluent"),
        patient=raw.get("patient"),
        storage=raw.get("storage", "room"),
        category=raw.get("category", "category_1"),
        purpose=raw.get("purpose", ""),
        prescriber=raw.get("prescriber"),
    )


def _ingredient(number: int, item: object) -> DraftIngredient:
    if not isinstance(item, dict):
        raise MixtureFileError(f"ingredient {number} is not a table")
    extra = set(item) - set(INGREDIENT_KEYS)
    if extra:
        raise MixtureFileError(f"ingredient {number}: unknown key(s) {', '.join(sorted(extra))}")
    for key in ("what", "amount"):
        if not isinstance(item.get(key), str):
            raise MixtureFileError(
                f'ingredient {number}: {key} must be text, e.g. amount = "40 mg"'
            )
    if "product" in item and not isinstance(item["product"], str):
        raise MixtureFileError(f"ingredient {number}: product must be a product code as text")
    return DraftIngredient(item["what"], item["amount"], item.get("product"))
