"""A label sheet drawn as a PDF page of a label's size, with its 2-D code (ReportLab).

The text is the sheet's, wrapped to the label's width in a font the PDF carries (ReportLab's
own Bitstream Vera: every Latin-1 letter a name may hold, embedded, so the printer needs no
font of its own); the DataMatrix holds the batch code. A label longer than its size runs on
down the page, as a continuous roll does: nothing is cut off.
"""

from __future__ import annotations

import io
import threading

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import createBarcodeDrawing
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from mesomix.domain.label import LabelSheet, LabelSize

FONT, BOLD = "Vera", "VeraBd"
_fonts = threading.Lock()


def _register_fonts() -> None:
    with _fonts:
        if FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(FONT, "Vera.ttf"))
            pdfmetrics.registerFont(TTFont(BOLD, "VeraBd.ttf"))


def pdf(sheet: LabelSheet, size: LabelSize) -> bytes:
    """The label as a one-page PDF of the label's width (and its length, or more)."""
    _register_fonts()
    margin = 3 * mm
    width = size.width_mm * mm
    inner = width - 2 * margin
    leading = size.font_pt * 1.25
    head_pt = size.font_pt * 1.6
    # each line wrapped, its run-on rows indented (the width leaves room for the indent)
    lines = [
        (part, index > 0)
        for line in sheet.body()
        for index, part in enumerate(simpleSplit(line, FONT, size.font_pt, inner - 2 * mm) or [""])
    ]
    code_side = size.code_mm * mm
    needed = margin + head_pt * 1.3 + len(lines) * leading + 2 * mm + code_side + margin
    height = max(size.height_mm * mm, needed)
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=(width, height), pageCompression=1)
    page.setTitle(f"mesomix {sheet.head}")
    page.setAuthor("mesomix")
    y = height - margin - head_pt
    page.setFont(BOLD, head_pt)
    page.drawString(margin, y, sheet.head)
    y -= head_pt * 0.3
    page.setFont(FONT, size.font_pt)
    for text, indent in lines:
        y -= leading
        page.drawString(margin + (2 * mm if indent else 0), y, text)
    code = createBarcodeDrawing("ECC200DataMatrix", value=sheet.code)  # type: ignore[no-untyped-call]
    scale = code_side / code.width
    code.scale(scale, scale)
    renderPDF.draw(code, page, margin, margin)
    page.setFont(FONT, size.font_pt)
    page.drawString(margin + code_side + 2 * mm, margin + code_side / 2, sheet.code)
    page.showPage()
    page.save()
    return out.getvalue()
