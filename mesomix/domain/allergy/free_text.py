"""Allergens typed as free text, read the way the allergy form reads them: names, synonyms, allergen
groups and near spellings, with the catalogue search's own typo allowance and abbreviations."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from mesomix.domain.allergy.contacts import GroupGraph, group_graph
from mesomix.domain.catalog import Catalog, fold

# The catalogue search's own typo allowance (none under four letters, one edit up to seven, two
# from eight) and abbreviations: what the allergy form forgives is what the check forgives.
from mesomix.domain.search import ABBREVIATIONS, allowed_edits, distance


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
