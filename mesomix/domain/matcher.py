"""One reading of a name as typed — as on the box, in an order, in a find field — for every
place a person names a product or a substance: Compose, Receive, Inventory's find, `mesomix
search` and `mix check`.

A strength or size typed with the name ("lidocaine 2%", "Xylocaine 2% 10 mL", "1:100,000") is
read by the strict parser (`domain/box.py`) and weighed against each product's data, never
searched as words: the "2" of "2%" is not the "2 mL" of a 1% ampoule. The rest of the name is
searched through the catalogue index (typos forgiven). Pure: the index and the catalogue are
handed in by the catalogue service."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from mesomix.domain.box import (
    BoxNumbers,
    box_numbers,
    fits,
    narrowed_by_actives,
    unsaid_actives,
    unsaid_besides,
    what_does_not_fit,
)
from mesomix.domain.catalog import Catalog, Product, Substance, fold
from mesomix.domain.search import Hit

CANDIDATES_NAMED = 3  # products named when a typed name fits several; the others are counted
CANDIDATE_LINE = 70  # a named product and its code fit one line of a form at 80 columns
PICKABLE = 8  # products offered to pick from when a name fits several
_SEARCHED = 25  # catalogue hits read to tell one product from several
_SEARCHED_BY_NAME = 200  # products of a name weighed against the strength or size typed with it


class Searcher(Protocol):
    """The catalogue index as the matcher uses it (`domain/search.CatalogueIndex`)."""

    def search(self, query: str, limit: int = 5) -> list[Hit]: ...


@dataclass(frozen=True)
class ProductChoice:
    """What a typed product name or code comes to: the one product it means (`code`), or why
    it means none (`problem`), with the products it fits equally well when there are several."""

    typed: str
    code: str = ""
    name: str = ""
    candidates: tuple[tuple[str, str], ...] = ()  # (code, name)
    problem: str = ""


@dataclass(frozen=True)
class Reading:
    """What an ingredient typed with a strength or size comes to: the products it may be drawn
    from (one: that product; several of the same strengths: the planner chooses, as for a
    substance), the substance named when the name is one, or why none (`problem`), with the
    products to pick from (`candidates`, code and name)."""

    typed: str
    substance: Substance | None = None
    products: tuple[Product, ...] = ()
    problem: str = ""
    candidates: tuple[tuple[str, str], ...] = field(default=())


def product_line(name: str, code: str, width: int = CANDIDATE_LINE) -> str:
    """A product named on one line with its whole code (what to type): the name is cut from its
    end, where the bracketed detail is, and never below 24 characters."""
    room = max(24, width - len(code) - 3)
    shown = name if len(name) <= room else name[: room - 1].rstrip() + "…"
    return f"{shown} · {code}"


def rows_of(text: str, width: int) -> int:
    """The rows a text takes wrapped at spaces to `width` columns, as a widget wraps it."""
    return sum(
        len(textwrap.wrap(line, width, break_on_hyphens=False)) or 1 for line in text.split("\n")
    )


def product_lines(lead: str, name: str, code: str, width: int, rows: int, tail: str = "") -> str:
    """A product named whole with its code after `lead` (and `tail` after them), wrapped to at
    most `rows` rows of `width` columns; only a name too long for them is cut at its end, as
    `product_line` cuts it, the lead, the code and the tail kept whole."""
    text = f"{lead}{name} · {code}{tail}"
    room = len(name)
    while rows_of(text, width) > rows and room > 24:
        room -= 1
        text = f"{lead}{product_line(name, code, room + len(code) + 3)}{tail}"
    return text


class Matcher:
    """The one matcher of names, strengths and sizes over a catalogue and its search index.
    Cheap to make; holds nothing but the two, so any thread may use its own."""

    def __init__(self, catalog: Catalog, index: Searcher) -> None:
        self.catalog = catalog
        self.index = index

    # --- a product, as received -----------------------------------------------------------

    def which_product(self, typed: str) -> ProductChoice:
        """The one product a name means (see `StockService.which_product`, which looks the
        code up first): the product's name typed whole, or the one product that fits better
        than every other; a strength or size typed with the name must agree with its data."""
        text = typed.strip()
        hits = self.index.search(text, _SEARCHED)
        products = [hit for hit in hits if hit.kind == "product"]
        wanted = fold(text)
        exact = [hit for hit in products if hit.code.casefold() == text.casefold()]
        exact = exact or [
            hit for hit in products if wanted in (fold(hit.name), fold(hit.name.split(" (", 1)[0]))
        ]
        if not exact:
            numbers = box_numbers(text)
            if numbers.unreadable:
                return ProductChoice(typed, problem=numbers.unreadable)
            if numbers.typed:
                return self._by_numbers(typed, text, numbers)
            if not products:
                return _no_product(typed, text, hits)
            best = [hit for hit in products if hit.score == products[0].score]
            if len(best) == 1:  # a name, not the product's own
                return self._unless_an_active_is_unsaid(typed, text, numbers, best[0], products)
        else:
            best = exact
        if len(best) == 1:
            return ProductChoice(typed, best[0].code, best[0].name)
        counted = (
            f"at least {len(best)}"
            if len(hits) == _SEARCHED and best[-1] == hits[-1]
            else str(len(best))
        )
        return _several(typed, f"'{text}' fits {counted} products — type more, or the code:", best)

    def _by_numbers(self, typed: str, text: str, numbers: BoxNumbers) -> ProductChoice:
        """The product a name means whose strength and size agree with every number typed with
        it. The name alone is searched (numbers typed are not words to match: "1" would fit the
        "10 mL" vial), then each product found is weighed against the numbers: one that agrees
        and fits the name as well as any is chosen; several are named; none says what there is.
        Of several that agree, one with an active more than another ("with epinephrine") is
        kept or left by whether the name typed says that active (`narrowed_by_actives`); when
        that leaves one, it is chosen unless it has an active the name does not say and a
        plainer product the name finds lacks, else every one that agrees is named."""
        catalog = self.catalog
        hits = self.index.search(numbers.rest, _SEARCHED_BY_NAME)
        products = [hit for hit in hits if hit.kind == "product" and hit.code in catalog.products]
        if not products:
            return _no_product(typed, text, hits)
        agreeing = [hit for hit in products if fits(numbers, catalog.products[hit.code], catalog)]
        if len(hits) >= _SEARCHED_BY_NAME:  # more products have this name than were weighed
            if not agreeing:
                return ProductChoice(
                    typed,
                    problem=f"none of the first {len(products)} products '{numbers.rest}' finds "
                    f"is {' '.join(n.text for n in numbers.typed)}: type more of the name, "
                    "or the code",
                )
            return _several(
                typed,
                f"'{text}' fits {len(agreeing)} of the first {len(products)} products "
                f"'{numbers.rest}' finds, and perhaps more — type more of the name, or the code:",
                agreeing,
            )
        left = narrowed_by_actives(numbers, [catalog.products[h.code] for h in agreeing], catalog)
        kept = [hit for hit in agreeing if hit.code in {product.code for product in left}]
        if len(kept) == 1 and kept[0].score == products[0].score:
            return self._unless_an_active_is_unsaid(typed, text, numbers, kept[0], products)
        if len(agreeing) > 1:
            return _several(
                typed, f"'{text}' fits {len(agreeing)} products — type more, or the code:", agreeing
            )
        closest = [catalog.products[hit.code] for hit in products if hit.score == products[0].score]
        problem = what_does_not_fit(numbers, closest, catalog)
        if agreeing:  # one product agrees, but it fits the name less well than others do
            problem += (
                "\none product has these numbers but fits the name less well — "
                f"type its code if it is the one:\n  {product_line(agreeing[0].name, agreeing[0].code)}"
            )
        return ProductChoice(typed, problem=problem)

    def _unless_an_active_is_unsaid(
        self, typed: str, text: str, numbers: BoxNumbers, hit: Hit, hits: Sequence[Hit]
    ) -> ProductChoice:
        """The product a name has come to, unless it has an active that a plainer product the
        name finds lacks and nothing typed says (`unsaid_actives`): then it is refused, named,
        with the words that would choose it — stock booked as a vial with epinephrine and
        sulfite when the box says neither is the worse mistake."""
        product = self.catalog.products[hit.code]
        if len(product.strength_table) < 2:
            return ProductChoice(typed, hit.code, hit.name)
        found = self._found_by_name(numbers, hits)
        unsaid = unsaid_actives(numbers, product, found, self.catalog, self._read_as(numbers))
        if not unsaid:
            return ProductChoice(typed, hit.code, hit.name)
        actives = [substance.short_name.lower() for substance in unsaid]
        said = " and ".join(actives)
        head = (
            f"no plain {numbers.rest} is {' '.join(n.text for n in numbers.typed)}; "
            f"one with {said} has these numbers"
            if numbers.typed
            else f"'{text}' finds one with {said}, and a box with {said} says so"
        )
        return ProductChoice(
            typed,
            problem=f"{head} — type 'with {actives[0]}', or its code, if it is the one:\n"
            f"  {product_line(hit.name, hit.code)}",
        )

    def _read_as(self, numbers: BoxNumbers) -> frozenset[str]:
        """The substances the words typed are read as by the search that forgives typos
        ("epinefrine" is epinephrine): each word's best substance hits."""
        said: set[str] = set()
        for word in numbers.words:
            hits = self.index.search(word, _SEARCHED)
            said |= {
                hit.code for hit in hits if hit.kind == "substance" and hit.score == hits[0].score
            }
        return frozenset(said)

    def _found_by_name(self, numbers: BoxNumbers, hits: Sequence[Hit]) -> list[Product]:
        """The products the name typed finds, and those a word of it finds alone with the
        strengths typed ("Xylocaine" 1% of "Xylocaine MPF 1%", where the catalogue has MPF vials
        with epinephrine only): the plainer products an additional active is weighed against.
        A word's products of other strengths are not ("lidocaine" 2% ampoules beside "Juvederm
        lidocaine 0.3%", whose 0.3% no plain lidocaine has)."""
        catalog = self.catalog
        codes = dict.fromkeys(hit.code for hit in hits if hit.kind == "product")
        strengths = BoxNumbers(
            numbers.rest, tuple(number for number in numbers.typed if number.kind == "strength")
        )
        for word in sorted(numbers.words):
            for hit in self.index.search(word, _SEARCHED_BY_NAME):
                product = catalog.products.get(hit.code) if hit.kind == "product" else None
                if product is not None and fits(strengths, product, catalog):
                    codes[hit.code] = None
        return [catalog.products[code] for code in codes if code in catalog.products]

    # --- an ingredient, as ordered ----------------------------------------------------------

    def ingredient(self, typed: str) -> Reading | None:
        """An ingredient's name typed with a strength or size ("lidocaine 2%", "Xylocaine 2%
        10 mL", "Lidocaine Hydrochloride Injection 2% 2 mL ampoule"); None for a name typed
        without one (the planner reads those as names, whole). A substance's name with numbers
        is that substance from its products that have them (a strength typed is the
        substance's own, matched whole); another name is the product it means, or the
        products it fits when they all hold the same strengths. A strength no product has is
        never read as another: the reading says which there are."""
        numbers = box_numbers(typed.strip())
        if numbers.unreadable:
            return Reading(typed, problem=numbers.unreadable)
        if not numbers.typed:
            return None
        named = self.catalog.resolve(numbers.rest) if numbers.rest else None
        if isinstance(named, Substance):
            return self._substance_with(typed, named, numbers)
        choice = self.which_product(typed)
        if choice.code:
            return Reading(typed, products=(self.catalog.products[choice.code],))
        found = [
            self.catalog.products[c] for c, _ in choice.candidates if c in self.catalog.products
        ]
        if len(found) > 1 and len({tuple(p.strength_table.items()) for p in found}) == 1:
            return Reading(typed, products=tuple(found), candidates=choice.candidates)
        return Reading(typed, problem=choice.problem, candidates=choice.candidates[:PICKABLE])

    def readings(self, names: Iterable[str]) -> dict[str, Reading]:
        """The ingredients typed with a strength or size among `names`, read once each (the
        planner, the stock it needs and the dispense's re-check all use the same reading);
        a name the catalogue knows whole is left to the planner."""
        found: dict[str, Reading] = {}
        for name in names:
            if name in found or not name.strip() or self.catalog.meanings(name):
                continue
            reading = self.ingredient(name)
            if reading is not None:
                found[name] = reading
        return found

    def _substance_with(self, typed: str, substance: Substance, numbers: BoxNumbers) -> Reading:
        """A substance with the strength or size typed: its products that have them, without
        an active the name does not say (lidocaine 1% is not the vial with epinephrine, nor a
        filler with 0.3 % lidocaine). None: which strengths and sizes there are."""
        supplying = [p for p in self.catalog.products_supplying(substance.code) if not p.diluent]
        plain = [p for p in supplying if not unsaid_besides(numbers, p, self.catalog, substance)]
        agreeing = [p for p in plain if fits(numbers, p, self.catalog)]
        kept = narrowed_by_actives(numbers, agreeing, self.catalog)
        if kept:
            return Reading(
                typed,
                substance,
                tuple(kept),
                candidates=tuple((p.code, p.name) for p in kept[:PICKABLE]),
            )
        there = what_does_not_fit(numbers, plain, self.catalog)
        others = [p for p in supplying if p not in plain and fits(numbers, p, self.catalog)]
        also = (
            f"; {len(others)} with other actives {'has' if len(others) == 1 else 'have'} it"
            if others
            else ""
        )
        return Reading(
            typed,
            substance,
            problem=there + also,
            candidates=tuple((p.code, p.name) for p in others[:PICKABLE]),
        )

    # --- what a person looks for -------------------------------------------------------------

    def search(self, typed: str, limit: int = 5) -> tuple[list[Hit], str]:
        """The catalogue search, with a strength or size typed matched whole: only products
        that have every number typed are listed (a substance has no strength of its own), and
        when none has, the second value says which there are."""
        numbers = box_numbers(typed.strip())
        if numbers.unreadable:
            return [], numbers.unreadable
        if not numbers.typed:
            return self.index.search(typed, limit), ""
        if not numbers.rest:
            return [], "type a name with the strength or size"
        hits = self.index.search(numbers.rest, _SEARCHED_BY_NAME)
        products = [h for h in hits if h.kind == "product" and h.code in self.catalog.products]
        agreeing = [
            h for h in products if fits(numbers, self.catalog.products[h.code], self.catalog)
        ]
        if agreeing:
            return agreeing[:limit], ""
        if not products:
            return [], f"nothing in the catalogue looks like '{numbers.rest}'"
        closest = [self.catalog.products[h.code] for h in products if h.score == products[0].score]
        return [], what_does_not_fit(numbers, closest, self.catalog)

    def product_codes(self, typed: str) -> frozenset[str] | None:
        """The products a find field's text means by name, strength and size (a find lists their
        lots); None when the text has no strength or size (the find then reads words)."""
        numbers = box_numbers(typed.strip())
        if numbers.unreadable or not numbers.typed:
            return None
        if not numbers.rest:
            return frozenset(
                p.code for p in self.catalog.products.values() if fits(numbers, p, self.catalog)
            )
        hits = self.index.search(numbers.rest, _SEARCHED_BY_NAME)
        return frozenset(
            h.code
            for h in hits
            if h.kind == "product"
            and h.code in self.catalog.products
            and fits(numbers, self.catalog.products[h.code], self.catalog)
        )


def _no_product(typed: str, text: str, hits: Sequence[Hit]) -> ProductChoice:
    if hits:
        return ProductChoice(
            typed,
            problem=f"'{text}' finds the substance {hits[0].name}, not a product: "
            "stock is received as the product on the box — type its name or code",
        )
    return ProductChoice(
        typed, problem=f"no product matches '{text}': type the name on the box, or the code"
    )


def _several(typed: str, head: str, hits: Sequence[Hit]) -> ProductChoice:
    """A text that fits several products chooses none: the first few named, one a line."""
    named = [f"  {product_line(hit.name, hit.code)}" for hit in hits[:CANDIDATES_NAMED]]
    more = [f"  … and {len(hits) - len(named)} more"] if len(hits) > len(named) else []
    return ProductChoice(
        typed,
        candidates=tuple((hit.code, hit.name) for hit in hits),
        problem="\n".join([head, *named, *more]),
    )
