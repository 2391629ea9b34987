"""One ingredient row read into one draw: the product it means or the one that measures a
substance best (salts, combinations, stock, what the patient avoids), and the rounding to the
syringe, each with its findings. The largest part of planning, and the only one about a single row.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from decimal import Decimal

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
from mesomix.domain.mixture.draft import DraftIngredient, ResolvedDraft
from mesomix.domain.mixture.plan import MEASURABLE_UL, Draw, containers_for, round_draw
from mesomix.domain.units import (
    Field,
    Q,
    Quantity,
    QuantityError,
    canonical,
    format_decimal,
    format_quantity,
    parse_quantity,
)

ROUNDING_WARN_PERCENT = Decimal(2)  # rounding to the syringe moves the dose this much: warn
ROUNDING_BLOCK_PERCENT = Decimal(10)  # ... this much: block


_WORDS = re.compile(r"[^\W_]+")  # words of a name, for a name typed in part


class Planner:
    """Reads the rows of one draft into draws, and gathers every finding of its plan (planning.py
    adds those of the whole mixture)."""

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
        names = self.catalog.names_written
        words = _WORDS.findall(fold(typed))
        fitting = sorted(  # every word typed begins a word of the name: a name typed in part
            written
            for written, name_words in names.values()
            if any(len(t) >= 3 and t.isalpha() for t in words)  # a name, not "5 mg"
            and all(any(w.startswith(t) for w in name_words) for t in words)
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
        hint = f" — did you mean {' or '.join(repr(names[c][0]) for c in close)}?" if close else ""
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
