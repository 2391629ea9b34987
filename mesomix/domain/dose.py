"""Dose limits: the whole mixture's amount of each substance against its published maxima.

The sum over every ingredient that carries a substance counts (lidocaine from a plain ampoule plus
lidocaine from a filler), salts count towards their element, and the limit that applies may depend
on the mixture (lidocaine with or without epinephrine). A per-kg limit without a recorded weight is
never a silent pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mesomix.domain.catalog import Catalog, DoseLimit, Substance
from mesomix.domain.conversions import ConversionError, measure_as
from mesomix.domain.findings import Finding, Severity
from mesomix.domain.mixture import Plan
from mesomix.domain.units import CANONICAL, Q, format_decimal, format_quantity

EPINEPHRINE = "epinephrine"
_CONDITION_WORDS = {
    "with_epinephrine": "with epinephrine",
    "without_epinephrine": "without epinephrine",
}


@dataclass(frozen=True)
class _Total:
    value: Decimal  # canonical (mg, or IU for activity substances)
    dimension: str


def substance_totals(plan: Plan, catalog: Catalog) -> dict[str, _Total]:
    """Each substance's total in the mixture, with salts also counted as their element."""
    totals: dict[str, _Total] = {}
    for code, (value, dimension) in plan.sums.items():
        _add(totals, code, value, dimension)
        substance = catalog.substances.get(code)
        if substance and substance.elemental and dimension == "mass":
            element = catalog.substances.get(substance.elemental.substance)
            if element and element.molar_mass_g and substance.molar_mass_g:
                share = substance.elemental.atoms * element.molar_mass_g / substance.molar_mass_g
                _add(totals, element.code, value * share, "mass")
    return totals


def _add(totals: dict[str, _Total], code: str, value: Decimal, dimension: str) -> None:
    before = totals.get(code)
    totals[code] = _Total(value + (before.value if before else Decimal(0)), dimension)


def _applies(limit: DoseLimit, with_epinephrine: bool) -> bool:
    if limit.condition == "with_epinephrine":
        return with_epinephrine
    if limit.condition == "without_epinephrine":
        return not with_epinephrine
    return True


def _in(value: Decimal, dimension: str, substance: Substance, target: str) -> Decimal | None:
    try:
        return measure_as(value, dimension, substance, target)
    except ConversionError:
        return None


def _show(value: Decimal, dimension: str) -> str:
    return format_quantity(Q(value, CANONICAL[dimension]))


def check_doses(
    plan: Plan, catalog: Catalog, weight_kg: Decimal | None, patient: str = "the patient"
) -> list[Finding]:
    """A finding for each limit the mixture exceeds, and for each per-kg limit with no weight."""
    totals = substance_totals(plan, catalog)
    with_epinephrine = EPINEPHRINE in totals
    findings: list[Finding] = []
    for code, total in totals.items():
        substance = catalog.substances.get(code)
        if substance is None:
            continue
        for limit in substance.dose_limits:
            if _applies(limit, with_epinephrine):
                finding = _check(substance, total, limit, weight_kg, patient)
                if finding is not None:
                    findings.append(finding)
    return findings


def _check(
    substance: Substance, total: _Total, limit: DoseLimit, weight_kg: Decimal | None, patient: str
) -> Finding | None:
    condition = _CONDITION_WORDS.get(limit.condition or "", "")
    subject = f"{substance.code}:{limit.per}:{limit.condition or 'any'}"
    name = substance.short_name
    caps: list[tuple[Decimal, str, str]] = []  # (limit in the total's dimension, how, code)
    if limit.max_canonical is not None:
        value = _in(*limit.max_canonical, substance, total.dimension)
        if value is not None:
            caps.append((value, f"{_show(value, total.dimension)} maximum", "dose.over_maximum"))
    if limit.per_kg_canonical is not None:
        if weight_kg is None:
            if limit.per == "session":
                return Finding(
                    Severity.BLOCK,
                    "dose.no_weight",
                    f"{name} has a per-kg limit ({format_quantity(limit.per_kg)}) and {patient} has "
                    "no recorded weight: record the weight before dispensing",
                    subject=subject,
                )
        else:
            per_kg = _in(*limit.per_kg_canonical, substance, total.dimension)
            if per_kg is not None:
                by_weight = per_kg * weight_kg
                how = (
                    f"{format_quantity(limit.per_kg)} × {format_decimal(weight_kg, 1)} kg"
                    f" = {_show(by_weight, total.dimension)}"
                )
                caps.append((by_weight, how, "dose.over_per_kg"))
    if not caps:
        return None
    binding = min(caps, key=lambda cap: cap[0])
    if total.value <= binding[0]:
        return None
    explanation = _explain(caps, binding, total.dimension)
    where = f" {condition}" if condition else ""
    per = {"session": "", "day": " per day"}.get(limit.per, f" per {limit.per}")
    message = (
        f"{name} {_show(total.value, total.dimension)} > {_show(binding[0], total.dimension)} "
        f"maximum{per}{where} ({explanation}) — source: {limit.source}"
    )
    if limit.per == "session":
        return Finding(Severity.BLOCK, binding[2], message, overridable=True, subject=subject)
    advisory = "a daily upper limit" if limit.per == "day" else f"a limit per {limit.per}"
    return Finding(
        Severity.WARN,
        "dose.over_advisory",
        f"{message}; WARNING because it is {advisory}, not a per-session maximum",
        subject=subject,
    )


def _explain(
    caps: list[tuple[Decimal, str, str]], binding: tuple[Decimal, str, str], dimension: str
) -> str:
    per_kg = next((cap for cap in caps if cap[2] == "dose.over_per_kg"), None)
    absolute = next((cap for cap in caps if cap[2] == "dose.over_maximum"), None)
    if per_kg and absolute:
        if binding is absolute:
            return f"{per_kg[1]}, capped at {_show(absolute[0], dimension)}"
        return f"{per_kg[1]}, below the {_show(absolute[0], dimension)} cap"
    return binding[1]
