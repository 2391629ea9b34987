"""A mixture written in TOML, as `mesomix mix check|dispense FILE` reads it: patient,
final_volume, diluent, storage, category, purpose, prescriber, and [[ingredient]]
what/amount/product, each as text; and, for a session of a course as `mesomix session draft`
writes it, the course, the session and the formula version, as whole numbers.

Pure: the text comes in, a draft mixture goes out, or MixtureFileError says what is wrong with
the file (the caller names the file).
"""

from __future__ import annotations

import json
import tomllib

from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.errors import Refused

TEXT_KEYS = ("patient", "final_volume", "diluent", "storage", "category", "purpose", "prescriber")
INGREDIENT_KEYS = ("what", "amount", "product")
NUMBER_KEYS = ("course", "session", "formula_version")


class MixtureFileError(Refused, ValueError):
    """The file is not a mixture; the message says where, without the file's name."""


def read_mixture(text: str) -> DraftMixture:
    """The draft mixture a file's text describes."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MixtureFileError(f"not valid TOML: {exc}") from None
    unknown = set(raw) - {"ingredient", *TEXT_KEYS, *NUMBER_KEYS}
    if unknown:
        raise MixtureFileError(f"unknown key(s) {', '.join(sorted(unknown))}")
    ingredients = raw.get("ingredient", [])
    if not isinstance(ingredients, list) or not ingredients:
        raise MixtureFileError("no [[ingredient]] entries")
    items = [_ingredient(number, item) for number, item in enumerate(ingredients, start=1)]
    for key in TEXT_KEYS:
        if key in raw and not isinstance(raw[key], str):
            raise MixtureFileError(f'{key} must be text, e.g. final_volume = "5 mL"')
    for key in NUMBER_KEYS:
        value = raw.get(key)
        if value is not None and (type(value) is not int or not 0 < value < 2**63):
            raise MixtureFileError(f"{key} must be a whole number above zero, e.g. {key} = 1")
    return DraftMixture(
        ingredients=tuple(items),
        final_volume=raw.get("final_volume", ""),
        diluent=raw.get("diluent"),
        patient=raw.get("patient"),
        storage=raw.get("storage", "room"),
        category=raw.get("category", "category_1"),
        purpose=raw.get("purpose", ""),
        prescriber=raw.get("prescriber"),
        formula_version=raw.get("formula_version"),
        course=raw.get("course"),
        session=raw.get("session"),
    )


def write_mixture(draft: DraftMixture) -> str:
    """The draft as a file `read_mixture` reads back the same."""
    lines = [
        f"{key} = {_toml(value)}"
        for key, value in (
            ("patient", draft.patient),
            ("final_volume", draft.final_volume),
            ("diluent", draft.diluent),
            ("storage", draft.storage),
            ("category", draft.category),
            ("purpose", draft.purpose),
            ("prescriber", draft.prescriber),
            ("formula_version", draft.formula_version),
            ("course", draft.course),
            ("session", draft.session),
        )
        if value is not None
    ]
    for item in draft.ingredients:
        lines += ["", "[[ingredient]]"]
        lines += [
            f"{key} = {_toml(value)}"
            for key, value in (
                ("what", item.what),
                ("amount", item.amount),
                ("product", item.product),
            )
            if value is not None
        ]
    return "\n".join(lines) + "\n"


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


def _toml(value: str | int) -> str:
    """A TOML value: JSON's string escapes are TOML's, but for DEL, which TOML escapes too."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
