"""plan_mixture: every row through the Planner, then what only the whole mixture shows — the
final volume and its q.s. of diluent, what each draw delivers, a label against admixture, the stock.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from mesomix.domain.catalog import Catalog
from mesomix.domain.findings import Severity
from mesomix.domain.matcher import Reading
from mesomix.domain.mixture.draft import (
    DEFAULT_DILUENT,
    DraftMixture,
    ResolvedDraft,
    resolve_draft,
)
from mesomix.domain.mixture.ingredients import Planner
from mesomix.domain.mixture.plan import (
    MEASURABLE_UL,
    Delivered,
    Draw,
    Plan,
    containers_for,
    round_draw,
    to_ul,
)
from mesomix.domain.units import Field, Q, QuantityError, format_quantity, parse_quantity


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
    planner = Planner(catalog, stock, avoid, named)
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


def _final_volume(planner: Planner, draft: DraftMixture, drawn_ul: int) -> tuple[int, int | None]:
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


def _diluent(planner: Planner, draft: DraftMixture, catalog: Catalog, qs_ul: int) -> Draw | None:
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


def _check_admixture(planner: Planner, draws: list[Draw]) -> None:
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


def _check_stock(planner: Planner, draws: list[Draw], stock: Mapping[str, int]) -> None:
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
