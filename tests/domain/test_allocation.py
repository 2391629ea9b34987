"""Lot allocation: first expiry first out, open vials first, never an unusable lot, exact waste."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mesomix.domain.allocation import (
    WASTE_IN_USE_LIMIT,
    WASTE_SINGLE_DOSE,
    LotState,
    NotEnoughStock,
    allocate,
    usable_ul,
)
from mesomix.reference import catalog_from_records
from tests.domain.conftest import RECORDS

CATALOG = catalog_from_records(RECORDS)
AMPOULE = CATALOG.product("lido2_5ml_amp")  # 5 mL single-dose
VIAL = CATALOG.product("lido1_20ml_mdv")  # 20 mL multi-dose
NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)
TODAY = NOW.date()


def lot(lot_id, on_hand, expiry_days=100, status="available", open_ul=0, opened_days_ago=None):
    opened = NOW - timedelta(days=opened_days_ago) if opened_days_ago is not None else None
    return LotState(
        lot_id, f"L{lot_id}", TODAY + timedelta(days=expiry_days), status, on_hand, open_ul, opened
    )


def test_first_expiry_first_out_and_single_dose_waste():
    lots = [lot(1, 10_000, expiry_days=200), lot(2, 10_000, expiry_days=50)]
    picks, after = allocate(AMPOULE, 2_000, lots, NOW, TODAY)
    assert [(p.lot_id, p.drawn_ul, p.wasted_ul, p.waste_reason) for p in picks] == [
        (2, 2_000, 3_000, WASTE_SINGLE_DOSE)
    ]
    assert [lot.on_hand_ul for lot in after] == [10_000, 5_000]


def test_a_draw_spans_lots_when_the_first_runs_out():
    lots = [lot(1, 5_000, expiry_days=30), lot(2, 10_000, expiry_days=60)]
    picks, after = allocate(AMPOULE, 7_000, lots, NOW, TODAY)
    assert [(p.lot_id, p.drawn_ul, p.wasted_ul) for p in picks] == [
        (1, 5_000, 0),
        (2, 2_000, 3_000),
    ]
    assert [lot.on_hand_ul for lot in after] == [0, 5_000]


@pytest.mark.parametrize(
    "bad",
    [
        lot(1, 50_000, expiry_days=-1),
        lot(1, 50_000, status="quarantined"),
        lot(1, 50_000, status="recalled"),
    ],
)
def test_never_an_expired_quarantined_or_recalled_lot(bad):
    with pytest.raises(NotEnoughStock) as refused:
        allocate(AMPOULE, 1_000, [bad], NOW, TODAY)
    assert "not enough stock" in str(refused.value)
    assert "0 mL in usable lots" in str(refused.value)


def test_expiring_today_is_still_usable():
    picks, _ = allocate(AMPOULE, 1_000, [lot(1, 5_000, expiry_days=0)], NOW, TODAY)
    assert picks[0].lot_id == 1


def test_open_multi_dose_vial_goes_first_even_if_another_expires_sooner():
    lots = [
        lot(1, 40_000, expiry_days=20),
        lot(2, 25_000, expiry_days=300, open_ul=5_000, opened_days_ago=2),
    ]
    picks, after = allocate(VIAL, 3_000, lots, NOW, TODAY)
    assert [(p.lot_id, p.drawn_ul, p.wasted_ul, p.containers_opened) for p in picks] == [
        (2, 3_000, 0, 0)
    ]
    assert (after[1].on_hand_ul, after[1].open_ul) == (22_000, 2_000)


def test_open_vial_emptied_then_a_new_one_opened():
    lots = [lot(1, 25_000, open_ul=5_000, opened_days_ago=1)]
    picks, after = allocate(VIAL, 8_000, lots, NOW, TODAY)
    (pick,) = picks
    assert (pick.drawn_ul, pick.wasted_ul, pick.containers_opened) == (8_000, 0, 1)
    assert (after[0].on_hand_ul, after[0].open_ul, after[0].opened_at) == (17_000, 17_000, NOW)


def test_open_vial_past_its_in_use_limit_is_wasted_when_a_new_one_is_opened():
    lots = [lot(1, 25_000, open_ul=5_000, opened_days_ago=29)]
    picks, after = allocate(VIAL, 1_000, lots, NOW, TODAY)
    (pick,) = picks
    assert (pick.drawn_ul, pick.wasted_ul, pick.waste_reason) == (1_000, 5_000, WASTE_IN_USE_LIMIT)
    assert (after[0].on_hand_ul, after[0].open_ul) == (19_000, 19_000)


def test_usable_counts_whole_containers_and_live_open_vials():
    lots = [
        lot(1, 25_000, open_ul=5_000, opened_days_ago=40),
        lot(2, 7_000, open_ul=7_000, opened_days_ago=3),
    ]
    assert usable_ul(VIAL, lots, NOW, TODAY) == 20_000 + 7_000


def test_not_enough_stock_says_how_much():
    with pytest.raises(NotEnoughStock) as refused:
        allocate(AMPOULE, 11_000, [lot(1, 10_000)], NOW, TODAY)
    assert "11 mL needed, 10 mL in usable lots" in str(refused.value)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 6),
            st.integers(-5, 400),
            st.sampled_from(["available", "available", "quarantined"]),
        ),
        min_size=1,
        max_size=5,
    ),
    st.integers(1, 40).map(lambda n: n * 250),
    st.booleans(),
)
def test_allocation_never_oversells_and_conserves_stock(spec, need, multi):
    product = VIAL if multi else AMPOULE
    volume = product.container_volume_ul
    lots = [
        lot(i + 1, n * volume, expiry_days=days, status=status)
        for i, (n, days, status) in enumerate(spec)
    ]
    try:
        picks, after = allocate(product, need, lots, NOW, TODAY)
    except NotEnoughStock:
        assert usable_ul(product, lots, NOW, TODAY) < need
        return
    assert sum(p.drawn_ul for p in picks) == need
    taken = {p.lot_id: p.taken_ul for p in picks}
    for before, now in zip(lots, after, strict=True):
        assert now.on_hand_ul == before.on_hand_ul - taken.get(before.lot_id, 0)
        assert 0 <= now.open_ul <= now.on_hand_ul
        if before.lot_id in taken:
            assert before.status == "available" and before.expiry >= TODAY
