"""What a barcode scanner types, read in one place: a GS1 element string (from a DataMatrix on a
box or a vial: GTIN, expiry, lot, serial), with or without its symbology identifier (`]d2`,
`]C1`, `]Q3`), its variable-length fields ended by the group separator (ASCII 29, or the
replacement character a scanner is set to type for it), or a GS1 Digital Link URL.

The parsing is the `biip` library's (the GS1 General Specifications' application identifiers,
check digits, dates — a day 00 is the month's last day); this module says what mesomix needs of
a scan and refuses, in words, one that is half-read or garbled: it is never read as a partial
lot number. Pure: no database, no clock. biip is imported when a scan is first read, not with
this module: every text field knows the separator's symbol from here, and the sign-in screen's
first frame should not wait a tenth of a second for a parser it does not use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from mesomix.errors import Refused

GS = "\x1d"
# What scanners are commonly set to type for the group separator when the terminal would not
# pass ASCII 29 through: the Unicode symbol for it, and a written marker.
REPLACEMENTS = ("\u241d", "<GS>")
LONGEST = 200  # a DataMatrix on a medicine box holds far less

_SYMBOLOGY = re.compile(r"^\][A-Za-z][0-9]")
_DIGITAL_LINK = re.compile(r"^https?://[^/\s]+(/[^\s]*)?/01/\d{8,14}", re.IGNORECASE)
_ELEMENTS = re.compile(r"^(01|02)\d{14}")


class ScanError(Refused):
    """A scan that cannot be read whole: nothing is taken from it."""


@dataclass(frozen=True)
class Scan:
    gtin: str  # 14 digits, check digit verified
    lot: str  # "" when the code carries none
    expiry: date | None
    serial: str  # "" when the code carries none


def looks_like_scan(text: str) -> bool:
    """Whether typed text has a scan's shape rather than a person's typing: a symbology
    identifier, a group separator, a GS1 Digital Link, or a GTIN's application identifier
    followed by fourteen digits and more."""
    text = text.strip()
    if any(mark in text for mark in (GS, *REPLACEMENTS)):
        return True
    return bool(
        _SYMBOLOGY.match(text)
        or _DIGITAL_LINK.match(text)
        or (_ELEMENTS.match(text) and len(text) > 16)
    )


def read_scan(text: str) -> Scan:
    """The GTIN, lot, expiry and serial a scan carries, or ScanError saying why not."""
    raw = text.strip()
    if not raw:
        raise ScanError("nothing was scanned")
    if len(raw) > LONGEST or not all(c.isprintable() or c == GS for c in raw):
        raise ScanError("the scan holds characters no GS1 code has: scan it again")
    for mark in REPLACEMENTS:
        raw = raw.replace(mark, GS)
    from biip import ParseConfig, ParseError, parse  # imported when a scan is read: see above
    from biip.gtin import Gtin

    try:
        result = parse(raw, config=ParseConfig(separator_chars=[GS]))
    except ParseError as exc:
        raise ScanError(f"the scan could not be read ({exc}): scan it again") from None
    link = result.gs1_digital_link_uri
    message = result.gs1_message or (link.as_gs1_message() if link else None)
    if message is None:
        raise ScanError(
            f"'{_shown(raw)}' is not a GS1 code with a GTIN (01): a half-read or garbled scan, "
            "or typing; scan it again"
        )
    found = {element.ai.ai: element for element in message.element_strings}
    gtin = found.get("01") or found.get("02")
    if gtin is None:
        raise ScanError(f"'{_shown(raw)}' carries no GTIN (01): it names no product")
    if gtin.gtin_error:
        raise ScanError(f"the scanned GTIN {gtin.value} fails its check digit: scan it again")
    expiry = found.get("17")
    if expiry is not None and expiry.date is None:
        raise ScanError(f"the scanned expiry {expiry.value} is not a date: scan it again")
    return Scan(
        gtin=Gtin.parse(gtin.value).as_gtin_14(),
        lot=found["10"].value if "10" in found else "",
        expiry=expiry.date if expiry is not None else None,
        serial=found["21"].value if "21" in found else "",
    )


def typed_gtin(text: str) -> str:
    """A GTIN typed (or scanned from a linear barcode) on its own — 8, 12, 13 or 14 digits —
    as the 14 digits a scan carries, or ScanError saying what is wrong with it."""
    digits = text.strip()
    if not digits.isdigit() or not digits.isascii() or len(digits) not in (8, 12, 13, 14):
        raise ScanError(f"'{text.strip()}' is not a GTIN: 8, 12, 13 or 14 digits")
    from biip import ParseError
    from biip.gtin import Gtin

    try:
        return Gtin.parse(digits).as_gtin_14()
    except ParseError:
        raise ScanError(f"the GTIN {digits} fails its check digit: a digit is wrong") from None


def gtin_in(text: str) -> str:
    """The GTIN in what was typed or scanned: a whole scan of a box's code, or the digits
    printed under its bar code."""
    return read_scan(text).gtin if looks_like_scan(text) else typed_gtin(text)


def _shown(raw: str) -> str:
    """The scan as a person can read it back: the separator shown as <GS>."""
    return raw.replace(GS, "<GS>")
