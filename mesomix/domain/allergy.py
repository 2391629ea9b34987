"""Allergies checked against what is really in the syringe: every active substance and every
excipient of every product drawn, climbing from product to substance to allergen group.

Tiering against alert fatigue (each finding says why it has its tier):
- the recorded allergen itself, or a member of the recorded allergen group, confirmed and of high
  (or unassessed) criticality: BLOCK, which a practitioner may override;
- the same with an unconfirmed allergy or low criticality: WARN;
- a cross-sensitivity (another member of a group, or a group that cross-reacts): WARN;
- free text that names something in the syringe: WARN; free text that matches nothing coded: WARN
  "not coded" until someone codes it;
- refuted, entered in error, inactive or resolved allergies, and substances the patient has
  tolerated before: no alert.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from mesomix.domain.catalog import Catalog, fold
from mesomix.domain.findings import Finding, Severity
from mesomix.domain.mixture import Plan

CLINICAL_STATUSES = ("active", "inactive", "resolved")
VERIFICATIONS = ("unconfirmed", "presumed", "confirmed", "refuted", "entered-in-error")
CRITICALITIES = ("low", "high", "unable-to-assess")
REACTION_SEVERITIES = ("mild", "moderate", "severe")


@dataclass(frozen=True)
class Reaction:
    manifestation: str
    severity: str = ""  # mild | moderate | severe


@dataclass(frozen=True)
class Allergy:
    """FHIR AllergyIntolerance, as much of it as a compounding room needs."""

    id: int | None = None
    substance: str | None = None  # a substance code, or
    group: str | None = None  # an allergen group code, or
    text: str = ""  # free text that is not coded (yet)
    clinical_status: str = "active"
    verification: str = "unconfirmed"
    criticality: str = "unable-to-assess"
    reactions: tuple[Reaction, ...] = ()
    note: str = ""
    tolerated: tuple[str, ...] = ()  # substance codes given before without reaction
    recorded_by: str = ""
    recorded_on: date | None = None

    @property
    def coded(self) -> bool:
        return bool(self.substance or self.group)

    @property
    def alerts(self) -> bool:
        """Refuted, mistaken, inactive and resolved allergies raise nothing."""
        return self.clinical_status == "active" and self.verification not in (
            "refuted",
            "entered-in-error",
        )

    @property
    def firm(self) -> bool:
        """Confirmed, and high or unassessed criticality (unknown is taken as high)."""
        return self.verification == "confirmed" and self.criticality in ("high", "unable-to-assess")

    def label(self, catalog: Catalog) -> str:
        if self.substance:
            found = catalog.substances.get(self.substance)
            return found.short_name if found else self.substance
        if self.group:
            found_group = catalog.groups.get(self.group)
            return found_group.name if found_group else self.group
        return f"'{self.text}'"

    def why(self) -> str:
        reaction = self.reactions[0].manifestation if self.reactions else ""
        facts = [self.verification, f"criticality {self.criticality}"]
        if reaction:
            facts.append(f"reaction: {reaction}")
        return ", ".join(facts)


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


def contacts(plan: Plan, catalog: Catalog) -> list[Contact]:
    """Everything in the syringe: actives and excipients of each product drawn."""
    found: list[Contact] = []
    for draw in plan.draws:
        product = draw.product
        for code in product.strength_table:
            found.append(Contact(code, product.code, draw.ingredient, "active"))
        for code in product.excipients:
            found.append(Contact(code, product.code, draw.ingredient, "excipient"))
    return found


def group_graph(catalog: Catalog) -> GroupGraph:
    cached = getattr(catalog, "_allergy_groups", None)
    if cached is not None:
        return cached
    members: dict[str, set[str]] = {code: set() for code in catalog.groups}
    for substance in catalog.substances.values():
        for group in substance.allergen_groups:
            members.setdefault(group, set()).add(substance.code)
    related: dict[str, set[str]] = {code: set() for code in catalog.groups}
    for group in catalog.groups.values():
        for other in group.cross_reacts_with:
            related[group.code].add(other)
            related.setdefault(other, set()).add(group.code)
    built = GroupGraph(
        {k: frozenset(v) for k, v in members.items()},
        {k: frozenset(v) for k, v in related.items()},
    )
    object.__setattr__(catalog, "_allergy_groups", built)
    return built


def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", fold(text)))


def _mentions(text: str, phrase: str) -> bool:
    """Whole-word mention: 'peanut' is in 'peanuts and shellfish'? No; 'peanuts' is."""
    words, wanted = _words(text), _words(phrase)
    if not wanted:
        return False
    return any(words[i : i + len(wanted)] == wanted for i in range(len(words) - len(wanted) + 1))


def free_text_groups(text: str, catalog: Catalog) -> list[str]:
    """Allergen groups a free-text allergy concerns, through each group's trigger words."""
    return [
        group.code
        for group in catalog.groups.values()
        if any(_mentions(text, trigger) for trigger in group.triggers)
    ]


def free_text_substances(text: str, catalog: Catalog) -> list[str]:
    """Substances a free-text allergy names outright (name or synonym)."""
    return [
        substance.code
        for substance in catalog.substances.values()
        if any(
            _mentions(text, name)
            for name in (substance.name, substance.short_name, *substance.synonyms)
        )
    ]


def check_allergies(plan: Plan, allergies: Sequence[Allergy], catalog: Catalog) -> list[Finding]:
    """Findings for every allergy that concerns something in the syringe (and uncoded ones)."""
    findings: list[Finding] = []
    everything = contacts(plan, catalog)
    groups = group_graph(catalog)
    for allergy in allergies:
        if not allergy.alerts:
            continue
        if not allergy.coded:
            findings += _free_text(allergy, everything, catalog, groups)
            continue
        seen: set[tuple[str, int | None]] = set()
        for contact in everything:
            key = (contact.substance, contact.ingredient)
            if key in seen or contact.substance in allergy.tolerated:
                continue
            finding = _match(allergy, contact, catalog, groups)
            if finding is not None:
                seen.add(key)
                findings.append(finding)
    return findings


def _where(contact: Contact, catalog: Catalog) -> str:
    product = catalog.products[contact.product]
    substance = catalog.substances[contact.substance]
    if contact.role == "excipient":
        return f"{substance.short_name} (excipient of {product.name})"
    return f"{substance.short_name} in {product.name}"


def _match(
    allergy: Allergy, contact: Contact, catalog: Catalog, groups: GroupGraph
) -> Finding | None:
    substance = catalog.substances.get(contact.substance)
    if substance is None:
        return None
    in_syringe = _where(contact, catalog)
    recorded = allergy.label(catalog)
    if allergy.substance == contact.substance:
        return _direct(allergy, contact, f"allergy to {recorded}: {in_syringe} is that substance")
    if allergy.group and contact.substance in groups.members.get(allergy.group, ()):
        return _direct(
            allergy, contact, f"allergy to {recorded}: {in_syringe} belongs to that group"
        )
    # Cross-sensitivity: a shared group, or a group that cross-reacts with one of the allergen's.
    allergen_groups = (
        {allergy.group}
        if allergy.group
        else set(catalog.substances[allergy.substance].allergen_groups)
        if allergy.substance in catalog.substances
        else set()
    )
    reach = set(allergen_groups)
    for group in allergen_groups:
        reach |= groups.related.get(group, frozenset())
    shared = sorted(reach & set(substance.allergen_groups))
    if not shared:
        return None
    names = ", ".join(catalog.groups[g].name for g in shared if g in catalog.groups)
    how = "same group" if set(shared) & allergen_groups else "cross-sensitivity"
    return Finding(
        Severity.WARN,
        "allergy.group_match",
        f"allergy to {recorded} ({allergy.why()}): {in_syringe} — {how} ({names}); "
        "WARNING because it is a group match, not the recorded allergen itself",
        contact.ingredient,
        overridable=False,
        subject=f"{allergy.id}:{contact.substance}",
    )


def _direct(allergy: Allergy, contact: Contact, what: str) -> Finding:
    if allergy.firm:
        why = "BLOCK because the allergy is confirmed and of high criticality"
        if allergy.criticality == "unable-to-assess":
            why = "BLOCK because the allergy is confirmed and its criticality could not be assessed"
        severity = Severity.BLOCK
    else:
        why = (
            f"WARNING because the allergy is {allergy.verification}"
            if allergy.verification != "confirmed"
            else f"WARNING because its criticality is {allergy.criticality}"
        )
        severity = Severity.WARN
    return Finding(
        severity,
        "allergy.direct_match",
        f"{what} ({allergy.why()}); {why}",
        contact.ingredient,
        overridable=severity is Severity.BLOCK,
        subject=f"{allergy.id}:{contact.substance}",
    )


def _free_text(
    allergy: Allergy, everything: Iterable[Contact], catalog: Catalog, groups: GroupGraph
) -> list[Finding]:
    named = set(free_text_substances(allergy.text, catalog))
    concerned = set(free_text_groups(allergy.text, catalog))
    findings: list[Finding] = []
    seen: set[str] = set()
    for contact in everything:
        if contact.substance in seen or contact.substance in allergy.tolerated:
            continue
        substance = catalog.substances.get(contact.substance)
        if substance is None:
            continue
        hit_groups = concerned & set(substance.allergen_groups)
        if contact.substance in named or hit_groups:
            seen.add(contact.substance)
            reason = (
                "names it"
                if contact.substance in named
                else "concerns " + ", ".join(catalog.groups[g].name for g in sorted(hit_groups))
            )
            findings.append(
                Finding(
                    Severity.WARN,
                    "allergy.free_text_match",
                    f"allergy recorded as free text '{allergy.text}' {reason}: "
                    f"{_where(contact, catalog)} ({allergy.why()}); WARNING until the allergy is coded",
                    contact.ingredient,
                    subject=f"{allergy.id}:{contact.substance}",
                )
            )
    if not named and not concerned:
        findings.append(
            Finding(
                Severity.WARN,
                "allergy.not_coded",
                f"allergy recorded as free text '{allergy.text}' matches nothing mesomix knows: "
                "it cannot be checked — code it against a substance or an allergen group",
                None,
                subject=str(allergy.id),
            )
        )
    return findings
