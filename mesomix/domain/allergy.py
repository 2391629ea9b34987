"""Allergies checked against what is really in the syringe: every active substance and every
excipient of every product drawn, climbing from product to substance to allergen group.

Tiering against alert fatigue (each finding says why it has its tier):
- the recorded allergen itself, or a member of the recorded allergen group, confirmed and of high
  (or unassessed) criticality: BLOCK, which a practitioner may override;
- the same with an unconfirmed allergy or low criticality: WARN;
- a cross-sensitivity (another member of a group, or a group that cross-reacts): WARN;
- free text that very probably means a substance in the syringe — its name or synonym, an
  allergen group's name, or a near spelling of one ("lidocain", "prokaine", "sulphites"), read the
  way the allergy form reads it — is checked as if it were coded to that substance or group, with
  the tiers above ("allergy.free_text_likely_match");
- free text that otherwise mentions something in the syringe (a name among other words, a group's
  trigger word such as "peanut" or "bee sting"): WARN; free text that matches nothing coded: WARN
  "not coded" until someone codes it;
- refuted, entered in error, inactive or resolved allergies, and substances the patient has
  tolerated before: no alert.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from mesomix.domain.catalog import (
    Catalog,
    Coding,
    NoKnownAllergy,
    Product,
    UnrelatedAllergen,
    fold,
)
from mesomix.domain.findings import Finding, Severity
from mesomix.domain.mixture import Plan

# The catalogue search's own typo allowance (none under four letters, one edit up to seven, two
# from eight) and abbreviations: what the allergy form forgives is what the check forgives.
from mesomix.domain.search import ABBREVIATIONS, distance
from mesomix.domain.search import _allowed_edits as allowed_edits

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
    # The allergen as other systems code it (SNOMED CT, RxNorm...), from an import or a statement.
    codings: tuple[Coding, ...] = ()
    # The FHIR resource as received and the allergy as first read from it (fhir.py): what was
    # given is exported as given, with mesomix's own changes merged. Not a medical fact.
    origin: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def coded(self) -> bool:
        return bool(self.substance or self.group)

    def no_known(self, catalog: Catalog) -> NoKnownAllergy | None:
        """The statement this is when it says no allergy of a kind is known: not an allergen."""
        return next(
            (catalog.no_known[c.key] for c in self.codings if c.key in catalog.no_known), None
        )

    def unrelated(self, catalog: Catalog) -> UnrelatedAllergen | None:
        """What its code says when that code is known to relate to nothing mesomix holds."""
        if self.coded:
            return None
        return next(
            (catalog.unrelated[c.key] for c in self.codings if c.key in catalog.unrelated), None
        )

    def by_code(self, catalog: Catalog) -> Allergy:
        """Free text whose code is that of a substance or group mesomix holds, coded to it."""
        if self.coded:
            return self
        for coding in self.codings:
            found = catalog.by_code(coding)
            if found is not None:
                return replace(self, substance=found[0], group=found[1])
        return self

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
        statement = self.no_known(catalog)
        if statement is not None:
            return statement.name
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


def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", fold(text)))


@dataclass(frozen=True)
class Likely:
    """What a free-text allergy very probably means: a substance or an allergen group whose name
    or synonym the text (or one item of a list in it) spells, or nearly spells."""

    phrase: str  # the name or synonym as mesomix knows it: "lidocaine", "Sulfites"
    substance: str | None = None
    group: str | None = None


@dataclass
class FreeTextIndex:
    """Names, synonyms and trigger words as word sequences, so free text is read in one pass;
    what each text concerns is remembered (the same allergies are checked on every keystroke)."""

    substances: dict[tuple[str, ...], set[str]]
    groups: dict[tuple[str, ...], set[str]]
    longest: int
    seen: dict[str, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)
    # Substances' names and synonyms and groups' names, by their number of words: what a whole
    # free text (or one item of a list) is compared with, typos forgiven.
    phrases: dict[int, list[tuple[tuple[str, ...], Likely]]] = field(default_factory=dict)
    # Every word of those names, synonyms and trigger words: (substances, groups) it is part of.
    word_meanings: dict[str, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)
    likely: dict[str, tuple[Likely, ...]] = field(default_factory=dict)

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


_ASIDE = re.compile(r"\s*\([^)]*\)")  # "Sulfites (sulfite antioxidants)" is named "Sulfites"


def free_text_index(catalog: Catalog) -> FreeTextIndex:
    cached = getattr(catalog, "_free_text_index", None)
    if isinstance(cached, FreeTextIndex):
        return cached
    substances: dict[tuple[str, ...], set[str]] = {}
    groups: dict[tuple[str, ...], set[str]] = {}
    phrases: dict[int, list[tuple[tuple[str, ...], Likely]]] = {}
    for substance in catalog.substances.values():
        for name in (substance.name, substance.short_name, *substance.synonyms):
            if words := _words(name):
                substances.setdefault(words, set()).add(substance.code)
        names = (_ASIDE.sub("", substance.name), substance.short_name, *substance.synonyms)
        for name in dict.fromkeys(name.strip() for name in names):
            if words := _words(name):
                phrases.setdefault(len(words), []).append((words, Likely(name, substance.code)))
    for group in catalog.groups.values():
        for trigger in group.triggers:
            if words := _words(trigger):
                groups.setdefault(words, set()).add(group.code)
        # The group's name, not its trigger words: many of those are cautions ("peanut" for soy,
        # "bee sting" for hyaluronidase, "sulfa" for the esters), not what the allergen is.
        for name in _ASIDE.sub("", group.name).split("/"):
            if words := _words(name):
                phrases.setdefault(len(words), []).append(
                    (words, Likely(name.strip(), group=group.code))
                )
    meanings: dict[str, tuple[set[str], set[str]]] = {}
    for table, side in ((substances, 0), (groups, 1)):
        for words, codes in table.items():
            for word in words:
                meanings.setdefault(word, (set(), set()))[side].update(codes)
    for group in catalog.groups.values():
        for word in _words(group.name):
            meanings.setdefault(word, (set(), set()))[1].add(group.code)
    longest = max(map(len, [*substances, *groups]), default=1)
    built = FreeTextIndex(
        substances,
        groups,
        longest,
        phrases=phrases,
        word_meanings={w: (frozenset(s), frozenset(g)) for w, (s, g) in meanings.items()},
    )
    object.__setattr__(catalog, "_free_text_index", built)
    return built


# Where one allergen ends and the next begins in a list typed as free text.
_ITEMS = re.compile(r"[,;/+&|()\[\]\n]|\s[-–]\s|\band\b|\bor\b", re.IGNORECASE)


def likely_allergens(text: str, catalog: Catalog) -> tuple[Likely, ...]:
    """What a free-text allergy very probably means, closest first.

    Each item of the text (split at commas, slashes, brackets, "and", "or") is taken whole: it
    must be a substance's name or synonym or an allergen group's name, word for word, each word
    the same, a clinical abbreviation of it ("hcl"), or within the catalogue search's typo
    allowance (words of four letters or more, one edit up to seven letters, two from eight):
    "lidocain", "prokaine", "sulphites", "parabenes", "xylocane". A word among other words never
    counts alone ("acid", "human", "epi pen"), and a word mesomix knows is never read as a
    misspelling of something it does not mean ("sulfate" is not sulfites, "prilocaine" is not
    procaine)."""
    index = free_text_index(catalog)
    found = index.likely.get(text)
    if found is not None:
        return found
    graph = group_graph(catalog)
    scored: list[tuple[int, Likely]] = []
    for item in _ITEMS.split(text):
        words = _words(item)
        for known, likely in index.phrases.get(len(words), ()) if words else ():
            edits = 0
            for typed, word in zip(words, known, strict=True):
                edit = _edits(typed, word)
                if edit is None or (edit and not _may_mean(typed, likely, index, catalog, graph)):
                    break
                edits += edit
            else:
                scored.append((edits, likely))
    best: dict[tuple[str | None, str | None], Likely] = {}
    for _, likely in sorted(scored, key=lambda pair: pair[0]):
        best.setdefault((likely.substance, likely.group), likely)
    if len(index.likely) > 10_000:  # texts come from charts, but stay bounded
        index.likely.clear()
    found = index.likely[text] = tuple(best.values())
    return found


def _edits(typed: str, known: str) -> int | None:
    """Edits from a typed word to a known one, or None beyond the search's allowance."""
    if typed == known or known in ABBREVIATIONS.get(typed, ()):
        return 0
    allowed = allowed_edits(typed)
    if not allowed or len(known) < 4 or not known.isalpha():
        return None
    edits = distance(typed, known, allowed)
    return edits if edits <= allowed else None


def _may_mean(
    typed: str, likely: Likely, index: FreeTextIndex, catalog: Catalog, graph: GroupGraph
) -> bool:
    """Whether a typed word read with a typo may mean this guess: a word of no name mesomix
    knows may; a word that is one, only when the guess is among what it means."""
    meaning = index.word_meanings.get(typed)
    if meaning is None:
        return True
    substances, groups = meaning
    if likely.substance is not None:
        own = set(catalog.substances[likely.substance].allergen_groups)
        return likely.substance in substances or bool(groups & own)
    members = graph.members.get(likely.group or "", frozenset())
    return likely.group in groups or bool(substances & members)


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
    best: dict[tuple[str, int | None], tuple[Contact, Likely, _Reach, bool]] = {}
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
    """Names a misspelt allergen may mean: what `likely_allergens` reads it as (what the check
    acts on while it stays free text), allergen groups whose name holds what was typed, then
    the substances the catalogue search found for it (typos forgiven), then groups with a word
    close to it ("sulphites" for sulfites)."""
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
    # What the check will read the text as comes first: the practitioner sees what it will do.
    likely = [
        catalog.substances[g.substance].name if g.substance else catalog.groups[g.group or ""].name
        for g in likely_allergens(name, catalog)
    ]
    return list(dict.fromkeys(likely + holding + found + close))[:4]


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
