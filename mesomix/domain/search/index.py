"""The index built once from the entries, and its search: postings by tier, tier combinations
visited in order of penalty, and the set arithmetic over entry ids. Over 400 lines, kept whole:
one structure whose search walks its own postings; the tuning constants sit beside it (the tests
vary them here to check every way of searching ranks the same)."""

from __future__ import annotations

import contextlib
import gc
import heapq
import itertools
import marshal
import math
import sys
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from mesomix.domain.search.entries import EXACT, PREFIX, SYNONYM, TYPO, Hit, SearchEntry, match_of
from mesomix.domain.search.words import (
    ABBREVIATIONS,
    WORD_PARTS,
    allowed_edits,
    distance,
    query_runs,
    symmetric_deletes,
    word_set,
)

MAX_LIMIT = 1000


FEW_COMBINATIONS = 64  # a query with as few tier combinations visits them without narrowing


MAX_COMBINATIONS = 64  # tier combinations visited before scoring the candidates one by one


ONE_BY_ONE = 2000  # as many candidates are scored one by one, more through tier combinations


FORWARD = 40  # checking an entry's own word list costs about as much as probing 40 postings


_TOP = chr(0x10FFFF)


DocSet = set[int] | frozenset[int]


OWN, OTHER, BOTH = 1, 2, 3  # which of an entry's word lists a tier looks in


SNAPSHOT_FORMAT = 3  # raised whenever what the index keeps, or how, changes


class _Lists:
    """Many lists of ids (entries of each word, words of each typo variant) packed end to end in
    one array, with where each starts: two objects where a tuple each would be a few hundred
    thousand, for the garbage collector to walk and a snapshot to load. A list is read as a
    slice of the array (a copy in one call; it iterates, sizes and slices as a tuple does)."""

    __slots__ = ("starts", "values")

    def __init__(self, values: array[int], starts: array[int]) -> None:
        self.values, self.starts = values, starts  # starts[i]: where list i begins; then the end

    @classmethod
    def of(cls, lists: Iterable[Iterable[int]]) -> _Lists:
        values, starts = array("I"), array("Q", [0])
        for ids in lists:
            values.extend(ids)
            starts.append(len(values))
        return cls(values, starts)

    @classmethod
    def unpacked(cls, values: bytes, starts: bytes) -> _Lists:
        lists = cls(array("I"), array("Q"))
        lists.values.frombytes(values)
        lists.starts.frombytes(starts)
        return lists

    def packed(self) -> tuple[bytes, bytes]:
        return self.values.tobytes(), self.starts.tobytes()

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __getitem__(self, i: int) -> array[int]:
        return self.values[self.starts[i] : self.starts[i + 1]]

    def fits(self, count: int) -> bool:
        """Whether these are `count` lists ending where the ids do (what marshal cannot know of
        a snapshot; the ids themselves are trusted as the database holding them is)."""
        return len(self) == count and self.starts[0] == 0 and self.starts[-1] == len(self.values)


# a snapshot is read by the machine that wrote it, or one of the same byte order and int size
_PACKING = f"{sys.byteorder} I{array('I').itemsize} Q{array('Q').itemsize}"


@dataclass(frozen=True, slots=True)
class _Postings:
    """The entries holding some index words (a range of the sorted vocabulary, or a few words)
    in some of their word lists: the sorted posting lists, not yet merged."""

    lists: tuple[Sequence[int], ...]
    size: int
    words: range | frozenset[int]
    fields: int


@dataclass(frozen=True, slots=True)
class _Parts:
    """A mixed word read as its parts ("5ml" as "5" and "ml"): entries holding every part."""

    parts: tuple[tuple[_Postings, ...], ...]  # for each part, the index words it may be
    size: int


Source = _Postings | _Parts


Tier = tuple[int, Source]


class CatalogueIndex:
    """Word index over substances and products; immutable once built, safe to share."""

    __slots__ = (
        "_by_code",
        "_codes",
        "_codes_shared",
        "_deletes",
        "_doc_other",
        "_doc_own",
        "_ids",
        "_kinds",
        "_longest",
        "_names",
        "_other",
        "_own",
        "_variants",
        "_vocabulary",
    )

    def __init__(self, entries: Iterable[SearchEntry]) -> None:
        with _collector_paused():
            self._build(entries)
            self._derive()

    def snapshot(self) -> bytes:
        """The index as bytes, to keep beside the catalogue it was built from: loading it takes a
        tenth of the time building does. marshal, not pickle: plain tuples, dicts, strings, ints
        and bytes, so loading a snapshot can build data but never run code."""
        return marshal.dumps(
            (
                SNAPSHOT_FORMAT,
                _PACKING,
                self._codes,
                self._names,
                self._kinds,
                self._doc_own,
                self._doc_other,
                self._vocabulary,
                self._variants,
                *self._own.packed(),
                *self._other.packed(),
                *self._deletes.packed(),
            )
        )

    @classmethod
    def from_snapshot(cls, data: bytes) -> CatalogueIndex | None:
        """The index a snapshot holds; None for one of another format or machine, or damaged
        (the caller then builds the index again)."""
        try:
            with _collector_paused():
                kept = marshal.loads(data)
                if not isinstance(kept, tuple) or kept[:2] != (SNAPSHOT_FORMAT, _PACKING):
                    return None
                codes, names, kinds, doc_own, doc_other, vocabulary, variants, *packed = kept[2:]
                index = cls.__new__(cls)
                index._codes, index._names, index._kinds = codes, names, kinds
                index._doc_own, index._doc_other = doc_own, doc_other
                index._vocabulary, index._variants = vocabulary, variants
                index._own = _Lists.unpacked(*packed[0:2])
                index._other = _Lists.unpacked(*packed[2:4])
                index._deletes = _Lists.unpacked(*packed[4:6])
                if not index._whole():
                    return None
                index._derive()
        except (EOFError, ValueError, TypeError, AttributeError):
            return None
        return index

    def _whole(self) -> bool:
        """Whether what a snapshot held fits together (a damaged one is built again, not used)."""
        entries, words = len(self._codes), len(self._vocabulary)
        return (
            all(isinstance(part, tuple) for part in (self._codes, self._names, self._kinds))
            and all(isinstance(part, tuple) for part in (self._doc_own, self._doc_other))
            and isinstance(self._vocabulary, tuple)
            and isinstance(self._variants, dict)
            and len(self._names) == len(self._kinds) == len(self._doc_own) == entries
            and len(self._doc_other) == entries
            and self._own.fits(words)
            and self._other.fits(words)
            and self._deletes.fits(len(self._variants))
        )

    def _build(self, entries: Iterable[SearchEntry]) -> None:
        unique: dict[tuple[str, str], SearchEntry] = {}
        for entry in entries:
            if not isinstance(entry.words, tuple):  # shared by products: a key, so a tuple
                entry = SearchEntry(entry.code, entry.kind, entry.name, tuple(entry.words))
            unique.setdefault((entry.kind, entry.code), entry)
        ordered = sorted(
            unique.values(), key=lambda e: (e.kind != "substance", len(e.name), e.name, e.code)
        )
        self._codes = tuple(e.code for e in ordered)
        self._names = tuple(e.name for e in ordered)
        self._kinds = tuple(e.kind for e in ordered)
        own: defaultdict[str, list[int]] = defaultdict(list)
        owns: list[str] = []
        # products of the same substances carry the same words: read them once per combination,
        # and kept whole even where the entry's own name has them too (its best tier wins)
        sharing: defaultdict[tuple[str, ...], list[int]] = defaultdict(list)
        for doc, entry in enumerate(ordered):
            mine = word_set(f"{entry.name} {entry.code}")
            for word in mine:
                own[word].append(doc)
            owns.append(" ".join(mine))
            sharing[entry.words].append(doc)
        memo: dict[str, frozenset[str]] = {}

        def text_words(text: str) -> frozenset[str]:
            found = memo.get(text)
            if found is None:
                found = memo[text] = frozenset(word_set(text))
            return found

        other: defaultdict[str, list[int]] = defaultdict(list)
        carried: dict[tuple[str, ...], frozenset[str]] = {}
        for texts, docs in sharing.items():
            carried[texts] = frozenset().union(*map(text_words, texts))
            for word in carried[texts]:
                other[word] += docs  # sorted runs, merged by one sort below
        self._vocabulary = tuple(sorted(own.keys() | other.keys()))
        self._own = _Lists.of(own.get(w, ()) for w in self._vocabulary)
        self._other = _Lists.of(sorted(other.get(w, ())) for w in self._vocabulary)
        # each entry's own words, and the words it carries (one text per combination), a space
        # between words: a few candidates are checked against these rather than probed against
        # long posting lists. Text, not a tuple of words: a hundred thousand tuples would be as
        # many objects for the garbage collector to walk, for as long as the index lives.
        self._doc_own = tuple(owns)
        shared = {key: " ".join(words) for key, words in carried.items()}
        self._doc_other = tuple(shared[entry.words] for entry in ordered)
        deletes: defaultdict[str, list[int]] = defaultdict(list)
        for i, word in enumerate(self._vocabulary):
            if word.isalpha() and len(word) >= 3:
                # Two edits are allowed from eight letters. Against a shorter word such a query
                # is longer, so at least one edit is an insertion and the word needs at most one
                # deletion of its own: two deletions are kept only for words of eight or more.
                for variant in symmetric_deletes(word, 2 if len(word) >= 8 else 1):
                    deletes[variant].append(i)
        self._variants = {variant: i for i, variant in enumerate(deletes)}
        self._deletes = _Lists.of(deletes.values())

    def _derive(self) -> None:
        """What is quicker to work out again than to keep in a snapshot."""
        keys = list(map(str.casefold, self._codes))
        self._by_code = dict(zip(keys, range(len(keys)), strict=True))  # the last of a code
        self._codes_shared: dict[str, tuple[int, ...]] = {}  # a substance's, and a product's
        if len(self._by_code) < len(keys):
            for doc, key in enumerate(keys):
                if self._by_code[key] != doc:
                    shared = self._codes_shared.get(key, ())
                    self._codes_shared[key] = (*shared, doc)
            for key, docs in self._codes_shared.items():
                self._codes_shared[key] = (*docs, self._by_code[key])
        self._ids = {word: i for i, word in enumerate(self._vocabulary)}
        self._longest = max((len(w) for w in self._vocabulary if w.isalpha()), default=0)

    def __len__(self) -> int:
        return len(self._codes)

    @property
    def vocabulary_size(self) -> int:
        return len(self._vocabulary)

    def search(self, query: str, limit: int = 5) -> list[Hit]:
        """The best `limit` entries for a typed query; [] for a query with no letters or digits.

        Never raises on what a person can type or paste; the work is bounded by MAX_QUERY_CHARS
        and MAX_TOKENS whatever the text."""
        if not isinstance(query, str) or limit <= 0 or not self._codes:
            return []
        limit = min(limit, MAX_LIMIT, len(self._codes))
        typed = query.strip().casefold()
        by_code = self._coded(typed) if typed else ()
        tokens = [self._token(run) for run in query_runs(query)]
        found: list[tuple[int, int, int]] = []
        if tokens and all(tokens):
            wanted = limit + len(by_code)
            if len(tokens) == 1:
                found = self._one_word(tokens[0], wanted)
            else:
                found = self._best(tokens, wanted)
        hits = [self._hit(doc, EXACT, EXACT) for doc in by_code]
        hits += [self._hit(doc, score, worst) for score, doc, worst in found if doc not in by_code]
        return hits[:limit]

    def _coded(self, typed: str) -> tuple[int, ...]:
        """The entries whose code is what was typed (but for case)."""
        doc = self._by_code.get(typed)
        return () if doc is None else self._codes_shared.get(typed) or (doc,)

    def _hit(self, doc: int, score: int, worst: int) -> Hit:
        return Hit(self._codes[doc], self._kinds[doc], self._names[doc], match_of(worst), score)

    # ------------------------------------------------------------------ one query word

    def _token(self, run: str) -> list[Tier]:
        """The tiers of entries a query word matches, best first; [] when it matches none."""
        tiers: list[Tier] = list(self._word_tiers(run))
        pieces = list(dict.fromkeys(WORD_PARTS.findall(run)))
        if len(pieces) > 1:
            # "5ml" against "5 mL": every part must be a word of the entry; counts as a synonym
            parts = [[s for p, s in self._word_tiers(piece) if p <= SYNONYM] for piece in pieces]
            if all(parts):
                size = min(sum(s.size for s in sources) for sources in parts)
                tiers.append((SYNONYM, _Parts(tuple(map(tuple, parts)), size)))
        if not tiers:
            tiers = list(self._fuzzy_prefix(run))
        tiers.sort(key=lambda tier: tier[0])
        return tiers

    def _postings(self, word_ids: range | Iterable[int], fields: int = BOTH) -> _Postings | None:
        words = word_ids if isinstance(word_ids, range) else frozenset(word_ids)
        lists = []
        if fields & OWN:
            lists += [self._own[w] for w in words]
        if fields & OTHER:
            lists += [self._other[w] for w in words]
        lists = [p for p in lists if p]
        if not lists:
            return None
        if isinstance(words, range) and fields != BOTH:
            starts = (self._own if fields == OWN else self._other).starts
            size = starts[words.stop] - starts[words.start]
        else:
            size = sum(map(len, lists))
        return _Postings(tuple(lists), size, words, fields)

    def _word_tiers(self, token: str) -> list[tuple[int, _Postings]]:
        tiers: list[tuple[int, _Postings | None]] = []
        exact = self._ids.get(token)
        if exact is not None:
            tiers.append((EXACT, self._postings((exact,), OWN)))
            tiers.append((SYNONYM, self._postings((exact,), OTHER)))
        expanded = [self._ids.get(word) for word in ABBREVIATIONS.get(token, ())]
        tiers.append((SYNONYM, self._postings(w for w in expanded if w is not None)))
        low = bisect_left(self._vocabulary, token)
        high = bisect_left(self._vocabulary, token + _TOP, low)
        longer = range(low + (exact is not None), high)  # the word itself has its better tiers
        tiers.append((PREFIX, self._postings(longer, OWN)))
        tiers.append((PREFIX + 1, self._postings(longer, OTHER)))
        edits = self._edits(token)
        if edits:
            by_edits: defaultdict[int, list[int]] = defaultdict(list)
            for word, count in self._typos(token, edits):
                by_edits[count].append(word)
            tiers += [(TYPO + 2 * n, self._postings(ws)) for n, ws in by_edits.items()]
        return [(p, s) for p, s in tiers if s is not None]

    def _edits(self, token: str) -> int:
        """Edits allowed in a query word; none when it is longer than any word it could be."""
        edits = allowed_edits(token)
        return edits if len(token) <= self._longest + edits else 0

    def _typos(self, token: str, edits: int) -> list[tuple[int, int]]:
        """(word id, edits) of the vocabulary words within `edits` of `token`, itself excluded."""
        seen: set[int] = set()
        found = []
        for variant in symmetric_deletes(token, edits):
            at = self._variants.get(variant)
            for word in self._deletes[at] if at is not None else ():
                if word not in seen:
                    seen.add(word)
                    count = distance(token, self._vocabulary[word], edits)
                    if 0 < count <= edits:
                        found.append((word, count))
        return found

    def _fuzzy_prefix(self, token: str) -> list[tuple[int, _Postings]]:
        """Words a misspelt word-in-progress may be the start of ("dexpante" → dexpanthenol).

        Only for a word that matches nothing else, and only among words that share its first two
        letters (people rarely misspell the start), so the scan stays short."""
        edits = self._edits(token)
        if not edits or len(token) < 5:
            return []
        low = bisect_left(self._vocabulary, token[:2])
        high = bisect_left(self._vocabulary, token[:2] + _TOP, low)
        by_edits: defaultdict[int, list[int]] = defaultdict(list)
        for word in range(low, high):
            start = self._vocabulary[word][: len(token) + edits]
            count = distance(token, start, edits, prefix=True)
            if count <= edits:
                by_edits[count].append(word)
        tiers = [(TYPO + 2 * n + 1, self._postings(ws)) for n, ws in by_edits.items()]
        return [(p, s) for p, s in tiers if s is not None]

    # ------------------------------------------------------------------ entries of a tier

    def _docs(self, source: Source, within: DocSet | None = None) -> DocSet:
        """The entries of a tier, or only those among `within`: checked one by one against
        their own word lists when they are few, else probed against the posting lists."""
        if isinstance(source, _Parts):
            by_size = sorted(source.parts, key=lambda sources: sum(s.size for s in sources))
            for sources in by_size:  # the rarest part first, the others only checked
                within = _union(self._docs(s, within) for s in sources)
                if not within:
                    break
            return within or frozenset()
        if within is None:
            lists = source.lists
            return frozenset(lists[0]) if len(lists) == 1 else set().union(*lists)
        if len(within) * FORWARD < source.size:
            holds = self._holds(source)
            return {doc for doc in within if holds(doc)}
        return within.intersection(itertools.chain.from_iterable(source.lists))

    def _holds(self, source: _Postings) -> Callable[[int], bool]:
        """Whether an entry's own word lists hold one of the source's words."""
        fields = [
            f
            for f, flag in ((self._doc_own, OWN), (self._doc_other, OTHER))
            if source.fields & flag
        ]
        if isinstance(source.words, range):  # words between two words of the sorted vocabulary
            low, high = self._vocabulary[source.words.start], self._vocabulary[source.words[-1]]
            return lambda doc: any(
                low <= w <= high for field in fields for w in field[doc].split(" ")
            )
        words = frozenset(self._vocabulary[i] for i in source.words)
        return lambda doc: any(not words.isdisjoint(field[doc].split(" ")) for field in fields)

    def _first(self, source: Source, count: int) -> list[int]:
        """The `count` smallest entry ids of a tier. Posting lists are merged lazily (a merged
        id repeats only next to itself, so groupby drops the repeats)."""
        if isinstance(source, _Parts):
            return _smallest(self._docs(source), count, len(self._codes))
        if len(source.lists) == 1:
            return list(source.lists[0][:count])
        merged = heapq.merge(*source.lists)
        return [doc for doc, _ in itertools.islice(itertools.groupby(merged), count)]

    # ------------------------------------------------------------------ the best entries

    def _one_word(self, tiers: list[Tier], limit: int) -> list[tuple[int, int, int]]:
        """A one-word query: each tier's smallest ids straight from its sorted postings, tier
        after tier, until a finished penalty level holds `limit` entries."""
        found: dict[int, int] = {}
        level = tiers[0][0]
        for penalty, source in tiers:
            if penalty > level:
                if len(found) >= limit:
                    break
                level = penalty
            for doc in self._first(source, limit + len(found)):
                found.setdefault(doc, penalty)
        ranked = sorted((penalty, doc) for doc, penalty in found.items())
        return [(penalty, doc, penalty) for penalty, doc in ranked[:limit]]

    def _best(self, tokens: list[list[Tier]], limit: int) -> list[tuple[int, int, int]]:
        """(score, entry id, worst penalty) of the best `limit` entries matching every word.

        With few tier combinations (a query of two or three words), they are visited cheapest
        first, each the rarest tier's entries checked against the other words' tiers, and the
        visit stops as soon as the best are known: common words cost little when their exact
        matches suffice. A tier is read whole at most once per query."""
        whole: dict[tuple[int, int], DocSet] = {}

        def size(pick: tuple[int, int]) -> int:
            known = whole.get(pick)
            return len(known) if known is not None else tokens[pick[0]][pick[1]][1].size

        def entries(picks: tuple[int, ...]) -> DocSet:
            chosen = sorted(enumerate(picks), key=size)
            first = chosen[0]
            docs = whole.get(first)
            if docs is None:
                docs = whole[first] = self._docs(tokens[first[0]][first[1]][1])
            for t, i in chosen[1:]:
                if not docs:
                    break
                known = whole.get((t, i))
                docs = docs & known if known is not None else self._docs(tokens[t][i][1], docs)
            return docs

        penalties = [[p for p, _ in tiers] for tiers in tokens]
        if math.prod(map(len, penalties)) <= FEW_COMBINATIONS:
            found = self._by_combination(penalties, entries, limit)
            if found is not None:
                return found
        return self._from_candidates(tokens, limit)

    def _from_candidates(self, tokens: list[list[Tier]], limit: int) -> list[tuple[int, int, int]]:
        """The best entries for many words: the rarest word's entries are the candidates and each
        other word only checks what is left; a few candidates are scored one by one, many
        through tier combinations (one by one again if there are too many of those)."""
        order = sorted(range(len(tokens)), key=lambda t: sum(s.size for _, s in tokens[t]))
        candidates: DocSet | None = None
        tiers: list[list[tuple[int, DocSet]]] = [[] for _ in tokens]
        for t in order:
            tiers[t] = [(p, self._docs(s, candidates)) for p, s in tokens[t]]
            every = _union(docs for _, docs in tiers[t])
            candidates = every if candidates is None else candidates & every
            if not candidates:
                return []
        assert candidates is not None
        tiers = [[(p, docs & candidates) for p, docs in token] for token in tiers]
        tiers = [[(p, docs) for p, docs in token if docs] for token in tiers]
        found = None
        if len(candidates) > ONE_BY_ONE:
            penalties = [[p for p, _ in token] for token in tiers]

            def entries(picks: tuple[int, ...]) -> DocSet:
                return _intersect([tiers[t][i][1] for t, i in enumerate(picks)])

            found = self._by_combination(penalties, entries, limit)
        return found if found is not None else _one_by_one(tiers, candidates, limit)

    def _by_combination(
        self,
        penalties: list[list[int]],
        entries: Callable[[tuple[int, ...]], DocSet],
        limit: int,
    ) -> list[tuple[int, int, int]] | None:
        """Visit tier combinations cheapest first until a finished penalty level holds `limit`
        entries; None when there are more combinations than MAX_COMBINATIONS to visit. An entry
        is first met at its own score: the best tier of each word it holds."""
        start = (0,) * len(penalties)
        heap = [(sum(p[0] for p in penalties), start)]
        queued = {start}
        found: dict[int, tuple[int, int]] = {}
        level = heap[0][0]
        visited = 0
        while heap:
            score, picks = heapq.heappop(heap)
            if score > level:
                if len(found) >= limit:
                    break
                level = score
            if visited == MAX_COMBINATIONS:
                return None
            visited += 1
            worst = max(penalties[t][i] for t, i in enumerate(picks))
            for doc in _smallest(entries(picks), limit + len(found), len(self._codes)):
                found.setdefault(doc, (score, worst))
            for t, i in enumerate(picks):
                if i + 1 < len(penalties[t]):
                    following = (*picks[:t], i + 1, *picks[t + 1 :])
                    if following not in queued:
                        queued.add(following)
                        cost = score - penalties[t][i] + penalties[t][i + 1]
                        heapq.heappush(heap, (cost, following))
        ranked = sorted((score, doc, worst) for doc, (score, worst) in found.items())
        return ranked[:limit]


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Building allocates a few million small objects that all live on; the cyclic garbage
    collector would walk them again and again for nothing (a third of the build time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _one_by_one(
    tiers: list[list[tuple[int, DocSet]]], candidates: DocSet, limit: int
) -> list[tuple[int, int, int]]:
    """Score every candidate: each word's best tier, summed (column by column, in C loops)."""
    docs = list(candidates)
    columns = []
    for token in tiers:
        best: dict[int, int] = {}
        for penalty, members in reversed(token):
            best.update(dict.fromkeys(members, penalty))
        columns.append(list(map(best.__getitem__, docs)))
    rows = list(zip(*columns, strict=True))
    return heapq.nsmallest(limit, zip(map(sum, rows), docs, map(max, rows), strict=True))


def _intersect(sets: list[DocSet]) -> DocSet:
    ordered = sorted(sets, key=len)
    result = ordered[0]
    for other in ordered[1:]:
        if not result:
            break
        result = result & other
    return result


def _union(sets: Iterable[DocSet]) -> DocSet:
    sets = list(sets)
    return sets[0] if len(sets) == 1 else set().union(*sets)


def _smallest(docs: DocSet, count: int, total: int) -> list[int]:
    """The `count` smallest ids of a set of entry ids in [0, total), whichever way is cheaper."""
    size = len(docs)
    if size <= count:
        return sorted(docs)
    if count * total < size * size:
        # dense: walking the ids in order meets `count` members after about count*total/size
        return list(itertools.islice(filter(docs.__contains__, range(total)), count))
    return heapq.nsmallest(count, docs)
