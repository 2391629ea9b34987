"""The stock-products report counts stock as the low-stock list does: only usable lots (available,
not expired on the clinic's today) give containers and the suggested order; stock in recalled,
quarantined or expired lots is shown apart, never ordered against."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from mesomix.bootstrap import Services
from tests.factories import set_lot

AMPOULE = "lidocaine_2pct_2ml_amp"  # 2 mL single-dose ampoules
VIAL = "cyanocobalamin_1000mcg_10ml_mdv"  # 10 mL multi-dose vials


def _receive(services: Services, product: str, lot: str, containers: int, days: int = 365) -> int:
    return services.stock.receive(
        "nadia",
        product,
        lot,
        services.clock.today() + timedelta(days=days),
        containers,
        unit_cost="1.00",
    )


def _one_of_each_status(services: Services) -> None:
    """Lidocaine in four lots: available (3 ampoules), recalled (4), quarantined (5) and expired
    yesterday (6); a reorder level of 5 with a quantity of 1, so the order is what is short."""
    _receive(services, AMPOULE, "AV-1", 3)
    recalled = _receive(services, AMPOULE, "RC-1", 4)
    quarantined = _receive(services, AMPOULE, "QU-1", 5)
    expired = _receive(services, AMPOULE, "EX-1", 6, days=10)
    services.inventory.set_status("nadia", recalled, "recalled", "supplier recall notice")
    services.inventory.set_status("nadia", quarantined, "quarantined", "label smudged")
    set_lot(services, expired, expiry=services.clock.today() - timedelta(days=1))
    services.inventory.set_reorder("nadia", AMPOULE, 5, 1)


def _row(frame: pd.DataFrame, product: str) -> pd.Series:
    (row,) = [r for _, r in frame.iterrows() if r["product"] == product]
    return row


def _assert_only_the_available_lot_counts(services: Services) -> None:
    frame = services.reports.report("nadia", "stock-products")
    row = _row(frame, AMPOULE)
    assert (row["sealed_containers"], row["on_hand_ml"], row["lots"]) == (3, 6, 1)
    assert (row["value"], row["unusable_value"]) == (3.0, 15.0)
    assert row["unusable_ml"] == (4 + 5 + 6) * 2
    assert row["below_reorder"] and row["suggested_order"] == 2  # 5 − 3 is more than 1
    (low,) = [
        item for item in services.inventory.low_stock("nadia") if item.product_code == AMPOULE
    ]
    assert (low.containers, low.suggested_order) == (
        row["sealed_containers"],
        row["suggested_order"],
    )


def test_only_the_available_unexpired_lot_counts_and_matches_the_low_stock_list(clinic):
    _one_of_each_status(clinic)
    _assert_only_the_available_lot_counts(clinic)


def test_the_same_on_postgresql(postgres, clock):
    from mesomix.bootstrap import Settings, build
    from tests.factories import seed_people

    services = build(Settings(database_url=postgres.create_database("usable_stock"), clock=clock))
    try:
        seed_people(services)
        _one_of_each_status(services)
        _assert_only_the_available_lot_counts(services)
    finally:
        services.close()


def test_an_open_vial_is_in_the_millilitres_not_in_the_sealed_containers(clinic):
    """Two lots each with an open vial of 6 mL: 12 mL more on hand, but no sealed container more
    (a sum of mL divided by the container once gave one)."""
    first, second = _receive(clinic, VIAL, "V-1", 3), _receive(clinic, VIAL, "V-2", 2)
    set_lot(clinic, first, on_hand_ul=26_000, open_ul=6_000)
    set_lot(clinic, second, on_hand_ul=16_000, open_ul=6_000)
    clinic.inventory.set_reorder("nadia", VIAL, 3, 10)
    row = _row(clinic.reports.report("nadia", "stock-products"), VIAL)
    assert (row["sealed_containers"], row["on_hand_ml"], row["suggested_order"]) == (3, 42, 10)
    (low,) = clinic.inventory.low_stock("nadia")
    assert (low.product_code, low.containers, low.suggested_order) == (VIAL, 3, 10)


def test_a_product_to_reorder_is_listed_with_no_usable_stock_or_none_at_all(clinic):
    """Every product the low-stock list says to order is in the report with the same figures,
    including one whose only lot is recalled and one never received."""
    recalled = _receive(clinic, AMPOULE, "RC-1", 4)
    clinic.inventory.set_status("nadia", recalled, "recalled", "supplier recall notice")
    clinic.inventory.set_reorder("nadia", AMPOULE, 2, 10)
    clinic.inventory.set_reorder("nadia", VIAL, 1, 5)
    frame = clinic.reports.report("nadia", "stock-products")
    ordered = {
        r["product"]: (r["sealed_containers"], r["suggested_order"])
        for _, r in frame[frame["below_reorder"]].iterrows()
    }
    low = {
        i.product_code: (i.containers, i.suggested_order)
        for i in clinic.inventory.low_stock("nadia")
    }
    assert ordered == low == {AMPOULE: (0, 10), VIAL: (0, 5)}
    assert _row(frame, AMPOULE)["unusable_ml"] == 8
    assert _row(frame, VIAL)["on_hand_ml"] == 0
