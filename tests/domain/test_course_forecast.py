"""The forecast, pure: what booked sessions need against the lots still in date on each day,
by example (a shortfall three weeks ahead) and by properties over random bookings and lots."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from mesomix.domain.course.forecast import Need, StockLot, forecast, per_session_ul

MONDAY = date(2026, 12, 7)
VIAL = 2_000


def test_a_shortfall_three_weeks_ahead_is_seen_with_what_to_order() -> None:
    needs = [Need(MONDAY + timedelta(weeks=w), "kybella", 2 * VIAL, 2) for w in range(6)]
    lots = [StockLot("kybella", MONDAY + timedelta(days=300), 5 * VIAL)]
    (product,) = forecast(needs, lots, {"kybella": VIAL}, {"kybella": 4})
    assert product.first_short == MONDAY + timedelta(weeks=2)
    assert product.short_ul == 7 * VIAL and product.short_containers == 7
    assert product.order_containers == 8  # two orders of four
    assert [d.short_ul for d in product.days] == [0, 0, VIAL, 2 * VIAL, 2 * VIAL, 2 * VIAL]


def test_a_lot_that_expires_before_the_session_does_not_count() -> None:
    needs = [Need(MONDAY + timedelta(days=10), "b12", 1_000)]
    lots = [StockLot("b12", MONDAY + timedelta(days=9), 50_000)]
    (product,) = forecast(needs, lots, {"b12": 1_000})
    assert (product.usable_ul, product.short_ul) == (0, 1_000)
    assert product.first_short == MONDAY + timedelta(days=10)


def test_the_earliest_expiry_is_drawn_first_so_nothing_in_date_is_wasted() -> None:
    needs = [Need(MONDAY, "p", 1_000), Need(MONDAY + timedelta(days=20), "p", 1_000)]
    lots = [StockLot("p", MONDAY + timedelta(days=30), 1_000), StockLot("p", MONDAY, 1_000)]
    (product,) = forecast(needs, lots, {"p": 1_000})
    assert product.short_ul == 0


def test_a_single_dose_container_serves_one_session() -> None:
    assert per_session_ul(300, 1_000, single_dose=True) == 1_000
    assert per_session_ul(1_300, 1_000, single_dose=True) == 2_000
    assert per_session_ul(300, 10_000, single_dose=False) == 300


def test_products_short_come_first_soonest_first() -> None:
    needs = [
        Need(MONDAY, "enough", 1_000),
        Need(MONDAY + timedelta(days=5), "later", 1_000),
        Need(MONDAY + timedelta(days=1), "sooner", 1_000),
    ]
    lots = [StockLot("enough", MONDAY + timedelta(days=90), 5_000)]
    assert [f.product for f in forecast(needs, lots, {})] == ["sooner", "later", "enough"]


day_offsets = st.integers(min_value=0, max_value=60)
needs_strategy = st.lists(
    st.builds(
        lambda d, ul: Need(MONDAY + timedelta(days=d), "p", ul),
        day_offsets,
        st.integers(min_value=1, max_value=5_000),
    ),
    max_size=12,
)
lots_strategy = st.lists(
    st.builds(
        lambda d, ul: StockLot("p", MONDAY + timedelta(days=d), ul),
        st.integers(min_value=-5, max_value=70),
        st.integers(min_value=0, max_value=8_000),
    ),
    max_size=6,
)


def _short(needs: list[Need], lots: list[StockLot]) -> int:
    found = forecast(needs, lots, {"p": 1_000})
    return found[0].short_ul if found else 0


def _oracle(needs: list[Need], lots: list[StockLot]) -> int:
    """The least shortfall any drawing could reach, by a cut instead of a drawing: the needs
    from day t on can only use lots in date on t, so at most the needs before t plus the lots
    in date on t are covered; the fewest over every t (and all the needs) is what can be."""
    total = sum(n.microlitres for n in needs)
    cuts = [total]
    for t in {n.day for n in needs}:
        before = sum(n.microlitres for n in needs if n.day < t)
        cuts.append(before + sum(lot.microlitres for lot in lots if lot.expiry >= t))
    return total - min(cuts)


@settings(max_examples=300, deadline=None)
@given(needs_strategy, lots_strategy)
def test_the_shortfall_is_what_the_lots_in_date_cannot_cover(needs, lots) -> None:
    short = _short(needs, lots)
    total = sum(n.microlitres for n in needs)
    assert 0 <= short <= total
    assert short == _oracle(needs, lots)
    if all(lot.expiry >= max((n.day for n in needs), default=MONDAY) for lot in lots):
        assert short == max(0, total - sum(lot.microlitres for lot in lots))


@settings(max_examples=200, deadline=None)
@given(needs_strategy, lots_strategy, lots_strategy)
def test_more_stock_never_makes_a_shortfall_worse(needs, lots, more) -> None:
    assert _short(needs, lots + more) <= _short(needs, lots)
