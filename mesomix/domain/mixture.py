"""Draft mixtures and their plans: what to draw from which product, and what is wrong with it.

The draft holds text exactly as typed, so the same function serves the live screen (findings as
you type) and the dispense service (which re-runs it inside its transaction).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from functools import cached_property

from mesomix.domain.catalog import Catalog, Product, Substance, fold
from mesomix.domain.conversions import (
    ConversionError,
    element_per_ml,
    element_volume_ml,
    measure_as,
    volume_ml,
)
from mesomix.domain.findings import Finding, Severity
from mesomix.domain.matcher import Reading
from mesomix.domain.units import (
    CANONICAL,
    Field,
    Q,
    Quantity,
    QuantityError,
    canonical,
    format_decimal,
    format_quantity,
    parse_quantity,
)

MEASURABLE_UL = 10  # 0.01 mL: the finest graduation of a 1 mL syringe
ROUNDING_WARN_PERCENT = Decimal(2)  # rounding to the syringe moves the dose this much: warn
ROUNDING_BLOCK_PERCENT = Decimal(10)  # ... this much: block
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
class Delivered:
    substance: Substance
    value: Decimal  # in the canonical unit of its dimension (mg, IU, ...)
    dimension: str
    final_ul: int  # the mixture's final volume, for the concentration

    @cached_property
    def amount(self) -> Quantity:
        """The amount as a quantity, built only when someone looks (the check itself needs none)."""
        return Q(self.value, CANONICAL[self.dimension])

    @property
    def concentration(self) -> Quantity | None:
        """Strength of this substance in the final mixture (worked out only when shown)."""
        if not self.final_ul:
            return None
        return self.amount / Q(Decimal(self.final_ul) / 1000, "milliliter")


@dataclass(frozen=True)
class Draw:
    """One syringe's worth: a volume from one product (the lots are chosen when dispensing)."""

    ingredient: int | None  # position in the draft; None for the diluent q.s.
    product: Product
    volume_ul: int
    containers: int  # containers this volume spans when drawn from fresh ones
    delivered: tuple[Delivered, ...] = ()

    @property
    def volume(self) -> Quantity:
        return Q(Decimal(self.volume_ul) / 1000, "milliliter")


@dataclass(frozen=True)
class Plan:
    draws: tuple[Draw, ...]
    final_volume_ul: int
    findings: tuple[Finding, ...]
    sums: Mapping[str, tuple[Decimal, str]] = field(
        default_factory=dict
    )  # code -> (value, dimension)
    # The final volume as asked (None when none was given, or it could not be read) and what the
    # ingredients drawn add up to: `final_volume_ul` is the larger, the mixture as it would be.
    asked_ul: int | None = None
    ingredients_ul: int = 0

    @cached_property
    def totals(self) -> dict[str, Quantity]:
        """Each substance's amount in the whole mixture, as quantities."""
        return {
            code: Q(value, CANONICAL[dimension]) for code, (value, dimension) in self.sums.items()
        }

    @property
    def blocked(self) -> bool:
        return any(f.severity is Severity.BLOCK for f in self.findings)

    @property
    def final_volume(self) -> Quantity:
        return Q(Decimal(self.final_volume_ul) / 1000, "milliliter")

    def needs_by_product(self) -> dict[str, int]:
        """Microlitres to draw per product code, over every draw."""
        needs: dict[str, int] = {}
        for draw in self.draws:
            needs[draw.product.code] = needs.get(draw.product.code, 0) + draw.volume_ul
        return needs


def to_ul(volume: Quantity) -> Decimal:
    millilitres, _ = canonical(volume)
    return millilitres * 1000


def round_draw(microlitres: Decimal) -> int:
    """Round a volume to what a syringe measures (0.01 mL)."""
    steps = (microlitres / MEASURABLE_UL).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return int(steps) * MEASURABLE_UL


def containers_for(product: Product, volume_ul: int) -> int:
    return int((Decimal(volume_ul) / product.container_volume_ul).to_integral_value(ROUND_CEILING))


_WORDS = re.compile(r"[^\W_]+")  # words of a name, for a name typed in part


class _Planner:
    def __init__(
        self,
        catalog: Catalog,
        stock: Mapping[str, int] | None,
        avoid: frozenset[str],
        named: ResolvedDraft,
    ) -> None:
        self.catalog = catalog
        self.stock = stock
        self.avoid = avoid  # substances this patient reacts to: products without them come first
        self.named = named  # what each typed name means, read once for the whole dispense
        self.findings: list[Finding] = []

    def add(
        self,
        severity: Severity,
        code: str,
        message: str,
        ingredient: int | None = None,
        overridable: bool = False,
    ) -> None:
        self.findings.append(Finding(severity, code, message, ingredient, overridable))

    def ingredient(self, index: int, item: DraftIngredient) -> Draw | None:
        label = f"ingredient {index + 1}"
        if not item.what.strip():
            self.add(
                Severity.BLOCK, "ingredient.missing", f"{label}: which substance or product?", index
            )
            return None
        target = self.catalog.products.get(item.product) if item.product else None
        if item.product and target is None:
            self.add(
                Severity.BLOCK,
                "product.unknown",
                f"{label}: unknown product '{item.product}'",
                index,
            )
            return None
        resolved = target or self.named.meaning(item.what)
        reading = self.named.readings.get(item.what) if resolved is None else None
        if reading is not None:
            return self._from_reading(index, item, reading)
        if resolved is None:
            meanings = self.named.meanings.get(item.what, ())
            if len(meanings) > 1:
                self.add(
                    Severity.BLOCK,
                    "ingredient.ambiguous",
                    f"'{item.what.strip()}' may mean {' or '.join(m.name for m in meanings)}: "
                    "type the full name",
                    index,
                )
            else:
                self.add(Severity.BLOCK, "ingredient.unknown", self._unknown(item.what), index)
            return None
        try:
            amount = parse_quantity(item.amount, Field.AMOUNT)
        except QuantityError as exc:
            self.add(Severity.BLOCK, "amount.invalid", f"{resolved.name}: {exc}", index)
            return None
        if isinstance(resolved, Product):
            return self._from_product(index, resolved, amount)
        return self._from_substance(index, resolved, amount)

    def _from_reading(self, index: int, item: DraftIngredient, reading: Reading) -> Draw | None:
        """A name typed with a strength or size: the product it means, or the products of the
        same strengths it fits (the planner chooses, as for a substance), or why none."""
        if not reading.products:
            pick = " — pick one from the list (↑ ↓, Ctrl+Space)" if reading.candidates else ""
            self.add(
                Severity.BLOCK,
                "ingredient.unread",
                f"'{item.what.strip()}': {reading.problem.splitlines()[0]}{pick}",
                index,
            )
            return None
        first = reading.products[0]
        try:
            amount = parse_quantity(item.amount, Field.AMOUNT)
        except QuantityError as exc:
            named = first.name if len(reading.products) == 1 else item.what.strip()
            self.add(Severity.BLOCK, "amount.invalid", f"{named}: {exc}", index)
            return None
        if len(reading.products) == 1:
            return self._from_product(index, first, amount)
        substance = reading.substance or self.catalog.substance(first.strengths[0].substance)
        # every active of these products is the one named or was typed: no "name the product"
        return self._from_substance(index, substance, amount, reading.products, said=True)

    def _unknown(self, typed: str) -> str:
        names = {
            fold(n): n for s in self.catalog.substances.values() for n in (s.name, *s.synonyms)
        }
        names |= {fold(p.name): p.name for p in self.catalog.products.values()}
        words = _WORDS.findall(fold(typed))
        fitting = sorted(  # every word typed begins a word of the name: a name typed in part
            names[name]
            for name in names
            if any(len(t) >= 3 and t.isalpha() for t in words)  # a name, not "5 mg"
            and all(any(w.startswith(t) for w in _WORDS.findall(name)) for t in words)
        )
        if fitting:
            shown = "; ".join(fitting[:3]) + (
                f"; and {len(fitting) - 3} more" if len(fitting) > 3 else ""
            )
            return (
                f"'{typed.strip()}' is part of {'a name' if len(fitting) == 1 else f'{len(fitting)} names'}"
                f" of substances and products — type it whole, or take a suggestion (Ctrl+Space): {shown}"
            )
        close = difflib.get_close_matches(fold(typed), list(names), n=2, cutoff=0.75)
        hint = f" — did you mean {' or '.join(repr(names[c]) for c in close)}?" if close else ""
        return f"'{typed.strip()}' is not a substance or product in the catalogue{hint}"

    def _from_product(self, index: int, product: Product, amount: Quantity) -> Draw | None:
        value, dimension = canonical(amount)
        if dimension == "volume":
            return self._draw(index, product, value * 1000, amount)
        if not product.strengths:
            self.add(
                Severity.BLOCK,
                "amount.unsupplied",
                f"{product.name} is a diluent: give its volume in mL",
                index,
            )
            return None
        primary = self.catalog.substance(product.strengths[0].substance)
        try:
            microlitres = volume_ml(value, dimension, product, primary) * 1000
        except ConversionError as exc:
            self.add(Severity.BLOCK, "amount.unsupplied", f"{product.name}: {exc}", index)
            return None
        if len(product.strengths) > 1:
            self.add(
                Severity.INFO,
                "amount.read_as",
                f"{format_quantity(amount)} read as {primary.name} in {product.name}",
                index,
            )
        return self._draw(index, product, microlitres, amount)

    def _from_substance(
        self,
        index: int,
        substance: Substance,
        amount: Quantity,
        among: tuple[Product, ...] = (),
        said: bool = False,
    ) -> Draw | None:
        """An amount of a substance from the product that measures it best (`among` the
        products a strength or size typed leaves, when one was; `said`: their other actives
        were typed, so a combination needs no confirming). An element is also drawn from a
        product stated as one of its salts (copper from cupric chloride 1.07 mg/mL)."""
        carriers = {
            p.code: salt
            for p in self.catalog.products_carrying(substance.code)
            if not p.diluent and (salt := self.catalog.salt_of(substance.code, p)) is not None
        }
        products = list(among) or [
            *(p for p in self.catalog.products_supplying(substance.code) if not p.diluent),
            *(self.catalog.products[code] for code in carriers),
        ]
        products = products or list(self.catalog.products_supplying(substance.code))
        if not products:
            self.add(
                Severity.BLOCK,
                "product.none",
                f"no product in the catalogue supplies {substance.name}",
                index,
            )
            return None
        value, dimension = canonical(amount)
        if dimension == "volume":
            strengths = {p.strength_table.get(substance.code, p.code) for p in products}
            if len(strengths) > 1:
                self.add(
                    Severity.BLOCK,
                    "amount.volume_ambiguous",
                    f"{format_quantity(amount)} of {substance.name} depends on the strength: "
                    f"give the amount (e.g. mg) or name the product",
                    index,
                )
                return None
            product = self._best(products, {p.code: value * 1000 for p in products})
            self.add(
                Severity.INFO,
                "amount.read_as",
                f"{format_quantity(amount)} of {substance.name} read as {format_quantity(amount)} "
                f"of {product.name}",
                index,
            )
            return self._draw(index, product, value * 1000, amount)
        try:
            measure_as(
                value,
                dimension,
                substance,
                "IU" if substance.measure.value == "activity" else "mass",
            )
        except ConversionError as exc:
            self.add(Severity.BLOCK, "amount.unit_mismatch", str(exc), index)
            return None
        volumes: dict[str, Decimal] = {}
        reasons: list[str] = []
        single = [p for p in products if len(p.strengths) == 1]
        for product in single or products:  # a combination only when nothing else supplies it
            salt = (
                carriers.get(product.code) if substance.code not in product.strength_table else None
            )
            try:
                volumes[product.code] = 1000 * (
                    element_volume_ml(value, dimension, product, substance, salt)
                    if salt is not None
                    else volume_ml(value, dimension, product, substance)
                )
            except ConversionError as exc:
                reasons.append(str(exc))
        if not volumes:
            self.add(
                Severity.BLOCK,
                "amount.unsupplied",
                f"no product can supply {format_quantity(amount)} of {substance.name}: {reasons[0]}",
                index,
            )
            return None
        candidates = [p for p in products if p.code in volumes]
        product = self._best(candidates, volumes)
        if len(product.strengths) > 1 and not said:
            extras = [self.catalog.substance(s.substance).short_name for s in product.strengths]
            self.add(
                Severity.WARN,
                "product.combination",
                f"{substance.name} is only available combined: {product.name} also delivers "
                f"{', '.join(e for e in extras if e != substance.short_name)} — name the product to confirm",
                index,
            )
        salt = carriers.get(product.code) if substance.code not in product.strength_table else None
        if salt is not None:
            self.add(
                Severity.INFO,
                "amount.as_salt",
                f"{format_quantity(amount)} {substance.short_name.lower()} drawn as "
                f"{salt.short_name.lower()}, "
                f"{format_decimal(element_per_ml(product, substance, salt), 4)} mg/mL as "
                f"{substance.short_name.lower()}",
                index,
            )
        return self._draw(index, product, volumes[product.code], amount)

    def _best(self, products: list[Product], volumes: Mapping[str, Decimal]) -> Product:
        """Prefer a product in stock that measures well, opens fewest containers and wastes least."""

        def score(product: Product) -> tuple[object, ...]:
            volume = volumes[product.code]
            rounded = round_draw(volume)
            containers = containers_for(product, max(rounded, 1))
            waste = (
                0 if product.is_multi_dose else containers * product.container_volume_ul - rounded
            )
            in_stock = self.stock is None or self.stock.get(product.code, 0) >= rounded
            risky = bool(self.avoid) and not self.avoid.isdisjoint(
                (*product.strength_table, *product.excipients)
            )
            return (
                not in_stock,
                risky,
                rounded < MEASURABLE_UL,
                containers,
                waste,
                product.code,
            )

        return min(products, key=score)

    def _draw(
        self, index: int | None, product: Product, microlitres: Decimal, requested: Quantity | None
    ) -> Draw | None:
        rounded = round_draw(microlitres)
        if rounded < MEASURABLE_UL:
            self.add(
                Severity.BLOCK,
                "draw.too_small",
                f"{format_quantity(Q(microlitres / 1000, 'milliliter'), 4)} of {product.name} is "
                "too small to measure (below 0.01 mL): use a weaker product or a larger amount",
                index,
            )
            return None
        if Decimal(rounded) != microlitres and requested is not None:
            change = abs(Decimal(rounded) - microlitres) / microlitres * 100
            severity, code = Severity.INFO, "draw.rounded"
            if change > ROUNDING_BLOCK_PERCENT:
                severity, code = Severity.BLOCK, "draw.rounding_changes_dose"
            elif change > ROUNDING_WARN_PERCENT:
                severity, code = Severity.WARN, "draw.rounding_changes_dose"
            self.add(
                severity,
                code,
                f"{product.name}: {format_quantity(Q(microlitres / 1000, 'milliliter'), 4)} rounded "
                f"to {format_quantity(Q(Decimal(rounded) / 1000, 'milliliter'))} (syringe 0.01 mL) "
                f"changes the dose by {format_decimal(change, 1)} %"
                + (
                    "" if severity is Severity.INFO else ": use a weaker product or a larger amount"
                ),
                index,
            )
        return Draw(index, product, rounded, containers_for(product, rounded))


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


def plan_mixture(
    draft: DraftMixture | ResolvedDraft,
    catalog: Catalog,
    stock: Mapping[str, int] | None = None,
    avoid: frozenset[str] = frozenset(),
    readings: Mapping[str, Reading] | None = None,
) -> Plan:
    """Turn a draft into draws and findings; `stock` (usable µL per product) makes it stock-aware,
    `avoid` (substance codes) steers the choice of product away from what the patient reacts to,
    `readings` are the names typed with a strength or size as the matcher read them
    (`Matcher.readings`) — or the draft comes resolved already, its readings with it."""
    named = draft if isinstance(draft, ResolvedDraft) else resolve_draft(draft, catalog, readings)
    draft = named.draft
    planner = _Planner(catalog, stock, avoid, named)
    rows = [
        (i, item)
        for i, item in enumerate(draft.ingredients)
        if item.what.strip() or item.amount.strip()
    ]
    if not rows:
        planner.add(Severity.BLOCK, "mixture.empty", "the mixture has no ingredients yet")
    draws = [d for i, item in rows if (d := planner.ingredient(i, item)) is not None]
    drawn_ul = sum(d.volume_ul for d in draws)
    final_ul, asked_ul = _final_volume(planner, draft, drawn_ul)
    diluent = (
        _diluent(planner, draft, catalog, final_ul - drawn_ul) if final_ul > drawn_ul else None
    )
    if diluent is not None:
        draws.append(diluent)
    final_ul = max(final_ul, drawn_ul)
    draws = [_with_delivered(d, catalog, final_ul) for d in draws]
    _check_admixture(planner, draws)
    if stock is not None:
        _check_stock(planner, draws, stock)
    sums: dict[str, tuple[Decimal, str]] = {}
    for draw in draws:
        for code, (per_ml, dimension) in draw.product.strength_table.items():
            before = sums.get(code, (Decimal(0), dimension))[0]
            sums[code] = (before + Decimal(draw.volume_ul) / 1000 * per_ml, dimension)
    return Plan(tuple(draws), final_ul, tuple(planner.findings), sums, asked_ul, drawn_ul)


def _final_volume(planner: _Planner, draft: DraftMixture, drawn_ul: int) -> tuple[int, int | None]:
    """The mixture's volume, and the final volume asked (None: none given or unreadable)."""
    if not draft.final_volume.strip():
        if drawn_ul:
            planner.add(
                Severity.INFO,
                "mixture.no_final_volume",
                f"no final volume given: the mixture is what is drawn, "
                f"{format_quantity(Q(Decimal(drawn_ul) / 1000, 'milliliter'))}",
            )
        return drawn_ul, None
    try:
        typed = to_ul(parse_quantity(draft.final_volume, Field.VOLUME))
    except QuantityError as exc:
        planner.add(Severity.BLOCK, "final_volume.invalid", f"final volume: {exc}")
        return drawn_ul, None
    final = round_draw(typed)
    if final != typed:
        planner.add(
            Severity.BLOCK,
            "final_volume.unmeasurable",
            f"final volume {draft.final_volume.strip()}: a syringe measures 0.01 mL — "
            f"write {format_quantity(Q(Decimal(final) / 1000, 'milliliter'))} or another volume",
        )
        return drawn_ul, None
    if final == 0:
        planner.add(
            Severity.BLOCK, "final_volume.invalid", "final volume: must be at least 0.01 mL"
        )
        return drawn_ul, None
    if drawn_ul > final:
        planner.add(
            Severity.BLOCK,
            "mixture.over_final_volume",
            f"the ingredients add up to {format_quantity(Q(Decimal(drawn_ul) / 1000, 'milliliter'))}, "
            f"more than the final volume {format_quantity(Q(Decimal(final) / 1000, 'milliliter'))} asked: "
            "ask for a larger final volume, or less of an ingredient",
        )
    return final, final


def _diluent(planner: _Planner, draft: DraftMixture, catalog: Catalog, qs_ul: int) -> Draw | None:
    code = draft.diluent or DEFAULT_DILUENT
    product = catalog.products.get(code) or (catalog.diluents() or (None,))[0]
    if product is None or (draft.diluent and draft.diluent not in catalog.products):
        planner.add(Severity.BLOCK, "diluent.unknown", f"unknown diluent '{code}'")
        return None
    if not product.diluent:
        planner.add(
            Severity.BLOCK,
            "diluent.not_a_diluent",
            f"{product.name} is not a diluent: the q.s. must be sodium chloride or water for injection",
        )
        return None
    if qs_ul < MEASURABLE_UL:
        planner.add(
            Severity.INFO,
            "diluent.negligible",
            f"the diluent needed ({qs_ul} microlitres) is below 0.01 mL and is left out",
        )
        return None
    return Draw(None, product, qs_ul, containers_for(product, qs_ul))


def _with_delivered(draw: Draw, catalog: Catalog, final_ul: int) -> Draw:
    delivered = []
    millilitres = Decimal(draw.volume_ul) / 1000
    for code, (per_ml, dimension) in draw.product.strength_table.items():
        delivered.append(
            Delivered(catalog.substance(code), millilitres * per_ml, dimension, final_ul)
        )
    return Draw(draw.ingredient, draw.product, draw.volume_ul, draw.containers, tuple(delivered))


def _check_admixture(planner: _Planner, draws: list[Draw]) -> None:
    """A product whose label advises against diluting or mixing it (Kybella: "dilution or
    admixture with other compounds is not recommended") drawn with anything else, a diluent's
    q.s. included: a BLOCK a practitioner may sign off. Not a WARN, which the person dispensing
    acknowledges: going against a label is a prescriber's decision, with a reason; overridable,
    since the label advises rather than contraindicates and mixing is practised."""
    products = {draw.product.code: draw.product for draw in draws}
    for draw in draws:
        statement = draw.product.not_for_admixture
        others = [p.name for code, p in products.items() if code != draw.product.code]
        if statement and others:
            planner.add(
                Severity.BLOCK,
                "product.not_for_admixture",
                f'{draw.product.name}: its label says "{statement}" — here it is mixed with '
                f"{'; '.join(others)}",
                draw.ingredient,
                overridable=True,
            )
            products.pop(draw.product.code)  # said once, however many draws of it


def _check_stock(planner: _Planner, draws: list[Draw], stock: Mapping[str, int]) -> None:
    """One finding a product short, naming what draws it (ingredient 2, the diluent): the
    person sees which row to change, whatever name the matcher read the row's text as."""
    needed: dict[str, int] = {}
    drawn_for: dict[str, list[str]] = {}
    for draw in draws:
        needed[draw.product.code] = needed.get(draw.product.code, 0) + draw.volume_ul
        row = "the diluent" if draw.ingredient is None else f"ingredient {draw.ingredient + 1}"
        drawn_for.setdefault(draw.product.code, []).append(row)
    for code, microlitres in needed.items():
        product = planner.catalog.products[code]
        if not product.is_multi_dose:
            microlitres = containers_for(product, microlitres) * product.container_volume_ul
        available = stock.get(code, 0)
        if available < microlitres:
            planner.add(
                Severity.BLOCK,
                "stock.insufficient",
                f"not enough stock of {product.name} for {' and '.join(drawn_for[code])}: "
                f"{format_quantity(Q(Decimal(microlitres) / 1000, 'milliliter'))} needed, "
                f"{format_quantity(Q(Decimal(available) / 1000, 'milliliter'))} in usable lots",
            )
