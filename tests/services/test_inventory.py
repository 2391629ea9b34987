"""The manager's stock work: every change a movement with a reason, the ledger exact, refusals
writing nothing, mistakes corrected by new movements, recalls traced to patients."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from mesomix.db.tables import MovementRow
from mesomix.services.errors import NotFound, PermissionDenied, ServiceError
from mesomix.services.mixtures import DispenseRefused
from mesomix.services.uow import unit_of_work
from tests.factories import (
    assert_ledger_exact,
    audit_rows,
    lot_row,
    mixture,
    receive,
    set_lot,
    snapshot,
)

B12 = "cyanocobalamin_1000mcg_1ml_vial"  # 1 mL single-dose
VIAL = "xylocaine_1pct_20ml_mdv"  # 20 mL multi-dose


@pytest.fixture
def shelf(clinic):
    """The clinic's services with one lot of ten 1 mL vials on the shelf (its id as `b12`)."""
    return SimpleNamespace(**vars(clinic), b12=receive(clinic, B12, "B1", 10))


def test_adjust_waste_return_each_leave_a_movement_and_an_audit_row(shelf):
    shelf.inventory.adjust("nadia", shelf.b12, 2000, "found", "two vials behind the fridge")
    shelf.inventory.waste("nadia", shelf.b12, 1000, "damaged", "dropped")
    shelf.inventory.return_to_supplier("nadia", shelf.b12, 3, "wrong lot delivered")
    assert lot_row(shelf, shelf.b12).on_hand_ul == 10_000 + 2_000 - 1_000 - 3_000
    actions = [row.action for row in audit_rows(shelf)]
    assert {"stock.adjust", "stock.waste", "stock.return"} <= set(actions)
    assert_ledger_exact(shelf)


def test_a_count_becomes_a_movement_for_the_difference(shelf):
    movement = shelf.inventory.count("nadia", shelf.b12, 8, reason="breakage")
    assert movement is not None and lot_row(shelf, shelf.b12).on_hand_ul == 8_000
    assert shelf.inventory.count("nadia", shelf.b12, 8) is None  # matches: nothing to move
    assert_ledger_exact(shelf)


def test_an_open_vial_is_counted_too(clinic):
    lot = receive(clinic, VIAL, "V1", 2)
    clinic.mixtures.dispense(mixture(("lidocaine", "50 mg")), "sam")  # 5 mL from one vial
    clinic.inventory.count("nadia", lot, 1, "12 mL", "used_unbooked")
    row = lot_row(clinic, lot)
    assert (row.on_hand_ul, row.open_ul) == (32_000, 12_000)
    assert_ledger_exact(clinic)


def test_a_mistake_is_corrected_by_a_new_movement(shelf):
    wrong = shelf.inventory.adjust("nadia", shelf.b12, 5000, "found", "typed 5 for 0.5")
    fix = shelf.inventory.correct("nadia", wrong, "entered the wrong quantity")
    assert fix != wrong and lot_row(shelf, shelf.b12).on_hand_ul == 10_000
    with pytest.raises(ServiceError, match="already corrected"):
        shelf.inventory.correct("nadia", wrong, "again")
    assert_ledger_exact(shelf)


@pytest.mark.parametrize(
    ("call", "error", "says"),
    [
        (
            lambda s: s.inventory.adjust("nadia", s.b12, -20_000, "missing"),
            ServiceError,
            "cannot be taken off it",
        ),
        (
            lambda s: s.inventory.adjust("nadia", s.b12, 1000, "because"),
            ServiceError,
            "unknown reason 'because'",
        ),
        (
            lambda s: s.inventory.adjust("nadia", s.b12, 1000, "other", ""),
            ServiceError,
            "needs a note",
        ),
        (lambda s: s.inventory.adjust("nadia", 999, 1000, "found"), NotFound, "no lot 999"),
        (lambda s: s.inventory.waste("nadia", s.b12, 0, "damaged"), ServiceError, "positive"),
        (lambda s: s.inventory.count("nadia", s.b12, -1), ServiceError, "cannot be negative"),
        (lambda s: s.inventory.count("nadia", s.b12, 1, "2 mL"), ServiceError, "at most 1 mL"),
        (lambda s: s.inventory.count("nadia", s.b12, 1, "2 ML"), ServiceError, "megalitres"),
        (lambda s: s.inventory.count("nadia", s.b12, 1, "none"), ServiceError, "no number"),
        (
            lambda s: s.inventory.waste_typed("nadia", s.b12, "1.5 vials", "damaged"),
            ServiceError,
            "not a whole number of containers",
        ),
        (
            lambda s: s.inventory.waste_typed("nadia", s.b12, "11 vials", "damaged"),
            ServiceError,
            "holds 10 mL: 11 mL cannot be taken off it",
        ),
        (
            lambda s: s.inventory.adjust_typed("nadia", s.b12, "1 amp", "remove", "damaged"),
            ServiceError,
            "ampere",
        ),
        (
            lambda s: s.inventory.adjust_typed("nadia", s.b12, "1 vial", "sideways", "found"),
            ServiceError,
            "not add or remove",
        ),
        (
            lambda s: s.inventory.waste_typed("nadia", s.b12, "0.5 mL", "damaged"),
            ServiceError,
            "lot B1 is of single-dose containers of 1 mL: give whole containers",
        ),
        (
            lambda s: s.inventory.adjust("nadia", s.b12, 1_500, "found", "behind the fridge"),
            ServiceError,
            "single-dose containers",
        ),
        (
            lambda s: s.inventory.count("nadia", s.b12, 9, "0.5 mL"),
            ServiceError,
            "single-dose containers, which are not kept open",
        ),
        (
            lambda s: s.inventory.waste_typed("nadia", s.b12, "1 ampoule", "damaged"),
            ServiceError,
            "this lot holds vials, not ampoules",
        ),
        (lambda s: s.inventory.correct("nadia", 1, "x"), ServiceError, "say why"),
        (
            lambda s: s.inventory.set_status("nadia", s.b12, "lost", "no idea"),
            ServiceError,
            "not one of",
        ),
        (lambda s: s.inventory.set_reorder("nadia", B12, -1, 5), ServiceError, "reorder level"),
    ],
)
def test_bad_stock_work_is_refused_and_writes_nothing(shelf, call, error, says):
    before = snapshot(shelf)
    with pytest.raises(error, match=says):
        call(shelf)
    assert snapshot(shelf) == before


def test_a_dispense_is_not_corrected_like_an_adjustment(shelf):
    result = shelf.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), "sam")
    from sqlmodel import select

    from mesomix.db.tables import MovementRow
    from mesomix.services.uow import unit_of_work

    with unit_of_work(shelf.engine) as session:
        movement = session.exec(
            select(MovementRow).where(MovementRow.batch_id == result.batch_id)
        ).first()
    with pytest.raises(ServiceError, match="record a return"):
        shelf.inventory.correct("nadia", movement.id, "should not work")


def test_quarantine_and_recall_stop_allocation_and_a_recall_is_traced_to_patients(shelf):
    shelf.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), "sam")
    shelf.mixtures.dispense(mixture(("cyanocobalamin", "500 mcg"), patient="P-2"), "sam")
    shelf.inventory.set_status("nadia", shelf.b12, "quarantined", "fridge alarm overnight")
    with pytest.raises(DispenseRefused, match="not enough stock"):
        shelf.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), "sam")
    shelf.inventory.set_status("nadia", shelf.b12, "recalled", "manufacturer recall notice")
    trace = shelf.inventory.recall_trace("nadia", shelf.b12)
    assert [(line.patient_ref, line.volume_ul) for line in trace] == [("P-1", 1000), ("P-2", 500)]
    with pytest.raises(ServiceError, match="a recalled lot cannot be released"):
        shelf.inventory.set_status("nadia", shelf.b12, "available", "changed my mind")


def test_a_status_change_that_changes_nothing_is_refused_and_writes_nothing(shelf):
    trail = len(audit_rows(shelf))
    with pytest.raises(ServiceError, match="lot B1 is available already"):
        shelf.inventory.set_status("nadia", shelf.b12, "available", "release it again")
    assert len(audit_rows(shelf)) == trail


def test_low_stock_with_a_suggested_order(shelf):
    shelf.inventory.set_reorder("nadia", B12, 12, 20)
    (low,) = shelf.inventory.low_stock("nadia")
    assert (low.product_code, low.containers, low.suggested_order) == (B12, 10, 20)
    shelf.inventory.set_reorder("nadia", B12, 5, 20)
    assert shelf.inventory.low_stock("nadia") == []


MDV10 = "xylocaine_1pct_10ml_mdv"  # 10 mL multi-dose


def test_part_of_a_container_taken_off_leaves_it_open_and_a_count_keeps_it(clinic):
    lot = receive(clinic, MDV10, "X1", 5)
    clinic.inventory.adjust("nadia", lot, -10_000, "missing", "one vial gone")
    clinic.inventory.waste("nadia", lot, 3_000, "contaminated", "drawn up and dropped")
    row = lot_row(clinic, lot)
    assert (row.on_hand_ul, row.open_ul) == (37_000, 7_000)  # 3 sealed and one opened
    assert row.opened_at is not None
    (line,) = clinic.stock.lots("nadia", MDV10)
    assert (line.sealed_containers, line.booked_open_ul) == (3, 7_000)
    counted = clinic.inventory.count_lot("nadia", lot, 3)  # open vial blank: as booked
    assert counted.movement_id is None and counted.said() == "matches the books"
    assert lot_row(clinic, lot).on_hand_ul == 37_000
    counted = clinic.inventory.count_lot("nadia", lot, 3, "5 mL", "miscount_previously")
    assert counted.difference_ul == -2_000
    assert counted.said() == "−2 mL booked: miscounted previously"
    assert (lot_row(clinic, lot).on_hand_ul, lot_row(clinic, lot).open_ul) == (35_000, 5_000)
    assert_ledger_exact(clinic)


def test_stock_is_taken_off_and_put_on_in_whole_containers_or_a_volume(clinic):
    lot = receive(clinic, MDV10, "X3", 5)  # five 10 mL vials
    clinic.inventory.waste_typed("nadia", lot, "1 vial", "damaged", "dropped")
    clinic.inventory.adjust_typed("nadia", lot, "2 Vials", "remove", "missing", "not on the shelf")
    clinic.inventory.adjust_typed("nadia", lot, "1 container", "add", "found", "behind the fridge")
    clinic.inventory.waste_typed("nadia", lot, "2.5 mL", "contaminated", "drawn up, dropped")
    row = lot_row(clinic, lot)
    assert (row.on_hand_ul, row.open_ul) == (30_000 - 2_500, 7_500)
    quantities = [m.quantity_ul for m in movements_of(clinic, lot) if m.kind in ("waste", "adjust")]
    assert quantities == [-10_000, -20_000, 10_000, -2_500]
    assert_ledger_exact(clinic)


def test_an_open_vial_counted_empty_is_booked_as_gone(clinic):
    lot = receive(clinic, MDV10, "X4", 3)
    clinic.inventory.waste_typed("nadia", lot, "4 mL", "contaminated", "dropped")
    assert lot_row(clinic, lot).open_ul == 6_000
    for empty in ("0", "0 mL", "empty"):
        counted = clinic.inventory.count_lot("nadia", lot, 2, empty, "expired_disposed")
        row = lot_row(clinic, lot)
        assert (row.on_hand_ul, row.open_ul, row.opened_at) == (20_000, 0, None), empty
    assert counted.said() == "matches the books"  # the first booked the 6 mL; then nothing
    assert_ledger_exact(clinic)


def movements_of(clinic, lot: int) -> list[MovementRow]:
    with unit_of_work(clinic.engine) as session:
        query = sa.select(MovementRow).where(MovementRow.lot_id == lot).order_by(MovementRow.id)
        return list(session.scalars(query))


def test_a_lot_booked_with_no_opened_container_counts_what_is_beyond_the_sealed_ones(clinic):
    lot = receive(clinic, MDV10, "X2", 5)
    set_lot(clinic, lot, on_hand_ul=37_000, open_ul=0)  # as partial takings once left it
    (received,) = movements_of(clinic, lot)
    with unit_of_work(clinic.engine, write=True) as session:  # the ledger agrees: append-only
        session.add(
            MovementRow(
                lot_id=lot, kind="dispense", quantity_ul=37_000 - 50_000,
                actor_id=received.actor_id, at=clinic.clock.now(),
            )
        )  # fmt: skip
    assert clinic.inventory.count("nadia", lot, 3) is None
    assert lot_row(clinic, lot).on_hand_ul == 37_000


def test_a_trace_is_a_report_staff_are_refused_in_those_words(shelf):
    with pytest.raises(PermissionDenied, match="see reports"):
        shelf.inventory.recall_trace("sam", shelf.b12)
