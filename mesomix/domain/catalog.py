"""Substances, allergen groups and products: what the clinic knows about what is on its shelf."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from functools import cached_property, lru_cache

from mesomix.domain.course.limits import CourseLimit
from mesomix.domain.units import UNITS, Quantity, canonical, strength_canonical


class Measure(Enum):
    """How a substance is dosed: by mass, or (enzymes) by biological activity in IU only."""

    MASS = "mass"
    ACTIVITY = "activity"


class ContainerKind(Enum):
    SINGLE_DOSE = "single_dose"
    MULTI_DOSE = "multi_dose"


@dataclass(frozen=True)
class IUDefinition:
    """Mass of one international unit of this substance, with where that factor comes from."""

    mass: Quantity
    source: str


@dataclass(frozen=True)
class Elemental:
    """The element a salt supplies (zinc sulfate heptahydrate supplies zinc), atoms per formula unit."""

    substance: str
    atoms: int
    source: str


@dataclass(frozen=True)
class DoseLimit:
    """A published maximum; `condition` tells apart e.g. lidocaine with and without epinephrine."""

    max: Quantity | None
    per_kg: Quantity | None
    condition: str | None
    per: str
    source: str
    note: str = ""

    @cached_property
    def max_canonical(self) -> tuple[Decimal, str] | None:
        """(value, dimension) of the absolute maximum, e.g. (Decimal(300), 'mass') for 300 mg."""
        return canonical(self.max) if self.max is not None else None

    @cached_property
    def per_kg_canonical(self) -> tuple[Decimal, str] | None:
        """(value per kg of body weight, dimension), e.g. (Decimal('4.5'), 'mass') for 4.5 mg/kg."""
        if self.per_kg is None:
            return None
        items = dict(self.per_kg.unit_items())
        top = next(name for name, power in items.items() if power > 0)
        bottom = next(name for name, power in items.items() if power < 0)
        dimension, factor = UNITS[top]
        weight_dimension, weight_factor = UNITS[bottom]
        if weight_dimension != "mass":
            raise ValueError(f"a per-kg limit must be per body mass, not {self.per_kg}")
        # per gram of body weight would be per_kg / 1000 g: scale to per kilogram
        return Decimal(self.per_kg.magnitude) * factor * Decimal(1000000) / weight_factor, dimension


SNOMED_CT = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
KNOWN_SYSTEMS = {SNOMED_CT: "SNOMED CT", RXNORM: "RxNorm"}  # terminologies mesomix reads codes of


@dataclass(frozen=True)
class Coding:
    """A code in another system (SNOMED CT, RxNorm...), as FHIR carries it."""

    system: str
    code: str
    display: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.system, self.code

    def __str__(self) -> str:
        system = KNOWN_SYSTEMS.get(self.system, self.system)
        return f"{self.display} ({system} {self.code})" if self.display else f"{system} {self.code}"


@dataclass(frozen=True)
class NoKnownAllergy:
    """A code that states no allergy of a kind is known (no known drug allergy): never an
    allergen. A real allergy of that kind sets it aside: any allergy (`category` and `group`
    empty), one of a FHIR category ("medication"), or one that concerns an allergen group."""

    coding: Coding
    name: str  # in words, as the Patients screen shows it
    category: str = ""
    group: str = ""
    source: str = ""
    abbreviations: tuple[str, ...] = ()  # what a person types for it: "NKDA"


@dataclass(frozen=True)
class UnrelatedAllergen:
    """An allergen from another system's record that relates to nothing mesomix holds (no
    substance, no allergen group, no cross-sensitivity): an allergy coded to it is a note."""

    coding: Coding
    why: str
    source: str = ""


@dataclass(frozen=True)
class Substance:
    code: str
    name: str
    synonyms: tuple[str, ...] = ()
    role: str = "active"  # active | excipient | diluent
    category: str = ""
    measure: Measure = Measure.MASS
    molar_mass: Quantity | None = None
    valence: int | None = None
    iu: IUDefinition | None = None
    elemental: Elemental | None = None
    allergen_groups: tuple[str, ...] = ()
    dose_limits: tuple[DoseLimit, ...] = ()
    course_limits: tuple[CourseLimit, ...] = ()  # across a course's sessions (domain/course)
    codes: tuple[Coding, ...] = ()  # the same substance in SNOMED CT, RxNorm...

    def names(self) -> tuple[str, ...]:
        return (self.name, self.code, *self.synonyms)

    @property
    def short_name(self) -> str:
        """The name without its parenthetical detail, for plans and labels."""
        return self.name.split(" (", 1)[0]

    @cached_property
    def iu_mg(self) -> Decimal | None:
        """Milligrams in one IU, worked out once."""
        return canonical(self.iu.mass)[0] if self.iu else None

    @cached_property
    def molar_mass_g(self) -> Decimal | None:
        """Molar mass in g/mol (numerically mg/mmol), worked out once."""
        if self.molar_mass is None:
            return None
        return Decimal(self.molar_mass.to("gram / mole").magnitude)


@dataclass(frozen=True)
class AllergenGroup:
    code: str
    name: str
    description: str = ""
    cross_reacts_with: tuple[str, ...] = ()
    does_not_cross_react_with: tuple[str, ...] = ()
    triggers: tuple[str, ...] = ()
    source: str = ""
    codes: tuple[Coding, ...] = ()  # the same group in SNOMED CT, RxNorm...


@dataclass(frozen=True)
class Strength:
    """How much of one substance one mL of a product holds (after reconstitution for a powder)."""

    substance: str
    per_ml: Quantity  # mg/mL, IU/mL, mEq/mL ...


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    container: ContainerKind
    container_volume_ul: int  # microlitres: the ledger's unit for every product
    strengths: tuple[Strength, ...] = ()
    excipients: tuple[str, ...] = ()
    form: str = "solution"  # solution | powder
    reconstitute_with: str | None = None
    diluent: bool = False
    pack_size: int = 1
    in_use_days: int | None = None
    latex_stopper: bool = False
    source: str = ""
    not_for_admixture: str = ""  # the label's own words against diluting or mixing it, if any

    @property
    def is_multi_dose(self) -> bool:
        return self.container is ContainerKind.MULTI_DOSE

    def strength_of(self, substance: str) -> Strength | None:
        return next((s for s in self.strengths if s.substance == substance), None)

    @cached_property
    def strength_table(self) -> dict[str, tuple[Decimal, str]]:
        """substance code -> (amount per mL in the canonical unit, dimension), worked out once."""
        return {s.substance: strength_canonical(s.per_ml) for s in self.strengths}


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced: how names are compared. A name is folded each
    time a mixture is checked or dispensed, so the short ones are remembered."""
    return _fold_short(text) if len(text) <= _REMEMBERED else _fold(text)


_REMEMBERED = 120  # characters: any name or code; a pasted page is folded, not kept
_NAME_WORDS = re.compile(r"[^\W_]+")  # the words of a name


@lru_cache(maxsize=4096)
def _fold_short(text: str) -> str:
    return _fold(text)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().replace("-", " ").replace("_", " ").split())


@dataclass(frozen=True)
class Catalog:
    """Everything the domain needs to read a mixture; built once and shared read-only."""

    substances: Mapping[str, Substance]
    products: Mapping[str, Product]
    groups: Mapping[str, AllergenGroup] = field(default_factory=dict)
    no_known: Mapping[tuple[str, str], NoKnownAllergy] = field(default_factory=dict)
    unrelated: Mapping[tuple[str, str], UnrelatedAllergen] = field(default_factory=dict)
    # Indexes __post_init__ builds from the fields above: neither arguments nor compared.
    _substance_names: dict[str, set[str]] = field(init=False, repr=False, compare=False)
    _product_names: dict[str, set[str]] = field(init=False, repr=False, compare=False)
    _supplying: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    _carrying: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    _coded: dict[tuple[str, str], tuple[str | None, str | None]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # A name may mean several things ("B12", "vitamin E"): keep every meaning, guess none.
        substances: dict[str, set[str]] = {}
        for substance in self.substances.values():
            for name in substance.names():
                substances.setdefault(fold(name), set()).add(substance.code)
        products: dict[str, set[str]] = {}
        for product in self.products.values():
            for name in (product.code, product.name):
                products.setdefault(fold(name), set()).add(product.code)
        supplying: dict[str, list[str]] = {}
        carrying: dict[str, list[str]] = {}  # element -> products of one of its salts
        for product in self.products.values():
            for strength in product.strengths:
                supplying.setdefault(strength.substance, []).append(product.code)
                salt = self.substances.get(strength.substance)
                if salt is not None and salt.elemental is not None:
                    carrying.setdefault(salt.elemental.substance, []).append(product.code)
        object.__setattr__(self, "_substance_names", substances)
        object.__setattr__(self, "_product_names", products)
        object.__setattr__(self, "_supplying", {k: tuple(v) for k, v in supplying.items()})
        object.__setattr__(self, "_carrying", {k: tuple(v) for k, v in carrying.items()})
        coded: dict[tuple[str, str], tuple[str | None, str | None]] = {}
        for substance in self.substances.values():
            coded.update((c.key, (substance.code, None)) for c in substance.codes)
        for group in self.groups.values():
            coded.update((c.key, (None, group.code)) for c in group.codes)
        object.__setattr__(self, "_coded", coded)

    def by_code(self, coding: Coding) -> tuple[str | None, str | None] | None:
        """(substance, None) or (None, group) that a code of another system means, if any."""
        return self._coded.get(coding.key)

    @cached_property
    def names_written(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Every substance name and synonym and every product name, folded, to the name as
        written and its words: what a name typed in part or misspelt is compared with, worked
        out once rather than at each unknown name."""
        names = {fold(n): n for s in self.substances.values() for n in (s.name, *s.synonyms)}
        names |= {fold(p.name): p.name for p in self.products.values()}
        return {key: (name, tuple(_NAME_WORDS.findall(key))) for key, name in names.items()}

    def meanings(self, typed: str) -> list[Substance | Product]:
        """Everything a typed name can mean: substances first (they win over a product of the
        same name), several only when the name is ambiguous."""
        key = fold(typed)
        codes = self._substance_names.get(key)
        if codes:
            return [self.substances[c] for c in sorted(codes)]
        return [self.products[c] for c in sorted(self._product_names.get(key, ()))]

    def resolve(self, typed: str) -> Substance | Product | None:
        """The one substance or product a name, code or synonym means; None if none or several."""
        found = self.meanings(typed)
        return found[0] if len(found) == 1 else None

    def substance(self, code: str) -> Substance:
        try:
            return self.substances[code]
        except KeyError:
            raise KeyError(f"unknown substance '{code}'") from None

    def product(self, code: str) -> Product:
        try:
            return self.products[code]
        except KeyError:
            raise KeyError(f"unknown product '{code}'") from None

    def products_supplying(self, substance: str) -> tuple[Product, ...]:
        codes: Iterable[str] = self._supplying.get(substance, ())
        return tuple(self.products[c] for c in codes)

    def products_carrying(self, element: str) -> tuple[Product, ...]:
        """Products whose strength is stated as a salt of this element (cupric chloride for
        copper): they supply the element through the salt."""
        codes: Iterable[str] = self._carrying.get(element, ())
        return tuple(self.products[c] for c in codes)

    def salt_of(self, element: str, product: Product) -> Substance | None:
        """The salt of an element a product's strength is stated in, if any."""
        for code in product.strength_table:
            salt = self.substances.get(code)
            if salt is not None and salt.elemental and salt.elemental.substance == element:
                return salt
        return None

    def diluents(self) -> tuple[Product, ...]:
        return tuple(p for p in self.products.values() if p.diluent)


UL_PER_ML = Decimal(1000)
