"""What the patient will meet from a plan (actives, the element a salt supplies, excipients, a latex
stopper, what a powder is reconstituted with), and the catalogue's allergen groups worked out once."""

from __future__ import annotations

from dataclasses import dataclass, field

from mesomix.domain.catalog import Catalog, Product
from mesomix.domain.mixture import Plan


@dataclass(frozen=True)
class Contact:
    """One substance the patient will receive, and how: active or excipient of which product."""

    substance: str
    product: str
    ingredient: int | None
    role: str  # "active" | "excipient"


@dataclass(frozen=True)
class GroupGraph:
    """Group membership and cross-reactions, worked out once per catalogue."""

    members: dict[str, frozenset[str]] = field(default_factory=dict)
    related: dict[str, frozenset[str]] = field(default_factory=dict)
    salts: dict[str, frozenset[str]] = field(default_factory=dict)  # element -> salts supplying it
    reach: dict[tuple[str | None, str | None], Reach] = field(default_factory=dict)


LATEX = "natural_rubber_latex"


def contacts(plan: Plan, catalog: Catalog) -> list[Contact]:
    """Everything the patient will meet: actives (and the element a salt supplies), excipients,
    a latex stopper, and what a powder is reconstituted with."""
    found: list[Contact] = []
    for draw in plan.draws:
        _product_contacts(draw.product, draw.product.code, draw.ingredient, catalog, found)
        diluent = catalog.products.get(draw.product.reconstitute_with or "")
        if diluent is not None:
            _product_contacts(
                diluent, draw.product.code, draw.ingredient, catalog, found, "reconstitution"
            )
    return found


def _product_contacts(
    product: Product,
    drawn: str,
    ingredient: int | None,
    catalog: Catalog,
    found: list[Contact],
    via: str = "",
) -> None:
    for code in product.strength_table:
        found.append(Contact(code, drawn, ingredient, via or "active"))
        substance = catalog.substances.get(code)
        if substance is not None and substance.elemental is not None:
            found.append(
                Contact(
                    substance.elemental.substance,
                    drawn,
                    ingredient,
                    f"element of {substance.short_name}",
                )
            )
    for code in product.excipients:
        found.append(Contact(code, drawn, ingredient, via or "excipient"))
    if product.latex_stopper and LATEX in catalog.substances:
        found.append(Contact(LATEX, drawn, ingredient, "stopper"))


def group_graph(catalog: Catalog) -> GroupGraph:
    cached = getattr(catalog, "_allergy_groups", None)
    if isinstance(cached, GroupGraph):
        return cached
    members: dict[str, set[str]] = {code: set() for code in catalog.groups}
    for substance in catalog.substances.values():
        for group_code in substance.allergen_groups:
            members.setdefault(group_code, set()).add(substance.code)
    related: dict[str, set[str]] = {code: set() for code in catalog.groups}
    for group in catalog.groups.values():
        for other in group.cross_reacts_with:
            related[group.code].add(other)
            related.setdefault(other, set()).add(group.code)
    salts: dict[str, set[str]] = {}
    for substance in catalog.substances.values():
        if substance.elemental is not None:
            salts.setdefault(substance.elemental.substance, set()).add(substance.code)
    built = GroupGraph(
        {k: frozenset(v) for k, v in members.items()},
        {k: frozenset(v) for k, v in related.items()},
        {k: frozenset(v) for k, v in salts.items()},
    )
    object.__setattr__(catalog, "_allergy_groups", built)
    return built


@dataclass(frozen=True)
class Reach:
    """What one allergen concerns: itself (or its group's members), and what shares or
    cross-reacts with its groups, with the groups that link them."""

    direct: frozenset[str]
    related: dict[str, tuple[str, ...]]
    own_groups: frozenset[str]
    ions: dict[str, str] = field(default_factory=dict)  # same element: how it concerns the allergen
