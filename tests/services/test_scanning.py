"""Scanning at receiving: a box's GS1 code names its product by GTIN (linked by a manager, on
the trail) and gives the lot and expiry; what disagrees with the box or the lot on record is
refused with words, a recalled lot is not received, a quarantined one is said — on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from mesomix.services.errors import NotFound, PermissionDenied, Refusals, ServiceError
from tests.factories import assert_ledger_exact, counts, scan_of

LIDO = "lidocaine_2pct_2ml_amp"
BOX = "09520001000041"  # GS1 prefix 952: for examples
VIAL = "09520001000058"
KYBELLA = "kybella_2ml_vial"


def linked(services, gtin=BOX, product=LIDO, packaging="box"):
    return services.gtins.link("nadia", gtin, product, packaging)


def cells(scan: str, containers: str = "4", **typed: str) -> dict[str, str]:
    return {"product": scan, "containers": containers, **typed}


def in_a_year(services) -> date:
    return services.clock.today().replace(day=1) + timedelta(days=400)


def test_a_manager_links_a_gtin_and_the_trail_says_who(clinic_on_both):
    link = linked(clinic_on_both)
    assert (link.gtin, link.product_code, link.packaging, link.linked_by) == (
        BOX,
        LIDO,
        "box",
        "nadia",
    )
    assert clinic_on_both.gtins.product_of(BOX) == link
    # the digits under an EAN-13 bar code name the same code; linking it again changes nothing
    before = counts(clinic_on_both)
    assert linked(clinic_on_both, BOX[1:]) == link
    assert counts(clinic_on_both) == before
    trail = clinic_on_both.audit.show("nadia")
    assert [
        (e.user_name, e.record, e.new["gtin"], e.new["product"])
        for e in trail
        if e.action == "catalogue.link_gtin"
    ] == [("nadia", f"product {LIDO}", BOX, LIDO)]


@pytest.mark.parametrize(
    ("user", "gtin", "product", "error", "said"),
    [
        ("sam", BOX, LIDO, PermissionDenied, "may not"),
        ("nadia", "09520001000040", LIDO, ServiceError, "fails its check digit"),
        ("nadia", "09520001000", LIDO, ServiceError, "8, 12, 13 or 14 digits"),
        ("nadia", f"]d201{BOX}1727", LIDO, ServiceError, "half-read or garbled"),
        ("nadia", BOX, "no_such_product", NotFound, "unknown product"),
    ],
)
def test_a_bad_link_is_refused_in_words_and_writes_nothing(
    clinic, user, gtin, product, error, said
):
    before = counts(clinic)
    with pytest.raises(error, match=said):
        clinic.gtins.link(user, gtin, product)
    assert counts(clinic) == before and clinic.gtins.product_of(BOX) is None


def test_a_code_names_one_product(clinic):
    linked(clinic)
    with pytest.raises(ServiceError, match="already linked to Lidocaine"):
        linked(clinic, product=KYBELLA)
    assert clinic.gtins.product_of(BOX).product_code == LIDO


def test_a_scanned_box_is_received_with_the_lot_and_expiry_it_carries(clinic_on_both):
    services = clinic_on_both
    linked(services)
    linked(services, VIAL, packaging="ampoule")
    expiry = in_a_year(services)
    done = services.stock.receive_typed("nadia", cells(scan_of(BOX, "LD-7/2", expiry), "6"))
    assert (done.product_code, done.lot_number, done.containers) == (LIDO, "LD-7/2", 6)
    (lot,) = [line for line in services.stock.lots("nadia", LIDO)]
    assert (lot.lot_number, lot.expiry, lot.on_hand_ul) == ("LD-7/2", expiry, 12_000)
    # the vial's own code, as a Digital Link, names the same product and joins the same lot
    link = f"https://id.gs1.org/01/{VIAL}/10/LD-7%2F2?17={expiry:%y%m%d}"
    assert services.stock.receive_typed("nadia", cells(link, "1")).lot_id == done.lot_id
    assert_ledger_exact(services)


def test_a_typed_lot_or_expiry_must_agree_with_the_box(clinic):
    linked(clinic)
    expiry = in_a_year(clinic)
    scan = scan_of(BOX, "LD1", expiry)
    agreeing = cells(scan, lot_number="LD1", expiry=f"{expiry:%Y-%m-%d}")
    assert clinic.stock.check_receipt(agreeing)[1] == []
    _, said = clinic.stock.check_receipt(cells(scan, lot_number="LD2"))
    assert said == ["lot number: the box's code says lot LD1, not LD2"]
    _, said = clinic.stock.check_receipt(cells(scan, expiry="2031-01-31"))
    assert said == [
        f"expiry: the box's code says {expiry.isoformat()}, not 2031-01-31: check the box"
    ]


def test_a_code_without_lot_or_expiry_asks_for_them(clinic):
    linked(clinic)
    _, said = clinic.stock.check_receipt(cells(scan_of(BOX)))
    assert said == [
        "lot number: the box's code carries no lot: type it",
        "expiry: the box's code carries no expiry: type it",
    ]
    expiry = in_a_year(clinic)
    typed = cells(scan_of(BOX), lot_number="T1", expiry=f"{expiry:%Y-%m-%d}")
    assert clinic.stock.receive_typed("nadia", typed).lot_number == "T1"


def test_a_scanned_expiry_that_disagrees_with_the_lot_on_record_is_refused(clinic_on_both):
    services = clinic_on_both
    linked(services)
    on_record = in_a_year(services)
    services.stock.receive("nadia", LIDO, "LD1", on_record, 2)
    before = counts(services)
    other = on_record + timedelta(days=31)
    with pytest.raises(Refusals, match=f"on record with expiry {on_record.isoformat()}"):
        services.stock.receive_typed("nadia", cells(scan_of(BOX, "LD1", other)))
    assert counts(services) == before


def test_a_recalled_lot_is_not_received_and_a_quarantined_one_is_said(clinic_on_both):
    services = clinic_on_both
    linked(services)
    expiry = in_a_year(services)
    recalled = services.stock.receive("nadia", LIDO, "RC1", expiry, 2)
    services.stock.set_status("nadia", recalled, "recalled", "particles in the ampoules")
    before = counts(services)
    with pytest.raises(Refusals, match=r"lot RC1 of .* is recalled \(particles in the ampoules\)"):
        services.stock.receive_typed("nadia", cells(scan_of(BOX, "RC1", expiry)))
    assert counts(services) == before
    # typed by hand, or the lot set to recalled behind the form's back: refused all the same
    with pytest.raises(ServiceError, match="is recalled"):
        services.stock.receive("nadia", LIDO, "RC1", expiry, 1)
    held = services.stock.receive("nadia", LIDO, "QT1", expiry, 2)
    services.stock.set_status("nadia", held, "quarantined", "temperature excursion")
    said = services.stock.scanned(scan_of(BOX, "QT1", expiry))
    assert "Lot QT1 is QUARANTINED" in said and "Lidocaine" in said
    assert services.stock.receive_typed("nadia", cells(scan_of(BOX, "QT1", expiry))).lot_id == held


@pytest.mark.parametrize(
    ("scan", "said"),
    [
        (scan_of("09520001009990", "X1", date(2030, 1, 31)), "is linked to no product"),
        (f"]d201{BOX}17300131" + "10", "half-read or garbled"),
        (f"]d201{BOX}1730", "half-read or garbled"),
        (f"]d201{BOX[:-1]}9" + "10AB", "fails its check digit"),
        (scan_of(BOX, "OLD1", date(2020, 1, 31)), "expired"),
    ],
)
def test_a_bad_scan_at_receiving_is_refused_in_words_and_writes_nothing(clinic, scan, said):
    linked(clinic)
    before = counts(clinic)
    with pytest.raises(Refusals, match=said):
        clinic.stock.receive_typed("nadia", cells(scan))
    assert counts(clinic) == before


def test_the_demo_shelf_knows_its_boxes(demo):
    link = demo.gtins.product_of(BOX)
    assert link is not None and link.product_code == LIDO
    assert {g.packaging for g in demo.gtins.of_product(LIDO)} == {"box", "ampoule"}
