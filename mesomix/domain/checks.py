"""The whole check of a mixture for one patient: the plan, then allergies and dose limits.

The screen runs it as the mixture is typed; the dispense service runs it again inside its
transaction against the shelf as it is then. Pure: no database, no UI.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from mesomix.domain.allergy import (
    Allergy,
    check_allergies,
    free_text_groups,
    free_text_substances,
    group_graph,
    likely_allergens,
)
from mesomix.domain.catalog import Catalog
from mesomix.domain.dose import NOTHING_RECEIVED, Received, check_doses
from mesomix.domain.findings import Finding, Severity
from mesomix.domain.matcher import Reading
from mesomix.domain.mixture import DraftMixture, Plan, ResolvedDraft, plan_mixture, resolve_draft


@dataclass(frozen=True)
class PatientFacts:
    """What the checks need to know about the patient."""

    ref: str
    name: str
    weight_kg: Decimal | None = None
    allergies: tuple[Allergy, ...] = ()
    received: Received = NOTHING_RECEIVED  # earlier batches the dose limits count


def substances_to_avoid(patient: PatientFacts, catalog: Catalog) -> frozenset[str]:
    """Every substance an alerting allergy concerns, for steering the choice of product."""
    groups = group_graph(catalog)
    avoid: set[str] = set()
    for allergy in patient.allergies:
        if not allergy.alerts:
            continue
        found: set[str] = set()
        if allergy.substance:
            found.add(allergy.substance)
        if allergy.group:
            found |= groups.members.get(allergy.group, frozenset())
        if allergy.text:
            found |= set(free_text_substances(allergy.text, catalog))
            for group in free_text_groups(allergy.text, catalog):
                found |= groups.members.get(group, frozenset())
            for likely in likely_allergens(allergy.text, catalog):  # "lidocain", "sulphites"
                found |= {likely.substance} if likely.substance else set()
                found |= groups.members.get(likely.group or "", frozenset())
        avoid |= found - set(allergy.tolerated)
    return frozenset(avoid)


def check_mixture(
    draft: DraftMixture | ResolvedDraft,
    catalog: Catalog,
    stock: Mapping[str, int] | None = None,
    patient: PatientFacts | None = None,
    readings: Mapping[str, Reading] | None = None,
) -> Plan:
    """The plan with every finding: composition, stock, allergies, dose limits. A draft given
    resolved (`resolve_draft`) carries its readings; otherwise its names are resolved here."""
    named = draft if isinstance(draft, ResolvedDraft) else resolve_draft(draft, catalog, readings)
    if patient is None:
        plan = plan_mixture(named, catalog, stock)
        missing = Finding(
            Severity.BLOCK,
            "patient.missing",
            "choose the patient: allergies and dose limits are checked against them",
        )
        return replace(plan, findings=(missing, *plan.findings))
    plan = plan_mixture(named, catalog, stock, substances_to_avoid(patient, catalog))
    extra = check_allergies(plan, patient.allergies, catalog)
    extra += check_doses(
        plan, catalog, patient.weight_kg, f"{patient.name} ({patient.ref})", patient.received
    )
    return replace(plan, findings=(*plan.findings, *extra))
