"""Text typed by a person, on its way into storage and back out in a message.

Two dangers: text that cannot be stored or looked up at all (a lone surrogate cannot be encoded
as UTF-8 — it arrives from a terminal sending bytes that are not UTF-8 —, and PostgreSQL refuses NUL
in text), and messages that quote typed text back at a terminal that acts on what it is sent (an
ESC sequence recolours or clears the screen, a carriage return or a right-to-left override
rewrites the line, a newline forges a second message, a megabyte of text buries the point).
"""

from __future__ import annotations

import re
import unicodedata

# What a terminal acts on or cannot print: controls (C0, C1, DEL), format characters (bidi
# overrides, zero-width characters, BOM), lone surrogates, line and paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
LONGEST_WORD = 60  # runs of characters without a space longer than this are shortened
LONGEST_MESSAGE = 1_000
_LONG_RUN = re.compile(rf"\S{{{LONGEST_WORD + 20},}}")


def encodable(text: str) -> bool:
    """Whether text can be written as UTF-8 (a lone surrogate cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable(text: str) -> bool:
    """Whether text can be stored and looked up: no lone surrogates, no NUL."""
    return "\x00" not in text and encodable(text)


def _escaped(char: str) -> str:
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def readable(message: str, longest: int = LONGEST_MESSAGE) -> str:
    """A message made safe to show on one line of a terminal: what a terminal would act on is
    written as an escape (\\x1b, \\u202e), very long runs of characters are shortened with their
    length, and the whole is kept within `longest` characters (its end, the advice, kept)."""
    if len(message) <= longest and message.isprintable() and not _LONG_RUN.search(message):
        return message  # the usual case, at C speed: nothing to do
    if len(message) > longest:  # cut before escaping: a megabyte quoted costs no more than a line
        message = _LONG_RUN.sub(_shortened, message)
        if len(message) > 2 * longest:
            message = f"{message[:longest]} … {message[-longest:]}"
    safe = "".join(
        _escaped(c) if unicodedata.category(c) in _UNSAFE_CATEGORIES else c for c in message
    )
    safe = _LONG_RUN.sub(_shortened, safe)
    if len(safe) > longest:
        keep = longest // 2 - 10
        safe = f"{safe[:keep]} … {safe[-keep:]}"
    return safe


def _shortened(run: re.Match[str]) -> str:
    """A long run of characters as its start, its length and its end (a closing quote, say)."""
    text = run.group()
    return f"{text[: LONGEST_WORD - 10]}…[{len(text):,} characters]…{text[-10:]}"


def fits_bigint(value: int) -> bool:
    """Whether an id typed on the command line can be one: the databases' ids are 64-bit."""
    return 0 < value < 2**63


def plain_text(text: str, longest: int, *, lines: bool = False) -> bool:
    """Whether free text (a note, a reason) is at most `longest` characters a person can see:
    printable, with newlines too when `lines`."""
    if len(text) > longest:
        return False
    body = text.replace("\r\n", "\n").replace("\n", "") if lines else text
    return body.isprintable()
