"""Catalogue search: misspellings, synonyms and prefixes find the right entry; hostile text is
harmless; the fast paths rank exactly as a plain, slow reading of the rules does."""

from __future__ import annotations

import marshal
import random
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import FrozenInstanceError
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.bench_search import MISSPELT, right_in_top, synthetic_catalogue
from mesomix.domain.catalog import fold
from mesomix.domain.search import (
    ABBREVIATIONS,
    CatalogueIndex,
    Hit,
    SearchEntry,
    distance,
    product_entry,
    substance_entry,
)
from mesomix.domain.search import index as search
from mesomix.reference import load_catalog
from tests.hostile import corpus

CATALOG = load_catalog()


def shipped_entries() -> list[SearchEntry]:
    entries = [substance_entry(s) for s in CATALOG.substances.values()]
    for product in CATALOG.products.values():
        carried = [CATALOG.substances[s.substance] for s in product.strengths]
        entries.append(product_entry(product.code, product.name, carried))
    return entries


SHIPPED = CatalogueIndex(shipped_entries())  # hypothesis tests cannot take function fixtures


def means(code: str) -> set[str]:
    """The substances an entry of the shipped catalogue is or carries."""
    if code in CATALOG.substances:
        return {code}
    return {s.substance for s in CATALOG.products[code].strengths}


# ---------------------------------------------------------------- the shipped catalogue


@pytest.mark.parametrize(
    ("query", "substance"),
    [
        *MISSPELT.items(),
        ("lido", "lidocaine_hcl"),
        ("hyal", "sodium_hyaluronate"),
        ("hyal", "hyaluronidase"),
        ("lidocaine_hcl", "lidocaine_hcl"),  # a code
        ("adrenaline", "epinephrine"),  # a synonym
        ("lignocaine", "lidocaine_hcl"),
        ("vitamin c", "ascorbic_acid"),
        ("vitamin b12", "cyanocobalamin"),
        ("b 12", "cyanocobalamin"),
        ("Lidocaïne", "lidocaine_hcl"),  # accents are folded away
        ("NOVOCAIN", "procaine_hcl"),
        ("dexpante", "dexpanthenol"),  # a misspelt word still being typed
        ("saline", "sodium_chloride"),
        ("zinc sulphate", "zinc_sulfate_heptahydrate"),
        ("txa", "tranexamic_acid"),
    ],
)
def test_misspellings_synonyms_prefixes_and_codes_find_the_right_entry(query, substance):
    hits = SHIPPED.search(query)
    assert hits, query
    assert any(substance in means(h.code) for h in hits), (query, [h.code for h in hits])


def test_a_product_is_found_by_its_code_first():
    hits = SHIPPED.search("  Lidocaine_2PCT_2ml_amp ")
    assert (hits[0].code, hits[0].kind, hits[0].match) == (
        "lidocaine_2pct_2ml_amp",
        "product",
        "exact",
    )


def test_how_it_matched_is_said():
    def best(query: str) -> Hit:
        return SHIPPED.search(query, 1)[0]

    assert (best("tranexamic").code, best("tranexamic").match) == ("tranexamic_acid", "exact")
    assert best("vit c").match == "synonym"  # "vit" stands for vitamin
    assert best("lido").match == "prefix"
    assert best("biotn").match == "typo"
    assert best("biotn").score > best("biot").score > best("biotin").score


def test_substances_come_before_products_and_shorter_names_first():
    hits = SHIPPED.search("lidocaine", 5)
    assert hits[0].kind == "substance"
    products = [h for h in hits if h.kind == "product" and h.score == hits[1].score]
    assert [len(h.name) for h in products] == sorted(len(h.name) for h in products)


def test_the_limit_is_kept():
    assert len(SHIPPED.search("vitamin", 3)) == 3
    assert len(SHIPPED.search("m", 50)) == 50
    assert len(SHIPPED.search("vitamin", 1000)) == 35  # every entry with the word, no more
    assert SHIPPED.search("vitamin", 0) == SHIPPED.search("vitamin", -1) == []


@pytest.mark.parametrize(
    "query",
    [
        "",
        " ",
        "   \t\n ",
        "%",
        "%%%_*",
        "'; DROP TABLE product; --",
        '" OR 1=1 --',
        "[bold]x[/]",
        "[red]lidocaine[/red]",
        "x" * 10_000,
        "ab" * 5_000,
        "lidocaine " * 1_000,
        "\x00",
        "lido\x00caine",
        "\x1b[31mred\x1b[0m",
        "".join(map(chr, range(32))),
        "💉💊",
        "lidocaine 💉",
        "١٢",  # Arabic-Indic digits
        "१२",  # Devanagari digits
        "Ⅻ ½ ²",
        "\ud800",  # a lone surrogate
        "ﬁ ß İ",
        "a b c d e f g h i j k l m n o p",
        "1 2 3 4 5 6 7 8 9 0",
    ],
)
def test_hostile_queries_return_quietly(query):
    hits = SHIPPED.search(query)
    assert len(hits) <= 5
    assert all(isinstance(h, Hit) for h in hits)


def test_the_hostile_corpus_returns_quietly():
    for hostile in corpus():
        hits = SHIPPED.search(hostile.text)
        assert len(hits) <= 5 and all(isinstance(h, Hit) for h in hits), hostile.label


def test_non_ascii_digits_are_read_as_digits():
    assert SHIPPED.search("b١٢", 1)[0].code == "cyanocobalamin"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80), st.integers(min_value=-2, max_value=30))
def test_any_text_is_a_query(query, limit):
    hits = SHIPPED.search(query, limit)
    assert len(hits) <= max(limit, 0)
    assert len({(h.kind, h.code) for h in hits}) == len(hits)


def test_the_index_is_immutable_and_shared_by_threads():
    with pytest.raises(AttributeError):
        SHIPPED.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(FrozenInstanceError):
        SHIPPED.search("lido", 1)[0].code = "x"  # type: ignore[misc]
    queries = ["lido", "vit c", "hyaluronc acid", "b12", "5ml", "dexpante", "zinc", "", "💉"] * 20
    alone = [SHIPPED.search(q) for q in queries]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(SHIPPED.search, queries))
    assert together == alone == [SHIPPED.search(q) for q in queries]


def test_edit_distance():
    assert distance("biotin", "biotin", 2) == 0
    assert distance("biotn", "biotin", 1) == 1
    assert distance("boitin", "biotin", 1) == 1  # neighbours swapped: one edit
    assert distance("dexpantenol", "dexpanthenol", 2) == 1
    assert distance("abcdef", "uvwxyz", 2) == 3  # over the limit: limit + 1
    assert distance("dexpante", "dexpanthenol", 2, prefix=True) == 1
    assert distance("lido", "lidocaine", 1, prefix=True) == 0


def test_the_smallest_ids_either_way():
    dense = set(range(0, 100_000, 3))
    assert search._smallest(dense, 5, 100_000) == [0, 3, 6, 9, 12]  # walks the ids in order
    sparse = set(range(99_999, 50_000, -97))
    assert search._smallest(sparse, 3, 100_000) == sorted(sparse)[:3]  # a heap over the set
    assert search._smallest({7, 99_999, 5}, 5, 100_000) == [5, 7, 99_999]


def test_empty_index_and_odd_entries():
    assert CatalogueIndex([]).search("lido") == []
    odd = CatalogueIndex(
        [
            SearchEntry("", "product", "Nameless"),
            SearchEntry("x1", "product", "Lido", ["lidocaine"]),  # type: ignore[arg-type]
            SearchEntry("x1", "product", "Lido again"),  # the same code twice: the first is kept
        ]
    )
    assert odd.search("") == odd.search("  ") == []
    assert [(h.code, h.name, h.match) for h in odd.search("lidoc")] == [("x1", "Lido", "prefix")]


# ---------------------------------------------------------------- the rules, read plainly


def digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(c, c)) for c in text)


def plain_words(text: str) -> set[str]:
    runs = re.findall(r"[^\W_]+", digits(fold(text)))
    return set(runs) | {part for run in runs for part in re.findall(r"\d+|[^\W\d_]+", run)}


class PlainRules:
    """The ranking rules of mesomix/domain/search.py applied to every entry, slowly: an oracle
    for the index's shortcuts."""

    def __init__(self, entries: list[SearchEntry]) -> None:
        unique = {}
        for entry in entries:
            unique.setdefault((entry.kind, entry.code), entry)
        self.ordered = sorted(
            unique.values(), key=lambda e: (e.kind != "substance", len(e.name), e.name, e.code)
        )
        self.own = [plain_words(f"{e.name} {e.code}") for e in self.ordered]
        self.other = [set().union(*map(plain_words, e.words)) for e in self.ordered]
        self.vocabulary = set().union(*self.own, *self.other)
        self.longest = max((len(w) for w in self.vocabulary if w.isalpha()), default=0)

    def edits(self, token: str) -> int:
        if not token.isalpha() or len(token) < 4:
            return 0
        edits = 1 if len(token) <= 7 else 2
        return edits if len(token) <= self.longest + edits else 0

    def word_penalty(self, token: str, word: str, own_field: bool) -> int | None:
        found = []
        if word == token:
            found.append(0 if own_field else 1)
        if word in ABBREVIATIONS.get(token, ()):
            found.append(1)
        if word.startswith(token):
            found.append(2 if own_field else 3)
        edits = self.edits(token)
        if edits and word.isalpha() and len(word) >= 3:
            n = distance(token, word, edits)
            if 0 < n <= edits:
                found.append(2 + 2 * n)
        return min(found, default=None)

    def penalties(self, token: str) -> list[int | None]:
        """Each entry's penalty for one query word (None: the word does not match it)."""
        own = {w: self.word_penalty(token, w, True) for w in self.vocabulary}
        other = {w: self.word_penalty(token, w, False) for w in self.vocabulary}
        pieces = list(dict.fromkeys(re.findall(r"\d+|[^\W\d_]+", token)))
        close = [{p, *ABBREVIATIONS.get(p, ())} for p in pieces]
        result = []
        for mine, theirs in zip(self.own, self.other, strict=True):
            found = [own[w] for w in mine] + [other[w] for w in theirs]
            if len(pieces) > 1 and all(words & (mine | theirs) for words in close):
                found.append(1)
            result.append(min((f for f in found if f is not None), default=None))
        edits = self.edits(token)
        if all(r is None for r in result) and len(token) >= 5 and edits:
            for i, words in enumerate(map(set.union, self.own, self.other)):
                near = [
                    distance(token, w[: len(token) + edits], edits, prefix=True)
                    for w in words
                    if w[:2] == token[:2]
                ]
                if near and min(near) <= edits:
                    result[i] = 2 + 2 * min(near) + 1
        return result

    def search(self, query: str, limit: int) -> list[tuple[str, str, int]]:
        tokens = list(dict.fromkeys(re.findall(r"[^\W_]+", digits(fold(query[:256])))))[:10]
        columns = [self.penalties(t) for t in tokens]
        code = query.strip().casefold()
        first = [(e.code, "exact", 0) for e in self.ordered if e.code.casefold() == code]
        ranked = []
        if tokens:
            for i, row in enumerate(zip(*columns, strict=True)):
                if all(p is not None for p in row):
                    ranked.append((sum(row), i, max(row)))  # type: ignore[arg-type]
        ranked.sort()
        kinds = {0: "exact", 1: "synonym", 2: "prefix", 3: "prefix"}
        rest = [(self.ordered[i].code, kinds.get(w, "typo"), score) for score, i, w in ranked]
        return (first + [r for r in rest if r[0] not in {f[0] for f in first}])[:limit]


def typed_queries(entries: list[SearchEntry], count: int, seed: int) -> list[str]:
    """Queries as people type them: words of the catalogue, cut short, misspelt, mixed."""
    rng = random.Random(seed)
    words = sorted(set().union(*(plain_words(f"{e.name} {' '.join(e.words)}") for e in entries)))
    queries = []
    for _ in range(count):
        chosen = []
        for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
            word = rng.choice(words)
            change = rng.random()
            if change < 0.3:
                word = word[: rng.randint(1, len(word))]
            elif change < 0.45 and len(word) > 3:
                i = rng.randrange(len(word))
                word = word[:i] + word[i + 1 :]
            elif change < 0.55 and len(word) > 3:
                i = rng.randrange(len(word) - 1)
                word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            elif change < 0.6:
                word = word.upper()
            chosen.append(word)
        queries.append(" ".join(chosen))
    return [*queries, "vit c", "b12", "5ml", "dexpante", "lidocaine_hcl", "hyaluronc acid", "zzz"]


@pytest.fixture(scope="module")
def medium() -> tuple[CatalogueIndex, dict[str, list[tuple[str, str, int]]]]:
    """A catalogue of 1 500 products, typed queries and what the plain rules rank first."""
    entries = shipped_entries() + synthetic_catalogue(1500, seed=7)[0]
    rules = PlainRules(entries)
    expected = {q: rules.search(q, 8) for q in typed_queries(entries, 50, seed=3)}
    return CatalogueIndex(entries), expected


@pytest.mark.parametrize(
    "paths",
    [
        {"MAX_LIMIT": search.MAX_LIMIT},  # as shipped
        {"FORWARD": 10**9},  # always check candidates' own word lists
        {"FORWARD": 0},  # always probe the posting lists
        {"FEW_COMBINATIONS": 0, "ONE_BY_ONE": 20},  # narrow first, then tier combinations
        {"FEW_COMBINATIONS": 0, "ONE_BY_ONE": 10**9},  # narrow first, then one by one
        {"FEW_COMBINATIONS": 0, "ONE_BY_ONE": 0, "MAX_COMBINATIONS": 1},  # too many: one by one
        {"MAX_COMBINATIONS": 1},  # few combinations, but more than may be visited
    ],
)
def test_every_way_of_searching_ranks_as_the_rules_say(medium, paths):
    index, expected = medium
    with mock.patch.multiple(search, **paths):
        for query, ranked in expected.items():
            assert [(h.code, h.match, h.score) for h in index.search(query, 8)] == ranked, query


def test_a_snapshot_loads_the_index_that_was_kept(medium):
    """What a terminal loads instead of building ranks everything as the index built does."""
    index, expected = medium
    loaded = CatalogueIndex.from_snapshot(index.snapshot())
    assert loaded is not None and len(loaded) == len(index)
    for query, ranked in expected.items():
        assert [(h.code, h.match, h.score) for h in loaded.search(query, 8)] == ranked, query
    for query in ["lidocaine_hcl", "LIDOCAINE_HCL", "dexpante", "x" * 500, ""]:
        assert loaded.search(query, 20) == index.search(query, 20), query


def test_a_snapshot_damaged_or_of_another_kind_is_not_loaded(medium):
    index, _ = medium
    kept = index.snapshot()
    other_format = marshal.dumps((search.SNAPSHOT_FORMAT + 1, *marshal.loads(kept)[1:]))
    unequal = marshal.loads(kept)
    unequal = marshal.dumps((*unequal[:2], unequal[2][:-1], *unequal[3:]))
    for damaged in [b"", b"\x00", kept[: len(kept) // 2], other_format, unequal, marshal.dumps(1)]:
        assert CatalogueIndex.from_snapshot(damaged) is None
    assert CatalogueIndex.from_snapshot(CatalogueIndex([]).snapshot()).search("lido") == []


def test_typo_look_ups_find_every_word_within_reach(medium):
    """The symmetric-delete dictionary misses no word within the allowed edits (and finds no
    other): checked against the distance to every word of the vocabulary."""
    index, _ = medium
    words = [w for w in index._vocabulary if w.isalpha() and len(w) >= 3]
    rng = random.Random(5)
    for _ in range(120):
        token = list(rng.choice(words))
        for _ in range(rng.choice([1, 2, 2, 3])):
            i = rng.randrange(len(token))
            match rng.randrange(4):
                case 0 if len(token) > 1:
                    del token[i]
                case 1:
                    token.insert(i, rng.choice("aeiourstln"))
                case 2:
                    token[i] = rng.choice("aeiourstln")
                case _ if i + 1 < len(token):
                    token[i], token[i + 1] = token[i + 1], token[i]
        typed = "".join(token)
        edits = index._edits(typed)
        found = {index._vocabulary[w]: n for w, n in index._typos(typed, edits)} if edits else {}
        near = {w: distance(typed, w, edits) for w in words} if edits else {}
        assert found == {w: n for w, n in near.items() if 0 < n <= edits}, typed


# ---------------------------------------------------------------- 100 000 products


@pytest.fixture(scope="module")
def large() -> tuple[CatalogueIndex, dict[str, frozenset[str]]]:
    entries, meaning = synthetic_catalogue(100_000)
    return CatalogueIndex(entries), meaning


def test_a_hundred_thousand_products_still_rank_right(large):
    index, meaning = large
    assert len(index) > 100_000
    for query, substance in MISSPELT.items():
        assert right_in_top([h.code for h in index.search(query)], substance, meaning), query
    for query, substance in [("lido", "lidocaine_hcl"), ("hyal", "sodium_hyaluronate")]:
        hits = index.search(query)
        assert hits[0].code == substance and len(hits) == 5


def test_a_hundred_thousand_products_and_common_words(large):
    index, _ = large
    common = ["m", "1", "ml", "5 ml", "vial ampoule", "vitamin b12 1000 mcg 1 ml vial"]
    for query in [*common, *(hostile.text for hostile in corpus())]:
        hits = index.search(query, 10)
        assert len({h.code for h in hits}) == len(hits) <= 10
        assert [h.score for h in hits] == sorted(h.score for h in hits)
