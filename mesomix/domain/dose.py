"""Dose limits: the whole mixture's amount of each substance against its published maxima.

The sum over every ingredient that carries a substance counts (lidocaine from a plain ampoule plus
lidocaine from a filler), salts count towards their element, and the limit that applies may depend
on the mixture (lidocaine with or without epinephrine). A per-kg limit without a recorded weight is
never a silent pass.

A limit counts what the patient already received in its period too: the service reads the
batches dispensed for them (`Received`), each tagged with the periods it falls in ("session",
"day"; a course's window can add its own), and a limit per session adds every earlier batch of
the session to the mixture now composed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from mesomix.domain.catalog import Catalog, DoseLimit, Substance
from mesomix.domain.conversions import ConversionError, measure_as
from mesomix.domain.findings import Finding, Severity
from mesomix.domain.mixture import Plan
from mesomix.domain.units import format_amount, format_decimal, format_quantity

EPINEPHRINE = "epinephrine"
MIN_EPINEPHRINE_MG_PER_ML = Decimal("0.005")  # 1:200,000, the weakest strength on the labels
_CONDITION_WORDS = {
    "with_epinephrine": "with epinephrine",
    "without_epinephrine": "without epinephrine",
}


@dataclass(frozen=True)
class _Total:
    value: Decimal  # canonical (mg, or IU for activity substances)
    dimension: str


@dataclass(frozen=True)
class PriorBatch:
    """A batch the patient already received, as the dose limits count it."""

    batch_id: int
    at: datetime  # when it was dispensed, in the clinic's time zone
    sums: Mapping[str, tuple[Decimal, str]]  # substance code -> (canonical value, dimension)
    periods: frozenset[str]  # the limit periods it falls in ("session", "day")


@dataclass(frozen=True)
class Received:
    """What the patient already received that dose limits must count, oldest first."""

    today: date | None = None  # the clinic's date, to say "today at 10:42"
    batches: tuple[PriorBatch, ...] = ()


NOTHING_RECEIVED = Received()


def may_meet_a_limit(products: Iterable[str], catalog: Catalog) -> bool:
    """Whether a mixture drawn from these products carries a substance with a dose limit (or a
    salt of an element with one): only then does what the patient already received matter."""
    for code in products:
        product = catalog.products.get(code)
        for carried in product.strength_table if product else ():
            substance = catalog.substances.get(carried)
            if substance is None:
                continue
            element = (
                catalog.substances.get(substance.elemental.substance)
                if substance.elemental
                else None
            )
            if substance.dose_limits or (element is not None and element.dose_limits):
                return True
    return False


def substance_totals(plan: Plan, catalog: Catalog) -> dict[str, _Total]:
    """Each substance's total in the mixture, with salts also counted as their element."""
    return _totals(plan.sums, catalog)


def _totals(sums: Mapping[str, tuple[Decimal, str]], catalog: Catalog) -> dict[str, _Total]:
    """Each substance's total, with salts also counted as their element."""
    totals: dict[str, _Total] = {}
    for code, (value, dimension) in sums.items():
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


def _vasoconstricted(totals: dict[str, _Total], final_ul: int) -> bool:
    """The higher 'with epinephrine' limits hold only at a real vasoconstrictor strength (at least
    1:200,000 in the final mixture), not for a trace of it."""
    epinephrine = totals.get(EPINEPHRINE)
    if epinephrine is None or epinephrine.dimension != "mass" or not final_ul:
        return False
    return epinephrine.value / (Decimal(final_ul) / 1000) >= MIN_EPINEPHRINE_MG_PER_ML


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


@dataclass(frozen=True)
class _Earlier:
    """One earlier batch's amount of one substance, counted towards a limit."""

    batch_id: int
    at: datetime
    value: Decimal


def check_doses(
    plan: Plan,
    catalog: Catalog,
    weight_kg: Decimal | None,
    patient: str = "the patient",
    received: Received = NOTHING_RECEIVED,
) -> list[Finding]:
    """A finding for each limit the mixture exceeds — with what the patient already received in
    the limit's period — and for each per-kg limit with no weight."""
    totals = substance_totals(plan, catalog)
    with_epinephrine = _vasoconstricted(totals, plan.final_volume_ul)
    earlier = [(prior, _totals(prior.sums, catalog)) for prior in received.batches]
    findings: list[Finding] = []
    for code, total in totals.items():
        substance = catalog.substances.get(code)
        if substance is None:
            continue
        for limit in substance.dose_limits:
            if _applies(limit, with_epinephrine):
                before = [
                    _Earlier(prior.batch_id, prior.at, amounts[code].value)
                    for prior, amounts in earlier
                    if limit.per in prior.periods
                    and code in amounts
                    and amounts[code].dimension == total.dimension
                    and amounts[code].value
                ]
                finding = _check(
                    substance, total, limit, weight_kg, patient, before, received.today
                )
                if finding is not None:
                    findings.append(finding)
    return findings


def _when(at: datetime, today: date | None) -> str:
    """'today at 10:42', 'yesterday at 23:10', 'on 2026-11-20 at 09:05'."""
    day = at.date()
    if day == today:
        return f"today at {at:%H:%M}"
    if today is not None and day == today - timedelta(days=1):
        return f"yesterday at {at:%H:%M}"
    return f"on {day.isoformat()} at {at:%H:%M}"


def _check(
    substance: Substance,
    now: _Total,
    limit: DoseLimit,
    weight_kg: Decimal | None,
    patient: str,
    earlier: Sequence[_Earlier] = (),
    today: date | None = None,
) -> Finding | None:
    """Numbers first; words only for a limit that is exceeded (this runs on every keystroke)."""
    total = _Total(now.value + sum((e.value for e in earlier), Decimal(0)), now.dimension)
    subject = f"{substance.code}:{limit.per}:{limit.condition or 'any'}"
    absolute = per_kg = by_weight = None
    if limit.max_canonical is not None:
        absolute = _in(*limit.max_canonical, substance, total.dimension)
    if limit.per_kg_canonical is not None:
        if weight_kg is None:
            if limit.per == "session":
                return Finding(
                    Severity.BLOCK,
                    "dose.no_weight",
                    f"{substance.short_name} has a per-kg limit ({format_quantity(limit.per_kg)}) and "
                    f"{patient} has no recorded weight: record the weight before dispensing",
                    subject=subject,
                )
        else:
            per_kg = _in(*limit.per_kg_canonical, substance, total.dimension)
            by_weight = per_kg * weight_kg if per_kg is not None else None
    caps = [cap for cap in (absolute, by_weight) if cap is not None]
    if not caps or total.value <= min(caps):
        return None
    binding = min(caps)
    code = (
        "dose.over_per_kg" if binding == by_weight and binding != absolute else "dose.over_maximum"
    )

    def show(value: Decimal) -> str:
        return format_amount(value, total.dimension)

    if by_weight is not None:
        how = f"{format_quantity(limit.per_kg)} × {format_decimal(weight_kg or Decimal(0), 1)} kg = {show(by_weight)}"
        if absolute is not None:
            how += (
                f", capped at {show(absolute)}"
                if absolute < by_weight
                else f", below the {show(absolute)} cap"
            )
    else:
        how = f"{show(absolute or binding)} maximum"
    condition = _CONDITION_WORDS.get(limit.condition or "", "")
    where = f" {condition}" if condition else ""
    per = {"session": "", "day": " per day"}.get(limit.per, f" per {limit.per}")
    amount = show(total.value)
    if earlier:  # "250 mg dispensed today at 10:42 (batch 7) + 190 mg now = 440 mg"
        amount = " + ".join(
            [
                *(
                    f"{show(e.value)} dispensed {_when(e.at, today)} (batch {e.batch_id})"
                    for e in earlier
                ),
                f"{show(now.value)} now = {amount}",
            ]
        )
    message = (
        f"{substance.short_name} {amount} > {show(binding)} maximum{per}{where} "
        f"({how}) — source: {limit.source}"
    )
    if limit.per == "session":
        return Finding(Severity.BLOCK, code, message, overridable=True, subject=subject)
    advisory = "a daily upper limit" if limit.per == "day" else f"a limit per {limit.per}"
    return Finding(
        Severity.WARN,
        "dose.over_advisory",
        f"{message}; WARNING because it is {advisory}, not a per-session maximum",
        subject=subject,
    )
