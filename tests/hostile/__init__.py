"""The hostile-input corpus (corpus.toml), read once: one `Hostile` per entry."""

from __future__ import annotations

import codecs
import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).with_name("corpus.toml")


@dataclass(frozen=True)
class Hostile:
    number: int  # its place in the corpus, from 1
    kind: str
    text: str
    amount: str | None = None  # what a legitimate amount must read as; None: refused as an amount

    @property
    def label(self) -> str:
        """How a test names it: the number, the kind and the start of the text, all printable."""
        start = self.text[:24].encode("unicode_escape", "backslashreplace").decode("ascii")
        more = f"…({len(self.text)} chars)" if len(self.text) > 24 else ""
        return f"#{self.number} {self.kind}: '{start}{more}'"


@functools.cache
def corpus() -> tuple[Hostile, ...]:
    entries = tomllib.loads(CORPUS.read_text(encoding="utf-8"))["input"]
    found = []
    for number, entry in enumerate(entries, start=1):
        if "escaped" in entry:  # what TOML cannot hold: lone surrogates
            text = codecs.decode(entry["escaped"], "unicode_escape")
        else:
            text = entry["text"] * entry.get("times", 1)
        found.append(Hostile(number, entry["kind"], text, entry.get("amount")))
    return tuple(found)
