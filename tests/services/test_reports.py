"""Reports: right totals from the database, exports that open again, refusals that say why."""

from __future__ import annotations

import pandas as pd
import pytest

from mesomix.reports.service import export
from mesomix.services.errors import PermissionDenied, ServiceError
from tests.factories import mixture, receive


@pytest.fixture
def month(clinic):
    """A small month: two lots with costs, three dispenses, some waste."""
    receive_priced = clinic.stock.receive
    from datetime import timedelta

    b12 = receive_priced(
        "nadia",
        "cyanocobalamin_1000mcg_1ml_vial",
        "B1",
        clinic.clock.today() + timedelta(days=20),
        10,
        unit_cost="2.50",
    )
    receive_priced(
        "nadia",
        "lidocaine_2pct_2ml_amp",
        "L1",
        clinic.clock.today() + timedelta(days=300),
        10,
        unit_cost="1.20",
    )
    for _ in range(3):
        clinic.mixtures.dispense(mixture(("cyanocobalamin", "500 mcg")), "sam")
    clinic.inventory.waste("nadia", b12, 1000, "damaged", "dropped")
    return clinic


def test_stock_by_lot_and_product_with_value_at_cost(month):
    lots = month.reports.report("nadia", "stock")
    b12 = lots[lots["lot_number"] == "B1"].iloc[0]
    assert b12["on_hand_ml"] == 6 and b12["value"] == 15.0
    products = month.reports.report("nadia", "stock-products")
    assert set(products["product"]) == {"cyanocobalamin_1000mcg_1ml_vial", "lidocaine_2pct_2ml_amp"}


def test_expiring_within_30_60_90_days_with_value_at_risk(month):
    frame = month.reports.report("nadia", "expiring")
    (row,) = frame.itertuples()
    assert (row.lot_number, row.within_days, row.value_at_risk) == ("B1", 30, 15.0)


def test_usage_and_waste(month):
    usage = month.reports.report("nadia", "usage", period="week")
    assert usage["used_ml"].sum() == 1.5 and usage["batches"].sum() == 3
    waste = month.reports.report("nadia", "waste")
    by_reason = dict(zip(waste["reason"], waste["wasted_ml"], strict=True))
    assert by_reason["damaged"] == 1
    assert by_reason["remainder of an opened single-dose container"] == 1.5
    makers = month.reports.report("nadia", "mixtures")
    assert makers.iloc[0]["mixtures"] == 3


def test_exports_open_again(month, tmp_path):
    frame = month.reports.report("nadia", "stock")
    csv_path, xlsx_path = tmp_path / "stock.csv", tmp_path / "stock.xlsx"
    export(frame, "csv", csv_path)
    export(frame, "xlsx", xlsx_path)
    assert len(pd.read_csv(csv_path)) == len(frame) == len(pd.read_excel(xlsx_path))
    assert "lot_number" in export(frame, "table", None)


def test_refusals(month, tmp_path):
    with pytest.raises(PermissionDenied, match="may not see reports"):
        month.reports.report("sam", "stock")
    with pytest.raises(ServiceError, match="unknown report"):
        month.reports.report("nadia", "profit")
    with pytest.raises(ServiceError, match="needs a lot"):
        month.reports.report("nadia", "recall")
    with pytest.raises(ServiceError, match="cannot be written"):
        export(month.reports.report("nadia", "stock"), "csv", tmp_path / "missing-folder" / "x.csv")
    assert not [p for p in tmp_path.rglob("*.csv*")]  # no half-written file left behind


def test_unit_costs_are_checked(clinic):
    from datetime import timedelta

    for typed in ("12,50", "-3", "1.234", "abc", "1e5"):
        with pytest.raises(ServiceError, match="unit cost"):
            clinic.stock.receive(
                "nadia",
                "lidocaine_2pct_2ml_amp",
                "X",
                clinic.clock.today() + timedelta(days=9),
                1,
                unit_cost=typed,
            )
    receive(clinic, "lidocaine_2pct_2ml_amp", "OK", 1)


def test_reports_on_postgresql(postgres, clock):
    from datetime import timedelta

    from mesomix.bootstrap import Settings, build
    from tests.factories import seed_people

    services = build(Settings(database_url=postgres.create_database("reports"), clock=clock))
    seed_people(services)
    services.stock.receive(
        "nadia",
        "cyanocobalamin_1000mcg_1ml_vial",
        "B1",
        clock.today() + timedelta(days=20),
        10,
        unit_cost="2.50",
    )
    services.mixtures.dispense(mixture(("cyanocobalamin", "500 mcg")), "sam")
    for name in ("stock", "stock-products", "expiring", "usage", "waste", "mixtures"):
        frame = services.reports.report("nadia", name, period="week")
        assert len(frame) >= 1, name
    assert services.reports.report("nadia", "expiring").iloc[0]["value_at_risk"] == 22.5
    services.close()
