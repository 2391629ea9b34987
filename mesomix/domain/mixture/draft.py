"""The draft as typed, and what its typed names mean: the input every plan starts from, read by
the screen, the command line, formulas and the dispense, none of which needs how a plan is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mesomix.domain.catalog import Catalog, Product, Substance
from mesomix.domain.matcher import Reading

DEFAULT_DILUENT = "sodium_chloride_09_10ml_vial"


@dataclass(frozen=True)
class DraftIngredient:
    what: str  # a substance or a product: name, synonym or code, as typed
    amount: str  # as typed: "40 mg", "0.5 mL", "1000 IU"
    product: str | None = None  # a product code chosen explicitly, if any


@dataclass(frozen=True)
class DraftMixture:
    ingredients: tuple[DraftIngredient, ...]
    final_volume: str = ""  # as typed; empty means "the sum of what is drawn"
    diluent: str | None = None  # product code for the q.s.; None: the catalogue's default
    patient: str | None = None  # patient reference
    storage: str = "room"  # room | refrigerated, until it is given
    category: str = "category_1"  # compounding category (data/beyond_use.toml)
    purpose: str = ""  # what the mixture treats, one of PURPOSES; empty when not said
    prescriber: str | None = None  # user name of the practitioner who ordered it
    formula_version: int | None = None  # id of the formula version it was started from
    course: int | None = None  # the course a session of which it is made for
    session: int | None = None  # that session's number within the course
    scans: tuple[str, ...] = ()  # the vials scanned at the bench, as the scanner typed them


# What a mesotherapy mixture is for, as the clinic's reports count it.
PURPOSES = (
    "facial rejuvenation",
    "skin quality",
    "hair loss",
    "cellulite",
    "localised fat",
    "pain",
    "sports injury",
    "other",
)


@dataclass(frozen=True)
class ResolvedDraft:
    """A draft whose typed names were read once against the catalogue: what each means (several
    things when it is ambiguous, none when unknown) and, for a name typed with a strength or
    size, the matcher's reading. The dispense locks the lots of its candidates and plans with
    the same reading, so a name is never resolved twice."""

    draft: DraftMixture
    meanings: Mapping[str, tuple[Substance | Product, ...]]  # by the text typed
    readings: Mapping[str, Reading] = field(default_factory=dict)

    def meaning(self, typed: str) -> Substance | Product | None:
        """The one thing a typed name means; None when it means none or several."""
        found = self.meanings.get(typed, ())
        return found[0] if len(found) == 1 else None

    def unknown(self) -> list[str]:
        """The names the catalogue does not know whole: for the matcher to read."""
        return [typed for typed, found in self.meanings.items() if not found]

    def candidates(self, catalog: Catalog) -> set[str]:
        """Every product the plan might draw from: whose stock it needs to know."""
        codes = {self.draft.diluent or DEFAULT_DILUENT}
        for item in self.draft.ingredients:
            if item.product:
                codes.add(item.product)
                continue
            found = self.meaning(item.what) if item.what.strip() else None
            reading = self.readings.get(item.what) if found is None else None
            if reading is not None:
                codes.update(p.code for p in reading.products)
                continue
            if isinstance(found, Product):
                codes.add(found.code)
            elif found is not None:
                codes.update(p.code for p in catalog.products_supplying(found.code))
                codes.update(p.code for p in catalog.products_carrying(found.code))
        return codes


def resolve_draft(
    draft: DraftMixture, catalog: Catalog, readings: Mapping[str, Reading] | None = None
) -> ResolvedDraft:
    """Each name typed without a chosen product, looked up once (`readings`: the matcher's, for
    names typed with a strength or size; `ResolvedDraft.unknown` says which to read)."""
    meanings = {
        item.what: tuple(catalog.meanings(item.what))
        for item in draft.ingredients
        if not item.product and item.what.strip()
    }
    return ResolvedDraft(draft, meanings, readings or {})
