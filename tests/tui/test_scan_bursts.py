"""Scanning at scanner speed in the real application, in a pseudo-terminal of 80×24: a manager
receives three boxes by their GS1 DataMatrix (one with an expiry the books disagree with, which
is refused), then staff compose a three-ingredient mixture and scan its vials — the three right
ones, an expired lot and a lot nobody received — as one burst, each code ended by Enter and its
group separator sent as the byte a scanner sends (ASCII 29); the two wrong vials are put back,
the mixture dispensed and its label saved as ZPL. Afterwards the database says what was done."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from mesomix.bootstrap import Settings, build
from mesomix.db.tables import BatchLineRow, BatchRow, LotRow
from mesomix.reference import data_dir
from mesomix.services.demo import load_demo
from mesomix.services.uow import unit_of_work
from tests.factories import set_lot
from tests.tui.test_typed_bursts import (
    ENTER,
    ESC,
    F5,
    MANAGER,
    Tally,
    Terminal,
    sign_in_burst,
    sign_out_burst,
)

STAFF = ("sam", "demo-staff-2026")
GS = "\x1d"
CTRL_B, CTRL_R, F9 = "\x02", "\x12", "\x1b[20~"
GTINS = tomllib.loads((data_dir() / "demo" / "gtins.toml").read_text(encoding="utf-8"))["gtin"]
BOX = {g["product"]: g["code"] for g in GTINS if g["packaging"] == "box"}
# what the demo's plan draws for lidocaine 20 mg, tranexamic acid 50 mg, cyanocobalamin 500 mcg
DRAWN = ("lidocaine_1pct_2ml_amp", "cyklokapron_500mg_5ml_amp", "cyanocobalamin_1000mcg_10ml_mdv")
EXPIRY = date.today() + timedelta(days=800)  # later than every demo lot: the vials scanned lead


def code(product: str, lot: str, expiry: date, serial: str = "SN1") -> str:
    """What the scanner sends: identifier, GTIN, expiry, lot, the separator byte, serial."""
    return f"]d201{BOX[product]}17{expiry:%y%m%d}10{lot}{GS}21{serial}"


@pytest.fixture
def shelf(tmp_path) -> Path:
    """The demo, with a lidocaine lot that expired yesterday still on the books."""
    path = tmp_path / "demo.sqlite"
    services = build(Settings(database_url=f"sqlite:///{path}"))
    load_demo(services)
    lot = services.stock.receive("nadia", DRAWN[0], "EXP-1", date.today() + timedelta(days=5), 2)
    set_lot(services, lot, expiry=date.today() - timedelta(days=1))
    services.close()
    return path


def keys(text: str) -> list[str]:
    return list(text)


@pytest.mark.slow
def test_boxes_received_and_vials_verified_at_scanner_speed(shelf, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # where the label is saved
    term = Terminal(shelf)
    tally = Tally()
    try:
        sign_in_burst(term, tally, MANAGER, 0.0)
        term.send([F5])
        term.on("InventoryScreen")
        for at, product in enumerate(DRAWN):
            term.send(["r"])
            term.on("FormScreen", "form-product")
            # the scan, Enter (to how many), 6, then Enter through supplier and cost: received
            term.send([*keys(code(product, f"SB-{at}", EXPIRY)), ENTER, "6", ENTER, ENTER, ENTER])
            term.on("InventoryScreen")
        # the same lot again, its box printed with another expiry: refused, nothing booked
        term.send(["r"])
        term.on("FormScreen", "form-product")
        other = EXPIRY + timedelta(days=31)
        term.send([*keys(code(DRAWN[0], "SB-0", other)), ENTER, "1", ENTER, ENTER, ENTER])
        term.wait_for(
            lambda s: s["screen"] == "FormScreen" and s["focused"] != "form-product",
            "the refusal shown",
        )
        term.send([ESC])
        term.on("InventoryScreen")

        sign_out_burst(term, tally, STAFF, 0.0)
        term.on("ComposeScreen", "Select")
        term.choose("patient", "P-0003")
        for field, text in (
            ("0.what", "lidocaine"),
            ("1.amount", "20 mg"),
            ("2.what", "tranexamic acid"),
            ("3.amount", "50 mg"),
            ("4.what", "cyanocobalamin"),
            ("5.amount", "500 mcg"),
        ):
            term.focus(field)
            term.send(keys(text))
            term.wait_for(
                lambda s, field=field, text=text: s["fields"][field]["value"] == text,
                f"{text} typed into {field}",
            )
        term.send([CTRL_B])
        term.on("BenchScanScreen", "bench-scan")
        scans = [code(product, f"SB-{at}", EXPIRY, f"V{at}") for at, product in enumerate(DRAWN)]
        wrong = [
            code(DRAWN[0], "EXP-1", date.today() - timedelta(days=1), "V8"),  # expired
            code(DRAWN[1], "NEVER-RECEIVED", EXPIRY, "V9"),  # not on the books
        ]
        term.send([key for scan in (*scans, *wrong) for key in (*keys(scan), ENTER)])
        term.wait_for(
            lambda s: s["fields"]["bench-scan"]["value"] == "", "every scan taken, the field empty"
        )
        term.send([CTRL_R, CTRL_R], 0.2)  # the two wrong vials put back
        term.send([ESC], 0.3)
        term.on("ComposeScreen")
        term.send([F9], 1.0)
        term.on("LabelScreen")
        term.send(["z"], 0.5)
        labels = tmp_path / "data" / "mesomix" / "labels"
        term.wait_for(lambda s: any(labels.glob("*-62mm.zpl")), "the label saved as ZPL")
    finally:
        term.close()

    services = build(Settings(database_url=f"sqlite:///{shelf}"))
    with unit_of_work(services.engine) as session:
        received = {
            lot.lot_number: (lot.product_code, lot.expiry)
            for lot in session.exec(select(LotRow).where(LotRow.lot_number.startswith("SB-")))
        }
        batch = session.exec(select(BatchRow).order_by(BatchRow.id.desc())).first()
        lines = session.exec(select(BatchLineRow).where(BatchLineRow.batch_id == batch.id)).all()
    services.close()
    assert received == {f"SB-{at}": (p, EXPIRY) for at, p in enumerate(DRAWN)}
    # the scans kept with the batch are the three right ones, whole, as the scanner typed them
    # (its separator byte kept as the symbol the field types for it)
    assert batch.draft["scans"] == [scan.replace(GS, "\u241d") for scan in scans]
    assert {line.product_code: line.verified for line in lines} == dict.fromkeys(DRAWN, "scan")
    (zpl,) = labels.glob("*-62mm.zpl")
    assert f"^FDMXB{batch.id:09d}^FS" in zpl.read_text(encoding="utf-8")
