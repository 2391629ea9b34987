"""Labels a printer prints: the PDF looked at as a person would (a page rendered to a picture,
its text read off the page and its 2-D code decoded from the picture), on the 62 mm roll and
the 4×6 in label; the ZPL held by a snapshot; names that are ZPL commands printed as text."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pypdfium2
import pytest
import zxingcpp

from mesomix.domain.label import SIZES, batch_code, read_batch_code, zpl
from mesomix.services.errors import ServiceError
from mesomix.services.label_sheets import pdf
from tests.factories import scan_of
from tests.services.test_bench_scan import B12, BOX, LIDO, SALINE, TXA, draft


def dispensed(services, patient: str = "P-1", scanned: bool = True) -> int:
    """A three-ingredient mixture in 5 mL, its vials scanned at the bench (or not)."""
    expiry = services.clock.today() + timedelta(days=300)
    scans = []
    for code, lot in ((LIDO, "LD1"), (B12, "B1"), (TXA, "TX1"), (SALINE, "NS1")):
        services.stock.receive("nadia", code, lot, expiry, 5)
        scans.append(scan_of(BOX[code], lot, expiry))
    services.gtins.link_many("nadia", [(BOX[c], c, "box") for c in (LIDO, B12, TXA, SALINE)])
    mixture = replace(
        draft(*scans) if scanned else draft(), patient=patient, storage="refrigerated"
    )
    return services.mixtures.dispense(mixture, "sam", acknowledge_all=True).batch_id


def looked_at(document: bytes) -> tuple[str, list[str], tuple[float, float]]:
    """The page's text, the codes a reader decodes from its picture, and its size in mm."""
    page = pypdfium2.PdfDocument(document)[0]
    text = page.get_textpage().get_text_range()
    picture = page.render(scale=300 / 72).to_pil()
    codes = [found.text for found in zxingcpp.read_barcodes(picture)]
    width, height = page.get_size()
    return text, codes, (round(width / 72 * 25.4, 1), round(height / 72 * 25.4, 1))


@pytest.mark.parametrize("size", list(SIZES))
def test_the_pdf_label_reads_as_it_should_and_its_code_reads_back(clinic, size):
    batch = dispensed(clinic)
    name, document = clinic.labels.printable("sam", batch, "pdf", size)
    assert name == f"batch-{batch:06d}-label-{size}.pdf"
    text, codes, (width, height) = looked_at(document)
    assert width == SIZES[size].width_mm and height >= SIZES[size].height_mm
    words = " ".join(text.split())
    for said in (
        f"Batch {batch}",
        "Amélie Laurent (P-1)",
        "Final volume 5 mL",
        "Lidocaine hydrochloride 20 mg (4 mg/mL)",
        "Tranexamic acid 100 mg (20 mg/mL)",
        "lot LD1 exp",
        "USE BY",
        "Made by Sam Ortega",
        "Store refrigerated, 2-8 °C",
        "Vials checked: 4 of 4 draws verified by scan",
        "Checked by:",
        batch_code(batch),
    ):
        assert said in words, said
    assert codes == [batch_code(batch)]
    assert read_batch_code(codes[0]) == batch


def test_a_label_says_which_draws_were_checked_by_eye(clinic):
    batch = dispensed(clinic, scanned=False)
    sheet = clinic.labels.sheet("sam", batch)
    assert sheet.verified == "Vials checked: 0 of 4 draws verified by scan, the rest by eye"


def test_the_zpl_label_is_held_by_its_snapshot(clinic, snapshot):
    batch = dispensed(clinic)
    for size in SIZES:
        _, text = clinic.labels.printable("sam", batch, "zpl", size)
        assert text.decode() == snapshot(name=size)


def test_a_name_holding_zpl_commands_is_printed_as_text(clinic):
    """^ starts a ZPL command and ~ a control one: a patient called so must not reprogram the
    printer, nor end the label early."""
    clinic.people.add_patient("drchen", "P-ZPL", "Zoë ^XZ~JA_Test^FS", weight="60 kg")
    batch = dispensed(clinic, patient="P-ZPL")
    printed = clinic.labels.printable("sam", batch, "zpl", "62mm")[1].decode()
    assert printed.count("^XA") == 1 and printed.count("^XZ") == 1
    assert "Zoë _5EXZ_7EJA_5FTest_5EFS (P-ZPL)" in printed
    text, codes, _ = looked_at(clinic.labels.printable("sam", batch, "pdf", "62mm")[1])
    assert "Zoë ^XZ~JA_Test^FS (P-ZPL)" in text and codes == [batch_code(batch)]


def test_a_long_label_runs_on_rather_than_being_cut(clinic):
    """A sheet longer than the roll's 100 mm: the page grows, every line is on it."""
    sheet = clinic.labels.sheet("sam", dispensed(clinic))
    long = type(sheet)(sheet.batch_id, sheet.lines * 6, sheet.storage, sheet.verified)
    text, codes, (_, height) = looked_at(pdf(long, SIZES["62mm"]))
    assert height > 100 and text.count("USE BY") == 6 and codes == [long.code]
    assert zpl(long, SIZES["62mm"]).count("USE BY") == 6


@pytest.mark.parametrize(
    ("form", "size", "said"),
    [("png", "62mm", "not 'png'"), ("pdf", "A4", "not 'A4'")],
)
def test_a_label_form_or_size_not_offered_is_refused(clinic, form, size, said):
    with pytest.raises(ServiceError, match=said):
        clinic.labels.printable("sam", dispensed(clinic), form, size)


@pytest.mark.parametrize(
    ("typed", "batch"),
    [("MXB000000123", 123), (" mxb000000007\n", 7), ("MXB00000012", None), ("123", None)],
)
def test_a_scanned_label_names_its_batch(typed, batch):
    assert read_batch_code(typed) == batch


def test_a_syringes_label_scanned_at_a_recall_names_the_lots_to_trace(clinic):
    batch = dispensed(clinic)
    with pytest.raises(ServiceError) as said:
        clinic.reports.recall("nadia", batch_code(batch))
    assert str(said.value) == (
        f"that is the label of batch {batch}, which drew lot B1 (Cyanocobalamin Injection USP "
        "1000 mcg/mL 1 mL vial (benzyl alcohol 1.5%)); lot LD1 (Lidocaine Hydrochloride "
        "Injection 2% 2 mL ampoule (preservative-free)); lot NS1 (Sodium Chloride Injection USP "
        "0.9% 10 mL single-dose vial (Fresenius Kabi NDC 63323-186-10)); lot TX1 (Cyklokapron "
        "500 mg/5 mL (100 mg/mL) solution for injection ampoule): trace one of those lots"
    )
    with pytest.raises(ServiceError, match="label of batch 999, which is not on record"):
        clinic.reports.recall("nadia", batch_code(999))
