"""The plan (what to draw from which product, what each draw delivers) and its syringe
arithmetic: the output of planning that checks, services and labels read without planning anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from functools import cached_property

from mesomix.domain.catalog import Product, Substance
from mesomix.domain.findings import Finding, Severity
from mesomix.domain.units import CANONICAL, Q, Quantity, canonical, format_decimal, unit_word

MEASURABLE_UL = 10  # 0.01 mL: the finest graduation of a 1 mL syringe


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

    def concentration_text(self, places: int = 3) -> str:
        """The concentration as `format_quantity` shows it ("4 mg/mL"), worked out in Decimals
        alone: every label of every dispense shows it, and pint's arithmetic and formatting
        were a fifth of a dispense's time. "" without a final volume."""
        if not self.final_ul:
            return ""
        per_ml = self.value / (Decimal(self.final_ul) / 1000)
        return f"{format_decimal(per_ml, places)} {unit_word(self.dimension)}/mL"


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
