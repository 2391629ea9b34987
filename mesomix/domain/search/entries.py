"""What is indexed (a substance's or a product's entry) and what a search returns (a hit and how
it matched)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from mesomix.domain.catalog import Substance

Kind = Literal["substance", "product"]


Match = Literal["exact", "synonym", "prefix", "typo"]


EXACT = 0  # the word itself, in the entry's name or code


SYNONYM = 1  # the word among the entry's synonyms, or an abbreviation of one of its words


PREFIX = 2  # the start of one of the entry's own words (3: of its synonyms)


TYPO = 2  # plus 2 per edit: one edit costs 4, two cost 6 (plus 1 when only the start matched)


@dataclass(frozen=True, slots=True)
class SearchEntry:
    """One thing to find: its own name and code, and the other words it answers to (synonyms,
    the names of the substances a product carries)."""

    code: str
    kind: Kind
    name: str
    words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    """A found entry. `match` is how its weakest query word matched (exact, synonym, prefix,
    typo); `score` is the sum of the words' penalties, lower is better."""

    code: str
    kind: Kind
    name: str
    match: Match
    score: int


def substance_entry(substance: Substance) -> SearchEntry:
    """A substance answers to its name, code and synonyms."""
    return SearchEntry(substance.code, "substance", substance.name, substance.synonyms)


def carried_words(carries: Iterable[Substance]) -> tuple[str, ...]:
    """The words a product answers to through the substances it carries: their names without
    the parenthetical detail, and their synonyms (so "vit c" finds ascorbic-acid ampoules
    whatever their brand)."""
    return tuple(word for s in carries for word in (s.short_name, *s.synonyms))


def product_entry(code: str, name: str, carries: Iterable[Substance]) -> SearchEntry:
    """A product answers to its own name and code, and to what it carries."""
    return SearchEntry(code, "product", name, carried_words(carries))


def match_of(penalty: int) -> Match:
    if penalty == EXACT:
        return "exact"
    if penalty == SYNONYM:
        return "synonym"
    return "prefix" if penalty <= PREFIX + 1 else "typo"
