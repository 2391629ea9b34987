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

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from mesomix.domain.catalog import Catalog, Product, fold
from mesomix.domain.findings import Finding, Severity
from mesomix.domain.mixture import Plan

CLINICAL_STATUSES = ("active", "inactive", "resolved")
VERIFICATIONS = ("unconfirmed", "confirmed", "refuted", "entered-in-error")  # FHIR R4
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
    salts: dict[str, frozenset[str]] = field(default_factory=dict)  # element -> salts supplying it
    reach: dict[tuple[str | None, str | None], _Reach] = field(default_factory=dict)


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


def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", fold(text)))


@dataclass
class FreeTextIndex:
    """Names, synonyms and trigger words as word sequences, so free text is read in one pass;
    what each text concerns is remembered (the same allergies are checked on every keystroke)."""

    substances: dict[tuple[str, ...], set[str]]
    groups: dict[tuple[str, ...], set[str]]
    longest: int
    seen: dict[str, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)

    def read(self, text: str) -> tuple[frozenset[str], frozenset[str]]:
        """(substance codes named, allergen group codes concerned) by whole-word mention."""
        found = self.seen.get(text)
        if found is None:
            words = _words(text)
            substances: set[str] = set()
            groups: set[str] = set()
            for start in range(len(words)):
                for length in range(1, min(self.longest, len(words) - start) + 1):
                    phrase = words[start : start + length]
                    substances |= self.substances.get(phrase, set())
                    groups |= self.groups.get(phrase, set())
            if len(self.seen) > 10_000:  # texts come from charts, but stay bounded
                self.seen.clear()
            found = self.seen[text] = (frozenset(substances), frozenset(groups))
        return found


def free_text_index(catalog: Catalog) -> FreeTextIndex:
    cached = getattr(catalog, "_free_text_index", None)
    if cached is not None:
        return cached
    substances: dict[tuple[str, ...], set[str]] = {}
    groups: dict[tuple[str, ...], set[str]] = {}
    for substance in catalog.substances.values():
        for name in (substance.name, substance.short_name, *substance.synonyms):
            if words := _words(name):
                substances.setdefault(words, set()).add(substance.code)
    for group in catalog.groups.values():
        for trigger in group.triggers:
            if words := _words(trigger):
                groups.setdefault(words, set()).add(group.code)
    longest = max(map(len, [*substances, *groups]), default=1)
    built = FreeTextIndex(substances, groups, longest)
    object.__setattr__(catalog, "_free_text_index", built)
    return built


def free_text_groups(text: str, catalog: Catalog) -> frozenset[str]:
    """Allergen groups a free-text allergy concerns, through each group's trigger words."""
    return free_text_index(catalog).read(text)[1]


def free_text_substances(text: str, catalog: Catalog) -> frozenset[str]:
    """Substances a free-text allergy names outright (name or synonym), as whole words."""
    return free_text_index(catalog).read(text)[0]


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


@dataclass(frozen=True)
class _Reach:
    """What one allergen concerns: itself (or its group's members), and what shares or
    cross-reacts with its groups, with the groups that link them."""

    direct: frozenset[str]
    related: dict[str, tuple[str, ...]]
    own_groups: frozenset[str]
    ions: dict[str, str] = field(default_factory=dict)  # same element: how it concerns the allergen


def _reach(allergy: Allergy, catalog: Catalog, groups: GroupGraph) -> _Reach:
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
    found = groups.reach[key] = _Reach(direct | frozenset(ions), related, own, ions)
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


def _related(allergy: Allergy, contact: Contact, reach: _Reach, catalog: Catalog) -> Finding:
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
    # Until it is coded, free text is only partly understood: say so every time.
    understood = "matches nothing mesomix knows" if not named and not concerned else "is not coded"
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


def code_typed(name: str, catalog: Catalog) -> tuple[str | None, str | None, str]:
    """What a typed allergen means: (substance, None, "") or (None, group, "") when the name,
    code or synonym is unambiguous; otherwise (None, None, text) kept as typed, 'not coded'."""
    found = catalog.resolve(name)
    if found is not None and found.code in catalog.substances:
        return found.code, None, ""
    key = fold(name)
    group = next((g for g in catalog.groups.values() if key in (fold(g.name), fold(g.code))), None)
    if group is not None:
        return None, group.code, ""
    return None, None, name.strip()


def allergen_guesses(name: str, catalog: Catalog, substances: Sequence[str]) -> list[str]:
    """Names a misspelt allergen may mean: allergen groups whose name holds what was typed,
    then the substances the catalogue search found for it (typos forgiven), then groups with a
    word close to it ("sulphites" for sulfites)."""
    key = fold(name).strip()
    if not key:
        return []
    holding, close = [], []
    for group in catalog.groups.values():
        folded = fold(group.name)
        if len(key) >= 4 and key in folded:
            holding.append(group.name)
        elif difflib.get_close_matches(key, re.findall(r"[a-z0-9]+", folded), n=1, cutoff=0.8):
            close.append(group.name)
    found = [catalog.substances[code].name for code in substances if code in catalog.substances]
    return list(dict.fromkeys(holding + found + close))[:4]
