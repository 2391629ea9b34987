"""A mixture assessed against the shelf: every check of the plan, the allocation's dry run
over the lots it would draw from, and the beyond-use date those lots give. Reads nothing:
the lots and the patient's facts are handed in by the check or the dispense."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from mesomix.clock import Clock
from mesomix.domain.allocation import LotState, NotEnoughStock, Pick, allocate, usable_ul
from mesomix.domain.bench import (
    BenchScan,
    Books,
    bench_findings,
    preferred,
    read_bench,
    verified_draws,
)
from mesomix.domain.beyond_use import BeyondUse, LotUse, beyond_use, expiry_findings
from mesomix.domain.catalog import Catalog
from mesomix.domain.checks import PatientFacts, check_mixture
from mesomix.domain.findings import Finding, Severity
from mesomix.domain.mixture import PURPOSES, Plan, ResolvedDraft
from mesomix.reference import beyond_use_rules

STORAGES = ("room", "refrigerated")


@dataclass(frozen=True)
class Assessment:
    """A plan with every finding, and — when stock allows — the lots and the beyond-use date."""

    plan: Plan
    picks: Mapping[str, list[Pick]] | None
    beyond_use: BeyondUse | None
    # By product drawn: verified at the bench by scan, or by eye (bench.verified_draws)
    verified: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Bench:
    """The vials scanned at the bench (the draft's scans), what the books say of them, and
    whether the clinic requires every draw verified by scan."""

    books: Books
    required: bool


def assess(
    named: ResolvedDraft,
    catalog: Catalog,
    lots: dict[str, list[LotState]],
    facts: PatientFacts | None,
    clock: Clock,
    bench: Bench | None = None,
) -> Assessment:
    """Every check, then a dry run of the allocation for the lots and the beyond-use date: the
    same for `check` (lots read) and the dispense (lots locked)."""
    now, today, zone = clock.now(), clock.today(), clock.zone
    usable = usable_by_product(catalog, lots, now, today)
    plan = check_mixture(named, catalog, usable, facts)
    draft = named.draft
    categories, _ = beyond_use_rules()
    category = categories.get(draft.category)
    problems = []
    if category is None:
        problems.append(
            Finding(
                Severity.BLOCK,
                "beyond_use.unknown_category",
                f"unknown compounding category '{draft.category}': use one of {', '.join(categories)}",
            )
        )
    if draft.purpose and draft.purpose not in PURPOSES:
        problems.append(
            Finding(
                Severity.BLOCK,
                "mixture.unknown_purpose",
                f"unknown purpose '{draft.purpose}': use one of {', '.join(PURPOSES)}",
            )
        )
    if draft.storage not in STORAGES:
        problems.append(
            Finding(
                Severity.BLOCK,
                "beyond_use.unknown_storage",
                f"unknown storage '{draft.storage}': use room or refrigerated",
            )
        )
    scans: list[BenchScan] = []
    first: dict[str, list[int]] = {}
    at_bench = bench is not None and bool(draft.scans or bench.required)
    names: dict[str, str] = {}
    if bench is not None and at_bench:
        drawn = {d.product.code: d.product.name for d in plan.draws}
        names = {
            code: catalog.products[code].name if code in catalog.products else code
            for code in {*drawn, *bench.books.products_by_gtin.values()}
        }
        scans = read_bench(draft.scans, bench.books, drawn, names, today)
        first = preferred(scans)
    picks = _allocate_all(plan, catalog, lots, now, today, first)
    if bench is not None and at_bench:
        in_order = _allocate_all(plan, catalog, lots, now, today, {}) if first else picks
        problems.extend(bench_findings(scans, picks, in_order, names, bench.required))
    if picks is None or category is None or draft.storage not in STORAGES:
        return Assessment(replace(plan, findings=(*plan.findings, *problems)), None, None)
    uses = _lot_uses(picks, catalog)
    bud = beyond_use(now, category, draft.storage, uses, zone)
    dated = [
        *expiry_findings(now, category, draft.storage, uses, zone),
        Finding(Severity.INFO, "beyond_use.date", f"beyond-use date: {bud.summary}"),
    ]
    return Assessment(
        replace(plan, findings=(*plan.findings, *problems, *dated)),
        picks,
        bud,
        verified_draws(scans, picks),
    )


def _allocate_all(
    plan: Plan,
    catalog: Catalog,
    lots: dict[str, list[LotState]],
    now: datetime,
    today: date,
    first: Mapping[str, list[int]],
) -> dict[str, list[Pick]] | None:
    """One allocation per product (two draws of one product share the containers opened),
    the lots scanned at the bench (`first`) taken first; None when the lots cannot cover it
    (the plan already says so)."""
    if any(f.code == "stock.insufficient" for f in plan.findings):
        return None
    state = dict(lots)
    picks: dict[str, list[Pick]] = {}
    try:
        for code, needed in plan.needs_by_product().items():
            picks[code], state[code] = allocate(
                catalog.products[code], needed, state[code], now, today, first.get(code, ())
            )
    except NotEnoughStock:
        return None
    return picks


def _lot_uses(picks: Mapping[str, list[Pick]], catalog: Catalog) -> list[LotUse]:
    uses = []
    for code, product_picks in picks.items():
        product = catalog.products[code]
        for pick in product_picks:
            uses.append(
                LotUse(
                    product.name,
                    pick.lot_number,
                    pick.expiry,
                    product.is_multi_dose,
                    pick.vial_opened_at,
                    product.in_use_days or 0,
                )
            )
    return uses


def usable_by_product(
    catalog: Catalog, lots: Mapping[str, list[LotState]], now: datetime, today: date
) -> dict[str, int]:
    """Microlitres each product can still give: whole sealed containers and live open vials."""
    return {
        code: usable_ul(catalog.products[code], states, now, today)
        for code, states in lots.items()
        if code in catalog.products
    }
