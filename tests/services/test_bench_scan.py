"""Verifying at the bench: each vial of a three-ingredient mixture (and its diluent) scanned
before it is drawn. The right lot is ticked; another usable lot of the right product is followed
(the allocation draws from it, said so); a wrong product, an expired, quarantined or recalled
lot, a lot not on the books or a vial whose printed expiry disagrees is a BLOCK that nobody can
sign off; the clinic may require every draw scanned; the batch says which draws were verified
by scan and which by eye — on SQLite and PostgreSQL."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta

import pytest
from sqlmodel import select

from mesomix.db.tables import BatchLineRow, BatchRow, LotRow
from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.reference import data_dir
from mesomix.services.errors import PermissionDenied
from mesomix.services.mixtures import DispenseRefused
from mesomix.services.uow import unit_of_work
from tests.factories import assert_ledger_exact, counts, lot_row, scan_of, set_lot

LIDO = "lidocaine_2pct_2ml_amp"
B12 = "cyanocobalamin_1000mcg_1ml_vial"
TXA = "cyklokapron_500mg_5ml_amp"
SALINE = "sodium_chloride_09_10ml_vial"
KYBELLA = "kybella_2ml_vial"
DEMO_GTINS = tomllib.loads((data_dir() / "demo" / "gtins.toml").read_text(encoding="utf-8"))
BOX = {g["product"]: g["code"] for g in DEMO_GTINS["gtin"] if g["packaging"] == "box"}


def draft(*scans: str) -> DraftMixture:
    return DraftMixture(
        ingredients=(
            DraftIngredient("lidocaine", "20 mg", LIDO),
            DraftIngredient("cyanocobalamin", "500 mcg", B12),
            DraftIngredient("tranexamic acid", "100 mg", TXA),
        ),
        final_volume="5 mL",
        diluent=SALINE,
        patient="P-1",
        scans=scans,
    )


@pytest.fixture
def bench(clinic_on_both):
    """The shelf: two lidocaine lots (the first to expire and a later one), one lot of each
    other product, a Kybella lot (in no mixture here); every box's code linked."""
    services = clinic_on_both
    today = services.clock.today()
    lots = {}
    for code, number, days in [
        (LIDO, "LD-EARLY", 60),
        (LIDO, "LD-LATE", 400),
        (B12, "B12-1", 300),
        (TXA, "TX-1", 300),
        (SALINE, "NS-1", 500),
        (KYBELLA, "KB-1", 300),
    ]:
        lots[number] = services.stock.receive(
            "nadia", code, number, today + timedelta(days=days), 5
        )
    services.gtins.link_many(
        "nadia", [(BOX[code], code, "box") for code in (LIDO, B12, TXA, SALINE, KYBELLA)]
    )
    return services, lots


def vial(services, lot_number: str, product: str | None = None, expiry: date | None = None) -> str:
    """The scan of a vial of a lot as the books have it (its product and expiry)."""
    with unit_of_work(services.engine) as session:
        lot = session.exec(select(LotRow).where(LotRow.lot_number == lot_number)).one()
    return scan_of(BOX[product or lot.product_code], lot_number, expiry or lot.expiry)


def all_four(services) -> list[str]:
    return [vial(services, n) for n in ("LD-EARLY", "B12-1", "TX-1", "NS-1")]


def codes(plan, severity: str | None = None) -> list[str]:
    return [
        f.code
        for f in plan.findings
        if f.code.startswith("scan.") and (severity is None or f.severity.value == severity)
    ]


def lines(services, batch_id: int) -> dict[str, str]:
    with unit_of_work(services.engine) as session:
        rows = session.exec(select(BatchLineRow).where(BatchLineRow.batch_id == batch_id))
        return {row.product_code: row.verified for row in rows}


def test_each_vial_scanned_is_ticked_and_the_batch_says_verified_by_scan(bench):
    services, _ = bench
    plan = services.mixtures.check(draft(*all_four(services)), "sam")
    assert codes(plan) == ["scan.verified"] * 4 and not plan.blocked
    said = [f.message for f in plan.findings if f.code == "scan.verified"]
    assert (
        "verified by scan: Lidocaine Hydrochloride Injection 2% 2 mL ampoule (preservative-free), lot LD-EARLY"
        in said
    )
    done = services.mixtures.dispense(draft(*all_four(services)), "sam", acknowledge_all=True)
    assert lines(services, done.batch_id) == dict.fromkeys((LIDO, B12, TXA, SALINE), "scan")
    assert_ledger_exact(services)


def test_a_draw_not_scanned_is_recorded_as_verified_by_eye(bench):
    services, _ = bench
    scans = all_four(services)[:2]  # lidocaine and B12 only
    done = services.mixtures.dispense(draft(*scans), "sam", acknowledge_all=True)
    assert lines(services, done.batch_id) == {LIDO: "scan", B12: "scan", TXA: "eye", SALINE: "eye"}


def test_another_usable_lot_of_the_right_product_is_followed_and_said(bench):
    services, lots = bench
    scans = [vial(services, "LD-LATE"), *all_four(services)[1:]]
    plan = services.mixtures.check(draft(*scans), "sam")
    (followed,) = [f.message for f in plan.findings if f.code == "scan.followed"]
    assert "lot LD-LATE scanned, so it is drawn from instead of lot LD-EARLY" in followed
    assert not plan.blocked
    services.mixtures.dispense(draft(*scans), "sam", acknowledge_all=True)
    assert lot_row(services, lots["LD-LATE"]).on_hand_ul < 5 * 2_000  # drawn from the vial in hand
    assert lot_row(services, lots["LD-EARLY"]).on_hand_ul == 5 * 2_000
    assert_ledger_exact(services)


@pytest.mark.parametrize(
    ("setup", "scan", "code", "said"),
    [
        (None, lambda s: vial(s, "KB-1"), "scan.wrong_product", "which this mixture does not draw — put it back; expected Lidocaine"),
        ({"status": "quarantined"}, lambda s: vial(s, "LD-LATE"), "scan.quarantined", "lot LD-LATE of Lidocaine"),
        ({"status": "recalled"}, lambda s: vial(s, "LD-LATE"), "scan.recalled", "is RECALLED — put it back"),
        ({"expiry": "past"}, lambda s: vial(s, "LD-LATE"), "scan.expired", "EXPIRED on"),
        (None, lambda s: scan_of(BOX[LIDO], "LD-NEVER", date(2030, 1, 31)), "scan.unknown_lot", "lot LD-NEVER of Lidocaine"),
        (None, lambda s: vial(s, "LD-LATE", expiry=date(2031, 12, 31)), "scan.expiry_mismatch", "the vial says expiry 2031-12-31"),
        (None, lambda s: scan_of("09520001009990", "X", date(2030, 1, 31)), "scan.unknown_gtin", "is linked to no product"),
        (None, lambda s: f"]d201{BOX[LIDO]}1730", "scan.unreadable", "half-read or garbled"),
    ],
)  # fmt: skip
def test_the_wrong_vial_is_blocked_naming_what_was_scanned_and_expected_and_nothing_is_written(
    bench, setup, scan, code, said
):
    services, lots = bench
    if setup is not None:
        values = dict(setup)
        if values.get("expiry") == "past":
            values["expiry"] = services.clock.today() - timedelta(days=1)
        set_lot(services, lots["LD-LATE"], **values)
    scans = [*all_four(services), scan(services)]
    plan = services.mixtures.check(draft(*scans), "sam")
    (block,) = [f for f in plan.findings if f.code == code]
    assert block.severity.value == "block" and not block.overridable
    assert block.message.startswith("scan 5: ") and said in block.message
    before = counts(services)
    with pytest.raises(DispenseRefused):
        services.mixtures.dispense(draft(*scans), "sam", acknowledge_all=True)
    assert counts(services) == before
    # the vial put back (its scan taken away): the mixture is dispensed
    services.mixtures.dispense(draft(*scans[:4]), "sam", acknowledge_all=True)


def test_the_clinic_may_require_every_draw_verified_by_scan(bench):
    services, _ = bench
    with pytest.raises(PermissionDenied):
        services.mixtures.require_bench_scan("sam", True)
    services.mixtures.require_bench_scan("nadia", True, "after the near miss of 3 March")
    assert services.mixtures.bench_scan_required()
    plan = services.mixtures.check(draft(), "sam")
    assert codes(plan, "block") == ["scan.required"] * 4
    before = counts(services)
    with pytest.raises(DispenseRefused):
        services.mixtures.dispense(draft(*all_four(services)[:3]), "sam", acknowledge_all=True)
    assert counts(services) == before
    done = services.mixtures.dispense(draft(*all_four(services)), "sam", acknowledge_all=True)
    assert set(lines(services, done.batch_id).values()) == {"scan"}
    trail = [e for e in services.audit.show("nadia") if e.action == "bench.scan_rule"]
    assert [(e.old, e.new, e.reason) for e in trail] == [
        ({"bench_scan": "optional"}, {"bench_scan": "required"}, "after the near miss of 3 March")
    ]
    services.mixtures.require_bench_scan("nadia", False)
    assert not services.mixtures.check(draft(), "sam").blocked


def test_the_scans_are_kept_with_the_batch_as_typed(bench):
    services, _ = bench
    scans = all_four(services)
    done = services.mixtures.dispense(draft(*scans), "sam", acknowledge_all=True)
    with unit_of_work(services.engine) as session:
        batch = session.get(BatchRow, done.batch_id)
    assert batch.draft["scans"] == scans
