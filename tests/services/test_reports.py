"""Reports: right totals from the database, exports that open again, refusals that say why."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from mesomix.reports.service import export
from mesomix.services.errors import PermissionDenied, ServiceError
from mesomix.services.mixtures import DispenseRefused
from tests.factories import mixture, receive, snapshot


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
    assert list(usage.columns[:2]) == ["product", "product_name"]
    assert len(usage.columns) == 2 + 13 + 2  # 13 weeks, then the total and the batches
    (row,) = usage.itertuples(index=False)
    assert row.product == "cyanocobalamin_1000mcg_1ml_vial"
    assert (usage["2026-W48"].iloc[0], row.total_ml, row.batches) == (1.5, 1.5, 3)
    assert usage["2026-W47"].iloc[0] == 0
    waste = month.reports.report("nadia", "waste")
    by_reason = dict(zip(waste["reason"], waste["wasted_ml"], strict=True))
    assert by_reason["damaged"] == 1
    assert by_reason["remainder of an opened single-dose container"] == 1.5
    makers = month.reports.report("nadia", "makers")
    assert makers.iloc[0]["mixtures"] == 3


def test_usage_falls_in_the_clinic_calendar_and_the_window(month):
    from datetime import timedelta

    month.clock.advance(timedelta(days=40))  # into January: December had nothing
    month.mixtures.dispense(mixture(("lidocaine", "20 mg")), "sam")
    usage = month.reports.report("nadia", "usage", period="month", periods=3)
    assert list(usage.columns[2:5]) == ["2026-11", "2026-12", "2027-01"]
    rows = {r.product: r for r in usage.itertuples(index=False)}
    b12, lidocaine = rows["cyanocobalamin_1000mcg_1ml_vial"], rows["lidocaine_2pct_2ml_amp"]
    assert (b12[2], b12[3], b12[4], b12.total_ml) == (1.5, 0, 0, 1.5)
    assert (lidocaine[2], lidocaine[4], lidocaine.total_ml) == (0, 1, 1)
    only_now = month.reports.report("nadia", "usage", period="month", periods=1)
    assert list(only_now["product"]) == ["lidocaine_2pct_2ml_amp"]
    for wrong in (0, -1, 61):
        with pytest.raises(ServiceError, match="1 to 60 periods"):
            month.reports.report("nadia", "usage", periods=wrong)


def test_mixtures_per_practitioner_and_purpose(clinic):
    receive(clinic, "cyanocobalamin_1000mcg_1ml_vial", "B1", 10)
    asked = [("hair loss", "drchen"), ("hair loss", "drchen"), ("pain", "drchen"), ("", None)]
    for purpose, prescriber in asked:
        draft = replace(
            mixture(("cyanocobalamin", "500 mcg")), purpose=purpose, prescriber=prescriber
        )
        clinic.mixtures.dispense(draft, "sam")
    frame = clinic.reports.report("nadia", "mixtures")
    rows = {(r.practitioner, r.purpose): r.mixtures for r in frame.itertuples()}
    name = frame["practitioner"].iloc[0]
    assert rows == {(name, "hair loss"): 2, (name, "pain"): 1, ("(not named)", "(not said)"): 1}
    assert name != "(not named)"


def test_a_purpose_or_prescriber_that_is_not_one_is_refused(clinic):
    receive(clinic, "cyanocobalamin_1000mcg_1ml_vial", "B1", 10)
    before = snapshot(clinic)
    plan = clinic.mixtures.check(
        replace(mixture(("cyanocobalamin", "500 mcg")), purpose="anti-ageing"), "sam"
    )
    assert [f.code for f in plan.findings if f.severity.name == "BLOCK"] == [
        "mixture.unknown_purpose"
    ]
    with pytest.raises(DispenseRefused):
        clinic.mixtures.dispense(
            replace(mixture(("cyanocobalamin", "500 mcg")), purpose="anti-ageing"), "sam"
        )
    for who in ("sam", "nobody", "nadia"):
        with pytest.raises(ServiceError, match="not an active practitioner"):
            clinic.mixtures.dispense(
                replace(mixture(("cyanocobalamin", "500 mcg")), prescriber=who), "sam"
            )
    assert snapshot(clinic) == before


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
    stock = month.reports.report("nadia", "stock")
    with pytest.raises(ServiceError, match=r"cannot be written: there is no folder .*missing"):
        export(stock, "csv", tmp_path / "missing-folder" / "x.csv")
    (tmp_path / "a-folder").mkdir()
    with pytest.raises(ServiceError, match="cannot be written: it is a folder"):
        export(stock, "csv", tmp_path / "a-folder")
    with pytest.raises(ServiceError, match=r"x.csv ends in .csv but the format is xlsx"):
        export(month.reports.report("nadia", "stock"), "xlsx", tmp_path / "x.csv")
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
    for name in ("stock", "stock-products", "expiring", "usage", "waste", "mixtures", "makers"):
        frame = services.reports.report("nadia", name, period="week")
        assert len(frame) >= 1, name
    assert services.reports.report("nadia", "expiring").iloc[0]["value_at_risk"] == 22.5
    services.close()
