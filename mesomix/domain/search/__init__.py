"""Catalogue search that forgives typos, fast enough to run on every keystroke.

People look for a product or a substance by a few letters, a synonym, an abbreviation or a
misspelling ("hyaluronc acid", "dexpantenol", "vit c", "b12"). The index is built once from plain
entries and never changes afterwards, so any number of threads may search it at the same time.

How a query is read:

- Text is folded (lower case, accents stripped, non-ASCII digits read as digits) and split into
  words on anything that is not a letter or a digit. A word mixing letters and digits ("b12",
  "5ml") is indexed whole and also as its letter and digit parts, so "b12", "vitamin b12",
  "b 12" and "5ml" against "5 mL" all meet.
- Each query word matches index words in tiers, each with a penalty: the same word in the entry's
  own name or code (0), the same word among its synonyms or through a common abbreviation, or
  every part of a mixed word (1), a word it begins (2: every word may still be being typed), a
  word one or two edits away (4, 6; 5 or 7 for the start of a word, tried only when nothing else
  matched). Edits are allowed only in alphabetic words of four letters or more (one edit up to
  seven letters, two from eight) and are found through a symmetric-delete dictionary (SymSpell's
  idea): a typo costs a few look-ups, not a scan of the vocabulary.
- An entry matches when every query word matches one of its words; its score is the sum of the
  words' best penalties (lower is better) and ties go to the static rank: substances first, then
  shorter names. Entry ids are assigned in that order, so the smallest ids of a set are its best.
- Nothing is scored one by one when it need not be. A one-word query merges the sorted postings of
  its tiers and stops after `limit` entries, however common the word. Longer queries visit tier
  combinations in order of their total penalty and stop as soon as a finished penalty level holds
  enough entries; within a combination the rarest tier's entries are read and the others only
  checked against them, through each entry's own sorted word list when they are few, through the
  posting lists when they are many. Queries of many words first narrow the candidates the same
  way, word by word, rarest first.

words.py reads text into words and allows typos; entries.py is what is indexed and found;
index.py is the index and its search.
"""

from mesomix.domain.search.entries import (
    EXACT,
    PREFIX,
    SYNONYM,
    TYPO,
    Hit,
    Kind,
    Match,
    SearchEntry,
    carried_words,
    product_entry,
    substance_entry,
)
from mesomix.domain.search.index import MAX_LIMIT, SNAPSHOT_FORMAT, CatalogueIndex, DocSet
from mesomix.domain.search.words import (
    ABBREVIATIONS,
    MAX_QUERY_CHARS,
    MAX_TOKENS,
    allowed_edits,
    distance,
)

__all__ = [
    "ABBREVIATIONS",
    "EXACT",
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "MAX_TOKENS",
    "PREFIX",
    "SNAPSHOT_FORMAT",
    "SYNONYM",
    "TYPO",
    "CatalogueIndex",
    "DocSet",
    "Hit",
    "Kind",
    "Match",
    "SearchEntry",
    "allowed_edits",
    "carried_words",
    "distance",
    "product_entry",
    "substance_entry",
]
