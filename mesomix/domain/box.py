"""Strengths and sizes typed with a product's name, as printed on its box ("Xylocaine 1%
10 mL", "B12 1000 mcg/mL"), and which products have them. Pure: the receive service searches
the catalogue by the rest of the name and weighs what it finds here.

Just over 400 lines, kept whole: one idea (the numbers on a box against a product's facts), whose
public questions (fits, narrowed_by_actives, unsaid_actives, what_does_not_fit) share the same
private readings of names and facts."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, lru_cache

from mesomix.domain.catalog import UL_PER_ML, Catalog, Product, Substance, fold
from mesomix.domain.search import distance
from mesomix.domain.units import (
    UNITS,
    Field,
    Q,
    QuantityError,
    canonical,
    format_amount,
    format_decimal,
    format_quantity,
    parse_quantity,
    strength_canonical,
)

_NUMBER = r"\.?\d+(?:[.,]\d+)*"
# What makes a number on a box a strength or a size: a unit a person may write after it, right or
# wrong ("ML", "units" and "cc" are caught so that the parser refuses them, never skipped). Words
# such as "ampoule", "vial" or "USP" after a number are words of the name.
_UNIT = r"(?:%|(?:mcgs?|µg|μg|ugs?|mgs?|kg|gm|g|mls?|l|cc|ius?|units?|u|meq|mmol)(?![^\W\d_]))"
_BOX_QUANTITY = re.compile(
    rf"(?<![\w.,])(?:1\s*:\s*\d{{1,3}}(?:,\d{{3}})+(?![\d,])|1\s*:\s*\d+"
    rf"|{_NUMBER}\s*{_UNIT}(?:\s*/\s*(?:{_NUMBER}\s*)?{_UNIT})?)",
    re.IGNORECASE,
)

_WORD = re.compile(r"[^\W\d_]+")
Fact = tuple[str, Decimal, str]  # (strength | volume | content, canonical value, dimension)


@dataclass(frozen=True)
class BoxNumber:
    """A strength ("1%", "20 mg/mL", "1:100,000") or a size ("10 mL", "750 mg") typed with a
    product's name, read by the strict parser: `value` per mL for a strength, per container
    for a size, in the dimension's canonical unit."""

    text: str
    kind: str  # strength | volume | content
    value: Decimal
    dimension: str
    per: str = ""  # a strength's amount unit as typed (pint's name), to show others alike

    @property
    def facts(self) -> tuple[Fact, ...]:
        """What a product must have for this number to agree with it. An amount with no
        volume ("B12 1000 mcg") may be the container's content or a strength written short,
        so it agrees with either: both are kept, and several products stay several."""
        fact = (self.kind, self.value, self.dimension)
        return (fact, ("strength", *fact[1:])) if self.kind == "content" else (fact,)

    def shown(self, value: Decimal) -> str:
        """Another value of this kind written the way this one was typed (2%, 1:200,000,
        20 mg/mL, 10 mL), for saying which strengths and sizes there are."""
        if self.kind != "strength":
            return format_amount(value, self.dimension)
        if "%" in self.text:
            return f"{format_decimal(value / 10)}%"
        if ":" in self.text:
            ratio = Decimal(1000) / value
            whole = ratio == ratio.to_integral_value()
            return f"1:{int(ratio):,}" if whole else f"1:{format_decimal(ratio)}"
        return format_quantity(Q(value / UNITS[self.per][1], f"{self.per} / milliliter"))


@dataclass(frozen=True)
class BoxNumbers:
    """A typed product name split into its numbers with units and the rest, the name to search;
    `unreadable` says why a number that looks like a strength or size cannot be read."""

    rest: str
    typed: tuple[BoxNumber, ...] = ()
    unreadable: str = ""

    @cached_property
    def words(self) -> frozenset[str]:
        """The rest's words that may name a substance (three letters or more, folded); worked
        out once, being read for every product weighed."""
        return frozenset(word for word in _WORD.findall(fold(self.rest)) if len(word) >= 3)


def _box_number(written: str) -> BoxNumber:
    """One strength or size, read by the parser every quantity goes through (raises
    QuantityError): % is w/v, g per 100 mL, so "1%" is 10 mg/mL."""
    text = " ".join(written.split())
    if any(mark in text for mark in "/%:"):
        quantity = parse_quantity(text, Field.STRENGTH)
        value, dimension = strength_canonical(quantity)
        per = next(name for name, power in quantity.unit_items() if power > 0)
        return BoxNumber(text, "strength", value, dimension, per)
    value, dimension = canonical(parse_quantity(text, Field.AMOUNT))
    return BoxNumber(text, "volume" if dimension == "volume" else "content", value, dimension)


def box_numbers(text: str) -> BoxNumbers:
    """The strengths and sizes typed with a name, and the name without them. A number with a
    unit that cannot be read exactly ("1,5%", "10 ML", "2.0 mL") is refused with the parser's
    words rather than dropped: dropped, the rest of the name could fit another strength."""
    numbers, rest, start = [], [], 0
    for match in _BOX_QUANTITY.finditer(text):
        try:
            numbers.append(_box_number(match.group()))
        except QuantityError as exc:
            return BoxNumbers(text, unreadable=str(exc))
        rest.append(text[start : match.start()])
        start = match.end()
    rest.append(text[start:])
    words = (word.strip(",;") for word in " ".join(rest).split())
    return BoxNumbers(
        " ".join(word for word in words if any(c.isalnum() for c in word)), tuple(numbers)
    )


@lru_cache(maxsize=4096)
def _named_facts(name: str) -> frozenset[Fact]:
    """The strengths and sizes a product's name states ("8.4% (1 mEq/mL)", "methylparaben
    1 mg/mL"), whoever they are of; read once per name; what the parser cannot read there is
    not a fact."""
    facts = set()
    for match in _BOX_QUANTITY.finditer(name):
        try:
            number = _box_number(match.group())
        except QuantityError:
            continue
        facts.add((number.kind, number.value, number.dimension))
    return frozenset(facts)


def _data_facts(product: Product) -> dict[Fact, frozenset[str]]:
    """A product's strengths per mL, its container volume and what one container holds, each
    with the substances it is the strength or content of."""
    volume = Decimal(product.container_volume_ul) / UL_PER_ML
    facts: dict[Fact, frozenset[str]] = {("volume", volume, "volume"): frozenset()}
    for code, (per_ml, dimension) in product.strength_table.items():
        for fact in (("strength", per_ml, dimension), ("content", per_ml * volume, dimension)):
            facts[fact] = facts.get(fact, frozenset()) | {code}
    return facts


def _agrees(number: BoxNumber, product: Product) -> bool:
    """Whether a product has the strength or size typed: by its data, or as its name states
    it in a unit its data has none of ("8.4% (1 mEq/mL)"). A name's own mg/mL may be an
    excipient's ("benzyl alcohol 15 mg/mL" of folic acid 5 mg/mL), so it is not taken where
    the data gives that kind of value."""
    data = _data_facts(product)
    if any(fact in data for fact in number.facts):
        return True
    known = {(kind, dimension) for kind, _, dimension in data}
    named = _named_facts(product.name)
    return any(fact in named and (fact[0], fact[2]) not in known for fact in number.facts)


def _is_word(typed: str, word: str) -> bool:
    """Whether a typed word is a word of a name: itself, its start (four letters or more), or
    a letter off it (five or more: "lidocane")."""
    return (
        typed == word
        or (len(typed) >= 4 and word.startswith(typed))
        or (len(typed) >= 5 and distance(typed, word, 1, prefix=True) <= 1)
    )


def _name_words(substance: Substance) -> tuple[tuple[str, ...], ...]:
    """The words of each name a person may type for a substance (short name, synonyms)."""
    return _words_of((substance.short_name, *substance.synonyms))


@lru_cache(maxsize=4096)
def _words_of(names: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Folded once per set of names: it is read for every product weighed, every keystroke."""
    return tuple(tuple(_WORD.findall(fold(name))) for name in names)


def _mentions(words: frozenset[str], substance: Substance) -> bool:
    """Whether typed words may name a substance: one word of one of its names ("acid" of
    "adrenaline acid tartrate" too)."""
    return _mentioned(words, (substance.short_name, *substance.synonyms))


@lru_cache(maxsize=8192)
def _mentioned(words: frozenset[str], names: tuple[str, ...]) -> bool:
    """`_mentions`, remembered: the typo allowance costs an edit distance per pair of words."""
    known = {word for name in _words_of(names) for word in name}
    return any(_is_word(typed, name) for typed in words for name in known)


def _names(words: frozenset[str], substance: Substance) -> bool:
    """Whether typed words surely name a substance: every word of one of its names
    ("epinephrine", "adrenaline", "epi"), not a word it shares with others ("acid")."""
    return any(
        name and all(any(_is_word(typed, word) for typed in words) for word in name)
        for name in _name_words(substance)
    )


def _named_actives(numbers: BoxNumbers, product: Product, catalog: Catalog) -> set[str]:
    """The actives of a product with several that the typed name names ("lidocaine" of
    Restylane Kysse, hyaluronic acid with lidocaine); none for a product of one active."""
    if len(product.strength_table) < 2:
        return set()
    words = numbers.words
    return {
        code
        for code in product.strength_table
        if code in catalog.substances and _mentions(words, catalog.substances[code])
    }


def _unpaired(numbers: BoxNumbers, product: Product, catalog: Catalog) -> list[BoxNumber]:
    """The strengths and contents typed that are only another active's than the one named:
    "lidocaine 2%" on Restylane Kysse is its hyaluronic acid's 20 mg/mL, not its lidocaine's
    3 mg/mL. Empty when one of them is a named active's (so "Xylocaine 1% 1:100,000" pairs
    the 1% with lidocaine and lets the epinephrine be), or when no active is named; a value
    only the product's name states (in mEq where the data has mg) is given the benefit."""
    named = _named_actives(numbers, product, catalog)
    typed = [number for number in numbers.typed if number.kind != "volume"]
    if not named or not typed:
        return []
    data = _data_facts(product)
    owners = [
        frozenset().union(*(data[fact] for fact in number.facts if fact in data))
        for number in typed
    ]
    if any(not whose or whose & named for whose in owners):
        return []
    return typed


def fits(numbers: BoxNumbers, product: Product, catalog: Catalog) -> bool:
    """Whether a product has every strength and size typed with its name, each strength the
    strength of the active it is typed beside."""
    return all(_agrees(number, product) for number in numbers.typed) and not _unpaired(
        numbers, product, catalog
    )


def narrowed_by_actives(
    numbers: BoxNumbers, products: Sequence[Product], catalog: Catalog
) -> list[Product]:
    """Of products that agree with the numbers typed, the ones the typed words leave: where one
    product has every active of another and more (Xylocaine 1% with epinephrine beside
    Xylocaine 1%), the words decide — a name of an additional active keeps the product with it
    ("with adrenaline"), and no word that may be one keeps the product without it, since a box
    names its actives. Products that differ otherwise (a preservative, another maker, an
    active each that the other lacks, a product of no active) are all kept: nothing typed
    tells them apart, so they stay several. Never empty when `products` is not."""
    words = numbers.words
    actives = {product.code: frozenset(product.strength_table) for product in products}

    def known(codes: frozenset[str]) -> list[Substance]:
        return [catalog.substances[code] for code in codes if code in catalog.substances]

    def outdone(product: Product) -> bool:
        mine = actives[product.code]
        for other in products:
            theirs = actives[other.code]
            if theirs and theirs < mine:  # mine has more: kept if a word may name it
                extra = known(mine - theirs)
                if len(extra) == len(mine - theirs) and not any(
                    _mentions(words, substance) for substance in extra
                ):
                    return True
            if mine and mine < theirs and any(_names(words, s) for s in known(theirs - mine)):
                return True  # the words name an active this one lacks and the other has
        return False

    return [product for product in products if not outdone(product)]


def unsaid_actives(
    numbers: BoxNumbers,
    product: Product,
    found: Sequence[Product],
    catalog: Catalog,
    said: frozenset[str] = frozenset(),
) -> list[Substance]:
    """The actives of a product that a plainer product the name finds lacks (its epinephrine
    beside plain Xylocaine) and that nothing typed says: no word that may name it, no strength
    typed that is its ("1:200,000"), nor among `said` (substances a word is read as by the
    search, typo and all: "epinefrine"). A box with epinephrine says so, so a product with such an
    active is never chosen by a name that does not say it, even where no plain product has the
    numbers typed ("Xylocaine 1% 30 mL" is not the MPF vial with epinephrine). A product of
    one active, or with none a plainer product lacks, has none."""
    mine = frozenset(product.strength_table)
    extra: set[str] = set()
    for other in found:
        theirs = frozenset(other.strength_table)
        if theirs and theirs < mine:
            extra |= mine - theirs
    if not extra:
        return []
    data = _data_facts(product)
    by_numbers = {
        code for number in numbers.typed for fact in number.facts for code in data.get(fact, ())
    }
    words = numbers.words
    return [
        catalog.substances[code]
        for code in sorted(extra - by_numbers - said)
        if code in catalog.substances and not _mentions(words, catalog.substances[code])
    ]


def unsaid_besides(
    numbers: BoxNumbers, product: Product, catalog: Catalog, substance: Substance
) -> list[str]:
    """The actives of a product other than the substance named that nothing typed says: no
    word that may name it, no strength typed that is its. "lidocaine 1%" says neither the
    epinephrine of Xylocaine with epinephrine nor the hyaluronic acid of a filler."""
    data = _data_facts(product)
    by_numbers = {
        code
        for number in numbers.typed
        for fact in number.facts
        for code in data.get(fact, ())
        if code != substance.code
    }
    words = numbers.words
    return [
        code
        for code in product.strength_table
        if code != substance.code
        and code not in by_numbers
        and not (code in catalog.substances and _mentions(words, catalog.substances[code]))
    ]


def what_does_not_fit(numbers: BoxNumbers, products: Sequence[Product], catalog: Catalog) -> str:
    """Which number typed no product of the name has, and the ones they have: "no Xylocaine
    product is 3%: there are 1% and 2%". The numbers are taken in the order typed, so the
    sentence names the first one that leaves nothing."""
    remaining = list(products)
    for count, number in enumerate(numbers.typed, start=1):
        so_far = BoxNumbers(numbers.rest, numbers.typed[:count])
        kept = [product for product in remaining if fits(so_far, product, catalog)]
        if kept:
            remaining = kept
            continue
        said = " ".join([numbers.rest, *(n.text for n in numbers.typed[: count - 1])])
        verb = "holds" if number.kind == "content" else "is"
        there = _there(_values_like(number, so_far, remaining, catalog))
        others = sorted(
            {
                catalog.substances[code].short_name.lower()
                for product in remaining
                if _agrees(number, product) and _unpaired(so_far, product, catalog)
                for code in _data_facts(product).get(number.facts[0], ())
                if code in catalog.substances
            }
        )
        return (
            f"no {said} product {verb} {number.text}"
            + there
            + (
                f"; {number.text} is the {_listed(others)} of some: type its name with the strength"
                if others
                else ""
            )
        )
    return f"no product '{numbers.rest}' finds has {' '.join(n.text for n in numbers.typed)}"


def _values_like(
    number: BoxNumber, numbers: BoxNumbers, products: Sequence[Product], catalog: Catalog
) -> list[str]:
    """Each product's value of the typed number's kind nearest to it (its lidocaine, not its
    epinephrine, beside a typed 3%; the named active's where the name names one), by its data
    or else its name, smallest first."""
    nearest = set()
    for product in products:
        named = _named_actives(numbers, product, catalog)
        data = {
            fact: whose
            for fact, whose in _data_facts(product).items()
            if not named or not whose or whose & named
        }
        for facts in (data, _named_facts(product.name)):
            values = [
                value
                for kind, value, dimension in facts
                if kind == number.kind and dimension == number.dimension and value > 0
            ]
            if values:
                nearest.add(min(values, key=lambda value: abs(math.log(value / number.value))))
                break
    return list(dict.fromkeys(number.shown(value) for value in sorted(nearest)))


def _there(values: Sequence[str]) -> str:
    if len(values) > 1:
        return f": there are {_listed(values)}"
    return f": there is only {values[0]}" if values else ""


def _listed(items: Sequence[str]) -> str:
    return " and ".join([", ".join(items[:-1]), items[-1]]) if len(items) > 1 else "".join(items)
