"""The strict parser against the hostile corpus and against random text (hypothesis).

Every input, in every kind of field: refused with a QuantityError whose message is specific and
safe to print, or read as a quantity that prints and reads back as itself. As an amount, every
hostile input is refused; the few a clinician may legitimately type read exactly as they mean.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mesomix.domain.text import readable
from mesomix.domain.units import (
    Field,
    QuantityError,
    canonical,
    format_quantity,
    parse_quantity,
    strength_canonical,
)
from tests.hostile import Hostile, corpus
from tests.hostile.harness import message_problems

FIELDS = tuple(Field)


def judge(text: str, field: Field, entry: Hostile) -> list[str]:
    """What is wrong with how the parser answered; empty when it answered well."""
    try:
        quantity = parse_quantity(text, field)
    except QuantityError as exc:
        return message_problems(str(exc), entry, (field.value, "position"), 1_000)
    except Exception as exc:  # the parser may raise nothing else
        return [f"uncaught {type(exc).__name__}: {exc}"]
    shown = format_quantity(quantity, places=6)
    again = parse_quantity(shown, field)
    read = strength_canonical if field is Field.STRENGTH else canonical
    same = read(quantity) == read(again)
    return [] if same else [f"read as {quantity}, printed {shown!r}, read back as {again}"]


def test_the_corpus_in_every_field():
    failures, refused, accepted = [], 0, 0
    for entry in corpus():
        for field in FIELDS:
            problems = judge(entry.text, field, entry)
            try:
                parse_quantity(entry.text, field)
                accepted += 1
            except QuantityError:
                refused += 1
            failures += [f"{field.value} ← {entry.label}: {p}" for p in problems]
        try:
            amount = parse_quantity(entry.text, Field.AMOUNT)
        except QuantityError:
            if entry.amount is not None:
                failures.append(f"amount ← {entry.label}: refused, but means {entry.amount}")
            continue
        if entry.amount is None:
            failures.append(f"amount ← {entry.label}: a hostile amount was read as {amount}")
        elif canonical(amount) != canonical(parse_quantity(entry.amount, Field.AMOUNT)):
            failures.append(f"amount ← {entry.label}: read as {amount}, means {entry.amount}")
    print(
        f"parser: {len(corpus())} hostile inputs × {len(FIELDS)} fields: {refused} refused, "
        f"{accepted} read (each prints and reads back as itself), {len(failures)} failures"
    )
    assert not failures, "\n".join(failures[:60])


def test_every_hostile_amount_is_refused_and_the_legitimate_ones_read_exactly():
    legitimate = [e for e in corpus() if e.amount is not None]
    assert len(legitimate) >= 4 and len(corpus()) - len(legitimate) >= 100
    for entry in legitimate:
        assert canonical(parse_quantity(entry.text)) == canonical(parse_quantity(entry.amount))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=60), field=st.sampled_from(FIELDS))
def test_random_text_is_read_or_refused_with_a_message(text, field):
    problems = judge(text, field, Hostile(0, "hypothesis", text))
    assert not problems, problems


QUANTITY_LIKE = st.builds(
    lambda number, space, unit: f"{number}{space}{unit}",
    st.one_of(
        st.integers(min_value=-10, max_value=10**10).map(str),
        st.decimals(allow_nan=True, allow_infinity=True, places=8).map(str),
        st.from_regex(r"[0-9٠-٩０-９.,eE+\-]{1,8}", fullmatch=True),
    ),
    st.sampled_from(["", " ", "\u00a0", "\u200b", "\t", "  "]),
    st.sampled_from(
        [
            "mg",
            "mL",
            "ml",
            "ML",
            "Mg",
            "IU",
            "U",
            "u",
            "units",
            "mcg",
            "µg",
            "g",
            "kg",
            "L",
            "%",
            "mg/mL",
            "mg / 2 mL",
            "gr",
            "mgs",
            "mEq",
            "mmol",
            "cc",
            "",
        ]
    ),
)


@settings(max_examples=400, deadline=None)
@given(text=QUANTITY_LIKE, field=st.sampled_from(FIELDS))
def test_quantity_like_text_is_read_exactly_or_refused(text, field):
    """Text shaped like a quantity (numbers of every form, spaces visible and not, the units pint
    misreads): whatever is read prints and reads back as itself; nothing else escapes."""
    problems = judge(text, field, Hostile(0, "hypothesis", text))
    assert not problems, problems


@given(text=st.text())
def test_messages_quoting_any_text_are_safe_to_print(text):
    shown = readable(f"unknown product '{text}': use a code")
    assert not message_problems(shown, Hostile(0, "hypothesis", text), (), 1_000)
