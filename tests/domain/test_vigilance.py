"""Signals from the reactions traced to lots: a count within a window, a rate against the
product's other lots; the count checked against a brute-force oracle over random histories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import combinations

from hypothesis import given
from hypothesis import strategies as st

from mesomix.domain.reactions import ReactionKind
from mesomix.domain.vigilance import CountRule, LotReaction, RateRule, count_signals, rate_signals
from mesomix.reference import signal_rules

DAY0 = datetime(2026, 1, 1, 9, tzinfo=UTC)
INFECTIONS = frozenset({ReactionKind.INFECTION, ReactionKind.NODULE})
COUNT = CountRule("infections", INFECTIONS, 2, 30, "clinic rule")
RATE = RateRule("rate", INFECTIONS, 3, 3.0, "clinic rule")


def reaction(n: int, lot: int, day: int, kind=ReactionKind.INFECTION, product="p") -> LotReaction:
    return LotReaction(n, lot, product, kind, DAY0 + timedelta(days=day), f"P-{n}")


def test_two_infections_from_one_lot_within_a_month_are_a_signal():
    (signal,) = count_signals(
        [reaction(1, 7, 0), reaction(2, 7, 29, ReactionKind.NODULE), reaction(3, 8, 1)], [COUNT]
    )
    assert (signal.lot_id, [r.patient for r in signal.reactions]) == (7, ["P-1", "P-2"])
    assert signal.said.startswith("2 reactions (infection, nodule) from lot 7 within 30 days")
    assert "P-1 2026-01-01, P-2 2026-01-30" in signal.said and "[clinic rule]" in signal.said


def test_two_infections_months_apart_or_bruises_are_no_signal():
    assert count_signals([reaction(1, 7, 0), reaction(2, 7, 31)], [COUNT]) == []
    bruises = [reaction(n, 7, n, ReactionKind.BRUISING) for n in range(5)]
    assert count_signals(bruises, [COUNT]) == []


def test_a_lot_above_its_products_usual_rate_is_a_signal():
    found = [reaction(n, 1, n) for n in range(3)] + [reaction(9, 2, 0)]
    sessions = {1: ("p", 50), 2: ("p", 400), 3: ("q", 10)}
    (signal,) = rate_signals(found, sessions, [RATE])
    assert signal.lot_id == 1
    assert "3 reactions (infection) in 50 sessions (6.0 per 100), 24.0 times" in signal.said
    assert "(1 in 400, 0.2 per 100)" in signal.said


def test_a_rate_needs_enough_reactions_and_other_lots_to_compare():
    two = [reaction(n, 1, n) for n in range(2)]
    assert rate_signals(two, {1: ("p", 10), 2: ("p", 100)}, [RATE]) == []
    three = [reaction(n, 1, n) for n in range(3)]
    assert rate_signals(three, {1: ("p", 10)}, [RATE]) == []  # no other lot of the product
    (alone,) = rate_signals(three, {1: ("p", 10), 2: ("p", 100)}, [RATE])
    assert "none in the product's other lots (0 in 100" in alone.said


def test_the_shipped_rules_are_read_with_their_sources():
    rules = signal_rules()
    assert rules.counts and rules.rates
    assert all(rule.source for rule in (*rules.counts, *rules.rates))
    (count,) = rules.counts
    assert (count.at_least, count.within_days) == (2, 30)
    assert ReactionKind.MYCOBACTERIAL in count.kinds


@given(
    st.lists(
        st.tuples(
            st.integers(1, 3),
            st.integers(0, 120),
            st.sampled_from([ReactionKind.INFECTION, ReactionKind.NODULE, ReactionKind.PAIN]),
        ),
        max_size=12,
    ),
    st.integers(1, 4),
    st.integers(1, 40),
)
def test_a_count_signal_is_raised_exactly_when_some_window_holds_enough(history, at_least, days):
    found = [reaction(n, lot, day, kind) for n, (lot, day, kind) in enumerate(history)]
    rule = CountRule("r", INFECTIONS, at_least, days, "s")
    raised = {s.lot_id for s in count_signals(found, [rule])}
    window = timedelta(days=days)
    expected = {
        lot
        for lot in {r.lot_id for r in found}
        if any(
            max(r.onset for r in group) - min(r.onset for r in group) <= window
            for group in combinations(
                [r for r in found if r.lot_id == lot and r.kind in INFECTIONS], at_least
            )
        )
    }
    assert raised == expected
