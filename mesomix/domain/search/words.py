"""Words as the index reads them: folded text split into words and their letter and digit parts,
abbreviations, and the typo allowance (edit distance, symmetric deletes)."""

from __future__ import annotations

import re
import string
import unicodedata

from mesomix.domain.catalog import fold

MAX_QUERY_CHARS = 256  # longer than any name: the rest of a pasted text is ignored


MAX_TOKENS = 10


# Abbreviations clinicians write on labels and orders; each expands to whole indexed words.
# "vit" for vitamin, "inj" for injection, "amp" for ampoule, "soln" for solution are the usual
# pharmacy shorthand; "hcl" and "na" are the chemical formula's own letters.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "vit": ("vitamin",),
    "vits": ("vitamin",),
    "inj": ("injection",),
    "amp": ("ampoule", "ampule"),
    "amps": ("ampoule", "ampule"),
    "soln": ("solution",),
    "hcl": ("hydrochloride",),
    "na": ("sodium",),
}


_RUN = re.compile(r"[^\W_]+")  # letters and digits of any script


WORD_PARTS = re.compile(r"\d+|[^\W\d_]+")


class _Digits(dict[int, str]):
    """str.translate table reading any Unicode decimal digit ("٣", "३") as its ASCII digit;
    other characters are left alone (a LookupError tells translate so). Never written to."""

    def __missing__(self, code: int) -> str:
        value = unicodedata.decimal(chr(code), None)
        if value is None:
            raise LookupError(code)
        return str(value)


_DIGITS = _Digits()


def _folded(text: str) -> str:
    return text.lower() if text.isascii() else fold(text).translate(_DIGITS)


def _ascii_table(keep: str) -> bytes:
    """bytes.translate table: ASCII letters lower-cased, what is not in `keep` made a space."""
    lowered = [chr(i).lower() for i in range(128)]
    return bytes(ord(c) if c in keep else 32 for c in lowered) + b" " * 128


_ALNUM = _ascii_table(string.ascii_lowercase + string.digits)


_LETTERS = _ascii_table(string.ascii_lowercase)


_NUMBERS = _ascii_table(string.digits)


def word_set(text: str) -> set[str]:
    """The index words of a text: folded runs of letters and digits, and the letter and digit
    parts of each run (the same as the run unless it mixes both). ASCII text, nearly every name,
    takes a path without regular expressions: it is most of the time spent building."""
    if text.isascii():
        raw = text.encode()
        runs = raw.translate(_ALNUM).decode().split()
        found = set(runs)
        for run in runs:
            if not (run.isalpha() or run.isdigit()):  # a mixed run: add every run's parts
                found.update(raw.translate(_LETTERS).decode().split())
                found.update(raw.translate(_NUMBERS).decode().split())
                break
        return found
    folded = fold(text).translate(_DIGITS)
    found = set(_RUN.findall(folded))
    found.update(WORD_PARTS.findall(folded))
    return found


def query_runs(text: str) -> list[str]:
    """The words of a query as typed (mixed runs kept whole), at most MAX_TOKENS, no repeats."""
    return list(dict.fromkeys(_RUN.findall(_folded(text[:MAX_QUERY_CHARS]))))[:MAX_TOKENS]


def distance(a: str, b: str, limit: int, *, prefix: bool = False) -> int:
    """Optimal-string-alignment distance (a swap of neighbours is one edit), or limit + 1 when it
    is larger than `limit`. With `prefix`, the distance from `a` to the closest start of `b`."""
    if not prefix and abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, before[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    best = min(previous) if prefix else previous[-1]
    return best if best <= limit else limit + 1


def symmetric_deletes(word: str, depth: int) -> set[str]:
    """Every string made by deleting up to `depth` letters of `word` (itself included)."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def allowed_edits(token: str) -> int:
    if not token.isalpha() or len(token) < 4:
        return 0
    return 1 if len(token) <= 7 else 2
