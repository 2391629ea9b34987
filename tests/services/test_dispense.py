"""Dispensing on a real SQLite file: one transaction, the right lots, an exact ledger."""

from datetime import timedelta

import pytest
from sqlmodel import select

from mesomix.db.tables import BatchLineRow, BatchRow, MovementRow
from mesomix.services.errors import NotFound, PermissionDenied, ServiceError, StockError
from mesomix.services.mixtures import DispenseRefused
from mesomix.services.uow import unit_of_work
from tests.factories import assert_ledger_exact, counts, lot_row, mixture, receive, set_lot

AMPOULE = "lidocaine_2pct_2ml_amp"  # 2 mL single-dose, 20 mg/mL
VIAL = "xylocaine_1pct_20ml_mdv"  # 20 mL multi-dose, 10 mg/mL
B12 = "cyanocobalamin_1000mcg_1ml_vial"  # 1 mL single-dose
SALINE = "sodium_chloride_09_10ml_vial"


def rows(services, table):
    with unit_of_work(services.engine) as session:
        return list(session.exec(select(table).order_by(table.id)))


def test_dispense_takes_first_expiry_writes_ledger_batch_and_waste(clinic):
    late = receive(clinic, AMPOULE, "LATE01", 10, expires_in_days=300)
    early = receive(clinic, AMPOULE, "EARLY1", 10, expires_in_days=40)
    receive(clinic, SALINE, "NS0001", 5)
    result = clinic.mixtures.dispense(mixture(("lidocaine", "30 mg"), final="4 mL"), "sam")

    assert lot_row(clinic, early).on_hand_ul == 20_000 - 2_000  # 1.5 mL drawn from one 2 mL ampoule
    assert lot_row(clinic, late).on_hand_ul == 20_000
    movements = [(m.kind, m.quantity_ul, m.reason) for m in rows(clinic, MovementRow) if m.batch_id]
    assert ("dispense", -1_500, "") in movements
    assert ("waste", -500, "remainder of an opened single-dose container") in movements
    assert ("dispense", -2_500, "") in movements  # saline q.s.
    assert ("waste", -7_500, "remainder of an opened single-dose container") in movements
    (batch,) = rows(clinic, BatchRow)
    assert batch.id == result.batch_id and batch.final_volume_ul == 4_000
    lines = rows(clinic, BatchLineRow)
    assert [(line.product_code, line.volume_ul) for line in lines] == [
        (AMPOULE, 1_500),
        (SALINE, 2_500),
    ]
    assert lines[0].delivered == {"lidocaine_hcl": "30 mg"}
    assert "EARLY1" in result.label and "Amélie Laurent (P-1)" in result.label
    assert_ledger_exact(clinic)


def test_multi_dose_vial_opened_once_then_drawn_from(clinic):
    lot = receive(clinic, VIAL, "MDV001", 2)
    clinic.mixtures.dispense(mixture(("lidocaine", "20 mg")), "sam")
    first = lot_row(clinic, lot)
    assert (first.on_hand_ul, first.open_ul, first.opened_at) == (
        38_000,
        18_000,
        clinic.clock.now(),
    )
    clinic.clock.advance(timedelta(days=1))
    clinic.mixtures.dispense(mixture(("lidocaine", "50 mg")), "sam")
    second = lot_row(clinic, lot)
    assert (second.on_hand_ul, second.open_ul) == (33_000, 13_000)
    assert [m.kind for m in rows(clinic, MovementRow)].count("waste") == 0
    assert_ledger_exact(clinic)


def test_expired_quarantined_and_recalled_lots_are_never_used(clinic):
    expired = receive(clinic, B12, "EXP001", 50)
    quarantined = receive(clinic, B12, "QUA001", 50)
    recalled = receive(clinic, B12, "REC001", 50)
    good = receive(clinic, B12, "GOOD01", 1, expires_in_days=700)
    set_lot(clinic, expired, expiry=clinic.clock.now().date() - timedelta(days=1))
    set_lot(clinic, quarantined, status="quarantined")
    set_lot(clinic, recalled, status="recalled")
    clinic.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), "sam")
    assert lot_row(clinic, good).on_hand_ul == 0
    before = counts(clinic)
    with pytest.raises(DispenseRefused, match="not enough stock of Cyanocobalamin"):
        clinic.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), "sam")
    assert counts(clinic) == before
    assert_ledger_exact(clinic)


def test_a_blocked_mixture_writes_nothing(clinic):
    receive(clinic, AMPOULE, "A00001", 5)
    before = counts(clinic)
    with pytest.raises(DispenseRefused) as refused:
        clinic.mixtures.dispense(mixture(("lidocaine", "40 ML")), "sam")
    assert "megalitres" in str(refused.value)
    assert refused.value.plan.blocked
    assert counts(clinic) == before


def test_not_enough_stock_for_two_draws_of_one_product_writes_nothing(clinic):
    receive(clinic, B12, "B00001", 1)
    before = counts(clinic)
    with pytest.raises((DispenseRefused, StockError), match="not enough stock"):
        clinic.mixtures.dispense(
            mixture(("cyanocobalamin", "600 mcg"), ("cyanocobalamin", "600 mcg")), "sam"
        )
    assert counts(clinic) == before


@pytest.mark.parametrize(
    ("user", "error", "says"),
    [
        ("nadia", PermissionDenied, "nadia (manager) may not dispense a mixture"),
        ("nobody", NotFound, "no user named 'nobody'"),
    ],
)
def test_who_may_dispense(clinic, user, error, says):
    receive(clinic, AMPOULE, "A00001", 5)
    before = counts(clinic)
    with pytest.raises(error, match=says.replace("(", r"\(").replace(")", r"\)")):
        clinic.mixtures.dispense(mixture(("lidocaine", "20 mg")), user)
    assert counts(clinic) == before


def test_a_mixture_needs_a_known_patient(clinic):
    receive(clinic, AMPOULE, "A00001", 5)
    with pytest.raises(ServiceError, match="choose the patient"):
        clinic.mixtures.dispense(mixture(("lidocaine", "20 mg"), patient=None), "sam")
    with pytest.raises(NotFound, match="no patient with reference 'P-404'"):
        clinic.mixtures.dispense(mixture(("lidocaine", "20 mg"), patient="P-404"), "sam")


def test_check_writes_nothing_and_sees_stock(clinic):
    plan = clinic.mixtures.check(mixture(("lidocaine", "20 mg")), "sam")
    assert "stock.insufficient" in [f.code for f in plan.findings]
    receive(clinic, AMPOULE, "A00001", 5)
    before = counts(clinic)
    plan = clinic.mixtures.check(mixture(("lidocaine", "20 mg")), "sam")
    assert not plan.blocked and plan.draws[0].product.code == AMPOULE
    assert counts(clinic) == before


def test_stock_always_equals_the_sum_of_movements_over_many_dispenses(clinic):
    receive(clinic, VIAL, "MDV001", 3)
    receive(clinic, AMPOULE, "AMP001", 30)
    receive(clinic, SALINE, "NS0001", 30)
    for step in range(25):
        clinic.clock.advance(timedelta(hours=3))
        clinic.mixtures.dispense(mixture(("lidocaine", f"{5 + step} mg"), final="5 mL"), "sam")
        assert_ledger_exact(clinic)


def test_expiry_is_the_clinics_calendar_date_not_utcs(clinic):
    """08:00 in Sydney on the 25th is still the 24th in UTC: a lot that expired on the 24th is out."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    clinic.clock.zone = ZoneInfo("Australia/Sydney")
    clinic.clock.current = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # 09:00 on the 24th in Sydney
    lot = receive(clinic, B12, "EXP024", 5, expires_in_days=0)
    clinic.clock.current = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)  # 08:00 on the 25th in Sydney
    with pytest.raises(DispenseRefused, match="not enough stock"):
        clinic.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), "sam")
    assert lot_row(clinic, lot).on_hand_ul == 5_000


def test_two_draws_of_one_single_dose_product_share_an_opened_container(clinic):
    lot = receive(clinic, SALINE, "NS0001", 1)
    receive(clinic, AMPOULE, "A00001", 5)
    clinic.mixtures.dispense(
        mixture(("lidocaine", "20 mg"), ("sodium chloride", "1 mL"), final="5 mL"), "sam"
    )
    assert (
        lot_row(clinic, lot).on_hand_ul == 0
    )  # 1 mL + 3 mL q.s. from the one 10 mL vial, 6 mL wasted
    wasted = [
        m.quantity_ul for m in rows(clinic, MovementRow) if m.lot_id == lot and m.kind == "waste"
    ]
    assert wasted == [-6_000]
    assert_ledger_exact(clinic)


def test_an_open_vial_past_its_in_use_limit_does_not_count_as_stock(clinic):
    vial = receive(clinic, VIAL, "MDV001", 1)
    clinic.mixtures.dispense(mixture(("lidocaine", "20 mg")), "sam")  # opens the only vial
    clinic.clock.advance(timedelta(days=40))
    ampoules = receive(clinic, AMPOULE, "A00001", 5)
    plan = clinic.mixtures.check(mixture(("lidocaine", "50 mg")), "sam")
    assert not plan.blocked and plan.draws[0].product.code == AMPOULE
    clinic.mixtures.dispense(mixture(("lidocaine", "50 mg")), "sam")
    assert lot_row(clinic, vial).on_hand_ul == 18_000  # untouched: its remainder awaits disposal
    assert lot_row(clinic, ampoules).on_hand_ul == 10_000 - 4_000
