"""The check: every allergy against everything the patient will meet, tiered as the package says."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from mesomix.domain.allergy.contacts import Contact, GroupGraph, Reach, contacts, group_graph
from mesomix.domain.allergy.free_text import (
    Likely,
    free_text_groups,
    free_text_substances,
    likely_allergens,
)
from mesomix.domain.allergy.record import Allergy
from mesomix.domain.catalog import Catalog
from mesomix.domain.findings import Finding, Severity
from mesomix.domain.mixture import Plan


def check_allergies(plan: Plan, allergies: Sequence[Allergy], catalog: Catalog) -> list[Finding]:
    """Findings for every allergy that concerns something in the syringe (and uncoded ones)."""
    findings: list[Finding] = []
    everything = contacts(plan, catalog)
    groups = group_graph(catalog)
    for allergy in allergies:
        if not allergy.alerts or allergy.no_known(catalog) is not None:
            continue  # a statement that no allergy is known is never an allergen
        allergy = allergy.by_code(catalog)
        if not allergy.coded:
            findings += _free_text(allergy, everything, catalog, groups)
            continue
        reach = _reach(allergy, catalog, groups)
        seen: set[tuple[str, int | None]] = set()
        for contact in everything:
            key = (contact.substance, contact.ingredient)
            if key in seen or contact.substance in allergy.tolerated:
                continue
            if contact.substance in reach.direct:
                seen.add(key)
                how = reach.ions.get(contact.substance) or (
                    "is that substance" if allergy.substance else "belongs to that group"
                )
                what = f"allergy to {allergy.label(catalog)}: {_where(contact, catalog)} {how}"
                findings.append(_direct(allergy, contact, what))
            elif contact.substance in reach.related:
                seen.add(key)
                findings.append(_related(allergy, contact, reach, catalog))
    return findings


def _reach(allergy: Allergy, catalog: Catalog, groups: GroupGraph) -> Reach:
    key = (allergy.substance, allergy.group)
    found = groups.reach.get(key)
    if found is not None:
        return found
    if allergy.substance:
        direct = frozenset({allergy.substance})
        substance = catalog.substances.get(allergy.substance)
        own = frozenset(substance.allergen_groups) if substance else frozenset()
    else:
        direct = groups.members.get(allergy.group or "", frozenset())
        own = frozenset({allergy.group or ""})
    linked = set(own)
    for group in own:
        linked |= groups.related.get(group, frozenset())
    related: dict[str, tuple[str, ...]] = {}
    for group in sorted(linked):
        name = catalog.groups[group].name if group in catalog.groups else group
        how = "same group" if group in own else "cross-sensitivity"
        for member in groups.members.get(group, frozenset()):
            if member not in direct:
                related[member] = (*related.get(member, ()), f"{how}: {name}")
    # Metal hypersensitivity is to the ion: a salt, its element and the element's other salts
    # concern each other as directly as the recorded allergen itself.
    ions: dict[str, str] = {}
    substance = catalog.substances.get(allergy.substance or "")
    element = (
        substance.elemental.substance if substance and substance.elemental else allergy.substance
    )
    if element and (element != allergy.substance or element in groups.salts):
        element_name = (
            catalog.substances[element].short_name if element in catalog.substances else element
        )
        for other in {element, *groups.salts.get(element, frozenset())} - direct:
            ions[other] = f"supplies {element_name}, as the recorded allergen does"
            related.pop(other, None)
    found = groups.reach[key] = Reach(direct | frozenset(ions), related, own, ions)
    return found


def _where(contact: Contact, catalog: Catalog) -> str:
    product = catalog.products[contact.product]
    substance = catalog.substances[contact.substance]
    if contact.role == "active":
        return f"{substance.short_name} in {product.name}"
    if contact.role == "reconstitution":
        return f"{substance.short_name} (in what {product.name} is reconstituted with)"
    if contact.role == "stopper":
        return f"{substance.short_name} (the stopper of {product.name})"
    return f"{substance.short_name} ({contact.role} of {product.name})"


def _related(allergy: Allergy, contact: Contact, reach: Reach, catalog: Catalog) -> Finding:
    links = "; ".join(reach.related[contact.substance])
    return Finding(
        Severity.WARN,
        "allergy.group_match",
        f"allergy to {allergy.label(catalog)} ({allergy.why()}): {_where(contact, catalog)} — "
        f"{links}; WARNING because it is a group match, not the recorded allergen itself",
        contact.ingredient,
        overridable=False,
        subject=f"{allergy.id}:{contact.substance}",
    )


def _tier(allergy: Allergy) -> tuple[Severity, str]:
    """Block or warn, and why, for an allergy that concerns the substance itself."""
    if allergy.firm:
        if allergy.criticality == "unable-to-assess":
            return (
                Severity.BLOCK,
                "BLOCK because the allergy is confirmed and its criticality could not be assessed",
            )
        return Severity.BLOCK, "BLOCK because the allergy is confirmed and of high criticality"
    if allergy.verification != "confirmed":
        return Severity.WARN, f"WARNING because the allergy is {allergy.verification}"
    return Severity.WARN, f"WARNING because its criticality is {allergy.criticality}"


def _direct(allergy: Allergy, contact: Contact, what: str) -> Finding:
    severity, why = _tier(allergy)
    return Finding(
        severity,
        "allergy.direct_match",
        f"{what} ({allergy.why()}); {why}",
        contact.ingredient,
        overridable=severity is Severity.BLOCK,
        subject=f"{allergy.id}:{contact.substance}",
    )


def _free_text(
    allergy: Allergy, everything: Sequence[Contact], catalog: Catalog, groups: GroupGraph
) -> list[Finding]:
    likely = likely_allergens(allergy.text, catalog)
    findings, seen = _likely_matches(allergy, likely, everything, catalog, groups)
    named = set(free_text_substances(allergy.text, catalog))
    concerned = set(free_text_groups(allergy.text, catalog))
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
    unrelated = allergy.unrelated(catalog)
    if unrelated is not None and not findings:
        # Its code is known, and known to concern nothing mesomix holds: a note, not a warning.
        findings.append(
            Finding(
                Severity.INFO,
                "allergy.unrelated_code",
                f"allergy to {unrelated.coding} ({allergy.why()}): nothing in this mixture "
                f"relates to it — {unrelated.why}",
                None,
                subject=str(allergy.id),
            )
        )
        return findings
    # Until it is coded, free text is only partly understood: say so every time.
    if likely:
        phrases = dict.fromkeys(guess.phrase for guess in likely)
        understood = f"is not coded (probably {', '.join(phrases)})"
    elif named or concerned:
        understood = "is not coded"
    else:
        understood = "matches nothing mesomix knows"
    findings.append(
        Finding(
            Severity.WARN,
            "allergy.not_coded",
            f"allergy recorded as free text '{allergy.text}' {understood}: it can only be checked "
            "in part — code it against a substance or an allergen group",
            None,
            subject=str(allergy.id),
        )
    )
    return findings


def _likely_matches(
    allergy: Allergy,
    likely: Sequence[Likely],
    everything: Sequence[Contact],
    catalog: Catalog,
    groups: GroupGraph,
) -> tuple[list[Finding], set[str]]:
    """Free text that very probably means a substance or group is checked as if it were coded
    to it: the same reach (the substance, its group's members, the same element, cross-
    sensitivities) and the same tiers, so a confirmed high-criticality 'lidocain' blocks
    lidocaine and a practitioner may sign it off; the message says how it was read."""
    best: dict[tuple[str, int | None], tuple[Contact, Likely, Reach, bool]] = {}
    for guess in likely:
        reach = _reach(
            replace(allergy, substance=guess.substance, group=guess.group), catalog, groups
        )
        for contact in everything:
            if contact.substance in allergy.tolerated:
                continue
            direct = contact.substance in reach.direct
            if not direct and contact.substance not in reach.related:
                continue
            key = (contact.substance, contact.ingredient)
            if key not in best or (direct and not best[key][3]):
                best[key] = (contact, guess, reach, direct)
    findings: list[Finding] = []
    read = f"allergy recorded as '{allergy.text}' (not coded) is probably"
    for contact, guess, reach, direct in best.values():
        where = _where(contact, catalog)
        if direct:
            severity, why = _tier(allergy)
            element = catalog.substances[contact.substance].elemental
            if contact.substance in reach.ions and element is not None:
                where += f", which supplies {catalog.substances[element.substance].short_name}"
            action = ", or a practitioner overrides" if severity is Severity.BLOCK else ""
            message = (
                f"{read} {guess.phrase}, which this mixture contains: {where} "
                f"({allergy.why()}); {why}: code the allergy{action}"
            )
        else:
            severity = Severity.WARN
            message = (
                f"{read} {guess.phrase}: {where} — {'; '.join(reach.related[contact.substance])} "
                f"({allergy.why()}); WARNING because it is a group match, not the allergen "
                "itself: code the allergy"
            )
        findings.append(
            Finding(
                severity,
                "allergy.free_text_likely_match",
                message,
                contact.ingredient,
                overridable=severity is Severity.BLOCK,
                subject=f"{allergy.id}:{contact.substance}",
            )
        )
    return findings, {substance for substance, _ in best}
