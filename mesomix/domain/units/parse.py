"""The one strict parser for everything a person types, and for the quantities in our own data.

pint reads far more than a clinician means: `ML` is a megalitre, `U` an enzyme unit, `units` a
luminance unit, `gr` a grain. So nothing a person types reaches pint's own parser: a small scanner
accepts the spellings below and builds quantities from exact decimals; everything else is refused
with a message that names the problem and, where it can, the likely intent. At 400 lines it
is one idea (one scanner, its spellings and its messages), kept whole.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum

import pint

from mesomix.domain.units.quantity import Q, Quantity, QuantityError, registry


class Field(Enum):
    """What a field asks for; decides which units and shapes it accepts."""

    AMOUNT = "amount"  # how much of an ingredient: mass, volume, IU, mEq, mmol
    VOLUME = "volume"  # a final volume, a container volume
    MASS = "mass"
    STRENGTH = "strength"  # a concentration: 20 mg/mL, 2 %, 1:100000, 150 IU/mL
    BODY_WEIGHT = "body weight"


# The spellings we accept, case-sensitive, and the pint unit each means.
_MASS = {
    "mg": "milligram",
    "g": "gram",
    "kg": "kilogram",
    "mcg": "microgram",
    "µg": "microgram",  # micro sign U+00B5
    "μg": "microgram",  # Greek mu U+03BC
    "ug": "microgram",
}
_VOLUME = {"mL": "milliliter", "ml": "milliliter", "L": "liter"}
_ACTIVITY = {"IU": "international_unit"}
_CHARGE = {"mEq": "milliequivalent"}
_SUBSTANCE_AMOUNT = {"mmol": "millimole"}
_KNOWN = _MASS | _VOLUME | _ACTIVITY | _CHARGE | _SUBSTANCE_AMOUNT

_FIELD_UNITS: dict[Field, dict[str, str]] = {
    Field.AMOUNT: {k: v for k, v in _MASS.items() if k != "kg"}
    | _VOLUME
    | _ACTIVITY
    | _CHARGE
    | _SUBSTANCE_AMOUNT,
    Field.VOLUME: _VOLUME,
    Field.MASS: _MASS,
    Field.BODY_WEIGHT: {"kg": "kilogram", "g": "gram"},
}
_STRENGTH_NUMERATOR = _MASS | _ACTIVITY | _CHARGE | _SUBSTANCE_AMOUNT

# Spellings that pint (or a hurried reader) would take for something else, with the likely intent.
_MISREAD = {
    "units": "'units' is ambiguous (international units? enzyme units?): write IU for international units",
    "unit": "'unit' is ambiguous (international units? enzyme units?): write IU for international units",
    "U": "'U' is ambiguous and is misread as a 0 or 4: write IU for international units",
    "u": "'u' is ambiguous (pint reads atomic mass units): write IU for international units",
    "ML": "'ML' would be read as megalitres: write mL for millilitres",
    "Ml": "'Ml' would be read as megalitres: write mL for millilitres",
    "Mg": "'Mg' would be read as megagrams (or magnesium): write mg for milligrams",
    "MG": "'MG' would be read as megagrams: write mg for milligrams",
    "MCG": "write mcg for micrograms",
    "Mcg": "write mcg for micrograms",
    "gr": "'gr' could mean grain (64.8 mg) or gram: write g for grams or mg for milligrams",
    "grain": "grains are not used here: write the amount in mg",
    "gm": "write g for grams",
    "mgs": "write mg (no plural s)",
    "mls": "write mL (no plural s)",
    "mcgs": "write mcg (no plural s)",
    "ugs": "write mcg (no plural s)",
    "cc": "write mL (1 cc is 1 mL)",
    "iu": "write IU in capitals for international units",
    "Iu": "write IU in capitals for international units",
    "IUs": "write IU (no plural s)",
    "meq": "write mEq for milliequivalents",
    "MEq": "write mEq for milliequivalents",
    "MEQ": "write mEq for milliequivalents",
    "amp": "'amp' is read as ampere: write the volume (mL) or the mass to draw from the ampoule",
    "amps": "ampoules are not an amount: write the volume (mL) or the mass to draw",
    "ampoule": "ampoules are not an amount: write the volume (mL) or the mass to draw",
    "vial": "vials are not an amount: write the volume (mL) or the mass to draw",
    "l": "write L for litres (a lower-case l is misread as the digit 1) or mL for millilitres",
    "dL": "write the volume in mL",
    "mcl": "write mL for millilitres",
    "mcL": "write mL for millilitres",
    "µL": "write the volume in mL (for example 0.05 mL)",
    "uL": "write the volume in mL (for example 0.05 mL)",
    "lb": "write the weight in kg",
    "lbs": "write the weight in kg",
}

_LONGEST_INPUT = 40  # "500 mg/5 mL", "1:100,000" and room to spare: longer is not a quantity
_MAX_DIGITS_BEFORE_POINT = 9
_MAX_DIGITS_AFTER_POINT = 6
_SPACES = {"\u00a0", "\u202f", "\u2009"}  # no-break, narrow no-break and thin spaces read as spaces
_TOKEN = re.compile(
    r"(?P<number>[0-9][0-9.,]*|\.[0-9][0-9.,]*)"
    r"|(?P<word>[A-Za-zµμ%]+)"
    r"|(?P<op>[/:+*×x-])"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)"
)
_SCIENTIFIC = re.compile(r"[0-9.]\s*[eE]\s*[+-]?[0-9]")
_NOT_A_NUMBER = re.compile(r"\b(nan|inf|infinity)\b", re.IGNORECASE)
_GROUPED_THOUSANDS = re.compile(r"^[0-9]{1,3}(,[0-9]{3})+$")


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def parse_quantity(text: str, field: Field = Field.AMOUNT) -> Quantity:
    """Read what a person typed into a field, or raise QuantityError saying what is wrong."""
    try:
        return _parse(text, field)
    except QuantityError:
        raise
    except (pint.PintError, InvalidOperation, ArithmeticError, ValueError, TypeError) as exc:
        raise QuantityError(f"'{_shown(text)}' could not be read as {_a(field)}") from exc


def _parse(text: str, field: Field) -> Quantity:
    if not isinstance(text, str):
        raise QuantityError(f"{_a(field)} must be typed as text")
    if len(text.strip()) > _LONGEST_INPUT:
        raise QuantityError(
            f"the {field.value} is {len(text.strip()):,} characters long: "
            f"type a number and a unit, e.g. {_example(field)}"
        )
    return _read(text, field)


@functools.lru_cache(maxsize=1024)
def _read(text: str, field: Field) -> Quantity:
    """What a text means, read once per spelling and field: a mixture's amounts are read when
    it is checked, again when it is dispensed, and a keystroke re-checks every row. Quantities
    are values here (no caller changes one in place), so the same one is handed out again; a
    refusal is raised anew each time."""
    cleaned = _clean(text, field)
    if not cleaned.strip():
        raise QuantityError(
            f"the {field.value} is empty: type a number and a unit, e.g. {_example(field)}"
        )
    if _NOT_A_NUMBER.search(cleaned):
        raise QuantityError(f"'{cleaned.strip()}' is not a number: type e.g. {_example(field)}")
    if _SCIENTIFIC.search(cleaned):
        raise QuantityError(
            f"'{cleaned.strip()}': scientific notation is not accepted; write the number in full"
        )
    tokens = [t for t in _tokens(cleaned) if t.kind != "space"]
    if field is Field.STRENGTH:
        return _strength(tokens, cleaned.strip())
    return _simple(tokens, cleaned.strip(), field)


def _clean(text: str, field: Field) -> str:
    """Refuse characters a person cannot see or that look like digits but are not."""
    if text.isascii() and text.isprintable():  # the usual case: nothing can hide in it
        return text
    out = []
    for position, char in enumerate(text, start=1):
        if char in _SPACES:
            out.append(" ")
            continue
        category = unicodedata.category(char)
        if char in "\t" or category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            raise QuantityError(
                f"invisible or control character U+{ord(char):04X} at position {position} "
                f"of the {field.value}: retype the value"
            )
        if char.isdigit() and not ("0" <= char <= "9"):
            raise QuantityError(
                f"'{char}' at position {position} of the {field.value} is not an ASCII digit: "
                "type digits 0-9"
            )
        if category.startswith("Z") and char != " ":
            raise QuantityError(
                f"unusual space U+{ord(char):04X} at position {position} of the {field.value}: "
                "retype it"
            )
        out.append(char)
    return "".join(out)


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind == "other":
            raise QuantityError(
                f"'{match.group()}' does not belong in a quantity ('{text.strip()}')"
            )
        tokens.append(_Token(kind, match.group()))
    return tokens


def _number(raw: str, whole: str) -> Decimal:
    if "," in raw:
        if _GROUPED_THOUSANDS.match(raw):
            raise QuantityError(
                f"'{whole}': no thousands separators — write {raw.replace(',', '')} "
                "(a comma can also be read as a decimal point)"
            )
        raise QuantityError(
            f"'{whole}': decimal comma — write {raw.replace(',', '.')} with a point"
        )
    if raw.startswith("."):
        raise QuantityError(f"'{whole}': write a leading zero (0{raw}) so the point is not missed")
    if raw.count(".") > 1 or raw.endswith("."):
        raise QuantityError(f"'{whole}': '{raw}' is not a well-formed number")
    whole_part, _, fraction = raw.partition(".")
    if fraction.endswith("0") and Decimal(raw) != 0:
        plain = format(Decimal(raw).normalize(), "f")
        raise QuantityError(
            f"'{whole}': write {plain} without the trailing zero — {raw} can be misread "
            f"(a missed point, or a thousands separator)"
        )
    if len(whole_part.lstrip("0")) > _MAX_DIGITS_BEFORE_POINT:
        raise QuantityError(f"'{whole}' is too large to be a real quantity")
    if len(fraction) > _MAX_DIGITS_AFTER_POINT:
        raise QuantityError(
            f"'{whole}': more than {_MAX_DIGITS_AFTER_POINT} decimals cannot be measured"
        )
    return Decimal(raw)


def _unit(word: str, allowed: dict[str, str], field: Field, whole: str) -> str:
    if word in allowed:
        return allowed[word]
    if word in _MISREAD:
        raise QuantityError(f"'{whole}': {_MISREAD[word]}")
    if word in _KNOWN or word == "%":
        raise QuantityError(
            f"'{whole}': {_describe(word)} where {_a(field)} is asked for (e.g. {_example(field)})"
        )
    raise QuantityError(
        f"'{whole}': '{word}' is not a unit mesomix knows; use one of {_unit_list(allowed)}"
    )


def _simple(tokens: list[_Token], whole: str, field: Field) -> Quantity:
    kinds = [t.kind for t in tokens]
    if kinds and kinds[0] == "op" and tokens[0].text == "-":
        raise QuantityError(f"'{whole}': {_a(field)} cannot be negative")
    if kinds == ["number"]:
        raise QuantityError(f"'{whole}' has no unit: did you mean {whole} {_default_unit(field)}?")
    if kinds == ["word"]:
        raise QuantityError(f"'{whole}' has no number: type e.g. {_example(field)}")
    if kinds and kinds[0] == "word":
        raise QuantityError(
            f"'{whole}': '{tokens[0].text}' stands where a number belongs: type digits, "
            f"e.g. {_example(field)}"
        )
    if "op" in kinds and any(t.text in "/:" for t in tokens if t.kind == "op"):
        raise QuantityError(
            f"'{whole}' is a concentration, but {_a(field)} is asked for: type e.g. {_example(field)}"
        )
    if kinds.count("number") > 1 or "op" in kinds:
        raise QuantityError(f"'{whole}' holds more than one quantity: type one {field.value}")
    if kinds != ["number", "word"]:
        raise QuantityError(f"'{whole}' is not {_a(field)}: type e.g. {_example(field)}")
    value = _number(tokens[0].text, whole)
    unit = _unit(tokens[1].text, _FIELD_UNITS[field], field, whole)
    if value == 0:
        raise QuantityError(f"'{whole}': {_a(field)} must be more than zero")
    return Q(value, unit)


def _strength(tokens: list[_Token], whole: str) -> Quantity:
    kinds = [t.kind for t in tokens]
    texts = [t.text for t in tokens]
    if kinds and texts[0] == "-":
        raise QuantityError(f"'{whole}': a strength cannot be negative")
    if kinds == ["number", "word"] and texts[1] == "%":
        value = _positive(_number(texts[0], whole), whole)
        if value > 100:
            raise QuantityError(f"'{whole}': a percentage strength cannot exceed 100 %")
        return Q(value * 10, "milligram / milliliter")  # % w/v: g per 100 mL
    if kinds == ["number", "op", "number"] and texts[1] == ":":
        if texts[0] != "1":
            raise QuantityError(f"'{whole}': a ratio strength is written 1:N (e.g. 1:100000)")
        raw = texts[2].replace(",", "") if _GROUPED_THOUSANDS.match(texts[2]) else texts[2]
        if not raw.isdigit():
            raise QuantityError(
                f"'{whole}': a ratio strength is 1:N with N a whole number, e.g. 1:100000 or 1:100,000"
            )
        denominator = _positive(_number(raw, whole), whole)
        return Q(Decimal(1000) / denominator, "milligram / milliliter")
    if len(tokens) in (4, 5) and kinds[:3] == ["number", "word", "op"] and texts[2] == "/":
        amount = _positive(_number(texts[0], whole), whole)
        numerator = _unit(texts[1], _STRENGTH_NUMERATOR, Field.STRENGTH, whole)
        per = Decimal(1)
        rest = tokens[3:]
        if len(rest) == 2:
            if rest[0].kind != "number":
                raise QuantityError(f"'{whole}' is not a strength: type e.g. 20 mg/mL")
            per = _positive(_number(rest[0].text, whole), whole)
            rest = rest[1:]
        if rest[0].kind != "word" or rest[0].text not in _VOLUME:
            raise QuantityError(
                f"'{whole}': a strength is per volume (per mL), e.g. 20 mg/mL or 500 mg/5 mL"
            )
        volume_unit = _VOLUME[rest[0].text]
        return Q(amount / per, f"{numerator} / {volume_unit}")
    if kinds == ["number", "word"]:
        raise QuantityError(
            f"'{whole}' is an amount, but a strength is asked for: type e.g. 20 mg/mL, 2 % or 1:100000"
        )
    if kinds == ["number"]:
        raise QuantityError(f"'{whole}' has no unit: type e.g. 20 mg/mL, 2 % or 1:100000")
    raise QuantityError(f"'{whole}' is not a strength: type e.g. 20 mg/mL, 2 % or 1:100000")


def _positive(value: Decimal, whole: str) -> Decimal:
    if value == 0:
        raise QuantityError(f"'{whole}': zero is not a strength")
    return value


def _describe(word: str) -> str:
    if word in _VOLUME:
        return "a volume"
    if word in _MASS:
        return "a mass"
    if word in _ACTIVITY:
        return "an activity in IU"
    if word in _CHARGE:
        return "milliequivalents"
    if word == "%":
        return "a percentage (a strength)"
    return f"'{word}'"


def _a(field: Field) -> str:
    """The field's name with its article, for messages."""
    return ("an " if field.value[0] in "aeiou" else "a ") + field.value


def _example(field: Field) -> str:
    return {
        Field.AMOUNT: "40 mg, 0.5 mL or 1000 IU",
        Field.VOLUME: "5 mL",
        Field.MASS: "40 mg",
        Field.STRENGTH: "20 mg/mL",
        Field.BODY_WEIGHT: "70 kg",
    }[field]


def _default_unit(field: Field) -> str:
    return {Field.VOLUME: "mL", Field.BODY_WEIGHT: "kg"}.get(field, "mg")


def _unit_list(allowed: dict[str, str]) -> str:
    seen: list[str] = []
    for spelling, unit in allowed.items():
        if unit not in {_KNOWN.get(s) for s in seen}:
            seen.append(spelling)
    return ", ".join(seen)


def _shown(text: object) -> str:
    return "".join(c if c.isprintable() else "?" for c in str(text))[:60]


# --- reading our own data files -------------------------------------------------------------

_REFERENCE_UNITS = _KNOWN | {"mol": "mole", "cm2": "centimeter ** 2"}


def parse_reference(text: str) -> Quantity:
    """Read a quantity written in data/ ("288.81 g/mol", "4.5 mg/kg"): our own files, same spellings."""
    match = re.fullmatch(
        r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-zµ0-9]+)(?:\s*/\s*([A-Za-z0-9]+))?\s*", text
    )
    if not match:
        raise QuantityError(
            f"reference quantity '{text}' is not in the form '<number> <unit>[/<unit>]'"
        )
    number, top, bottom = match.groups()
    try:
        unit = (
            _REFERENCE_UNITS[top]
            if bottom is None
            else f"{_REFERENCE_UNITS[top]} / {_REFERENCE_UNITS[bottom]}"
        )
    except KeyError as exc:
        raise QuantityError(f"reference quantity '{text}': unknown unit {exc}") from None
    return registry().Quantity(Decimal(number), unit)
