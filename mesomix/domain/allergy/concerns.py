"""What an allergy concerns (its allergen groups, its FHIR categories), and whether it contradicts a
"no known allergy" statement."""

from __future__ import annotations

from mesomix.domain.allergy.contacts import LATEX
from mesomix.domain.allergy.free_text import (
    free_text_groups,
    free_text_substances,
    likely_allergens,
)
from mesomix.domain.allergy.record import Allergy
from mesomix.domain.catalog import Catalog, NoKnownAllergy, fold


def concerned_groups(allergy: Allergy, catalog: Catalog) -> frozenset[str]:
    """Allergen groups an allergy concerns: its group, its substance's groups, or those its free
    text names or very probably means."""
    allergy = allergy.by_code(catalog)
    if allergy.group:
        return frozenset({allergy.group})
    if allergy.substance:
        substance = catalog.substances.get(allergy.substance)
        return frozenset(substance.allergen_groups if substance else ())
    found = set(free_text_groups(allergy.text, catalog))
    named = set(free_text_substances(allergy.text, catalog))
    for guess in likely_allergens(allergy.text, catalog):
        if guess.group:
            found.add(guess.group)
        if guess.substance:
            named.add(guess.substance)
    for code in named:
        found.update(catalog.substances[code].allergen_groups if code in catalog.substances else ())
    return frozenset(found)


def categories(allergy: Allergy, catalog: Catalog) -> frozenset[str]:
    """FHIR categories of a real allergy (food, medication, environment, biologic): as its
    source record gave them, else what mesomix knows of its allergen; empty when unknown."""
    given = (allergy.origin or {}).get("resource", {}).get("category")
    if isinstance(given, list) and given and all(isinstance(c, str) for c in given):
        return frozenset(given)
    coded = allergy.by_code(catalog)
    if not coded.coded:
        return frozenset()
    if LATEX in concerned_groups(coded, catalog):
        return frozenset({"environment"})  # a latex stopper is not a drug allergy
    return frozenset({"medication"})


def sets_aside(statement: NoKnownAllergy, allergy: Allergy, catalog: Catalog) -> bool:
    """Whether a recorded allergy contradicts a "no known allergy" statement. When the kind of
    the allergy is not known (free text), the statement is set aside: an assurance that no
    allergy is known must never stand beside an allergy that may be of that kind."""
    if not allergy.alerts or allergy.no_known(catalog) is not None:
        return False
    if statement.group:
        return statement.group in concerned_groups(allergy, catalog)
    if statement.category:
        kinds = categories(allergy, catalog)
        return not kinds or statement.category in kinds
    return True


def no_known_typed(typed: str, catalog: Catalog) -> NoKnownAllergy | None:
    """The statement a typed allergen means ("NKDA", "no known drug allergy"), if any."""
    key = fold(typed).strip()
    for statement in catalog.no_known.values():
        names = (statement.name, statement.coding.display, *statement.abbreviations)
        if key in (fold(name) for name in names):
            return statement
    return None
