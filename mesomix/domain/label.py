"""The label a printer prints: what it says, on which size, and its 2-D code.

A label sheet is the batch's label as it was made at the dispense (patient, session,
ingredients with amounts and concentrations, lots, overrides signed, warnings read, the
beyond-use date, who ordered and who made it), headed by the batch number and followed by how
it is stored, how its vials were checked at the bench, and a line for the second person who
checks it to sign. Its 2-D code (DataMatrix) holds the batch code, which a scanner at the bench
or at a recall types back (`read_batch_code`).

ZPL, the language of Zebra and most label printers, is made here as text; the PDF is drawn by
the services (services/label_sheets.py) from the same sheet. Pure: no files, no printer.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

BATCH_CODE_PREFIX = "MXB"
# Letters and digits only: a scanner typing through any keyboard layout types them as printed.
_BATCH_CODE = re.compile(rf"^\s*{BATCH_CODE_PREFIX}(\d{{9}})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class LabelSize:
    key: str
    width_mm: float
    height_mm: float
    font_pt: float  # the body's size in the PDF
    code_mm: float  # the 2-D code's side
    columns: int  # characters a line holds in ZPL's font 0 (about 0.55 of its height wide)


# the 62 mm continuous roll (a label 100 mm long, or longer) and the 4 × 6 in shipping label
SIZES = {
    "62mm": LabelSize("62mm", 62, 100, 6.5, 16, 40),
    "4x6": LabelSize("4x6", 101.6, 152.4, 9, 25, 48),
}
ZPL_DOTS_PER_MM = 8  # 203 dpi, the common label printer


@dataclass(frozen=True)
class LabelSheet:
    batch_id: int
    lines: tuple[str, ...]  # the label as made at the dispense
    storage: str  # in words: "Store refrigerated, 2–8 °C"
    verified: str  # in words: "3 of 3 draws verified by scan"
    recalled: tuple[str, ...] = ()  # lots recalled since, said first

    @property
    def code(self) -> str:
        return batch_code(self.batch_id)

    @property
    def head(self) -> str:
        return f"Batch {self.batch_id}"

    def body(self) -> list[str]:
        """Every line under the head, in the order printed."""
        return [
            *self.recalled,
            *self.lines,
            self.storage,
            self.verified,
            "Checked by: ____________________",
        ]


def batch_code(batch_id: int) -> str:
    """What the label's 2-D code holds: the batch number, unmistakable for any other code."""
    return f"{BATCH_CODE_PREFIX}{batch_id:09d}"


def read_batch_code(text: str) -> int | None:
    """The batch a scanned label names; None when what was typed is no label's code."""
    found = _BATCH_CODE.match(text)
    return int(found.group(1)) if found else None


def zpl(sheet: LabelSheet, size: LabelSize) -> str:
    """The label in ZPL II: the head in bold, each line wrapped to the label's width, the
    2-D code at the foot. Text goes through ^FH, so a name holding ^ or ~ is printed, never
    read as a command."""
    dots = ZPL_DOTS_PER_MM
    width, height = round(size.width_mm * dots), round(size.height_mm * dots)
    margin = 2 * dots
    body_dots = max(14, round((size.width_mm - 4) * dots / size.columns * 1.65))
    out = ["^XA", "^CI28", f"^PW{width}", "", "^LH0,0"]
    y = margin
    out.append(f"^FO{margin},{y}^A0N,{body_dots * 2},{body_dots * 2}^FH_^FD{_field(sheet.head)}^FS")
    y += body_dots * 2 + dots
    for line in sheet.body():
        for part in textwrap.wrap(line, size.columns, subsequent_indent="  ") or [""]:
            out.append(f"^FO{margin},{y}^A0N,{body_dots},{body_dots}^FH_^FD{_field(part)}^FS")
            y += body_dots + 2
    module = max(3, round(size.code_mm * dots / 16))  # a 16×16 symbol fills the side
    out.append(f"^FO{margin},{y + dots}^BXN,{module},200^FD{sheet.code}^FS")
    # a long label runs on: a continuous roll is cut where the code ends
    out[3] = f"^LL{max(height, y + dots + 16 * module + margin)}"
    out.append("^XZ")
    return "\n".join(out) + "\n"


def _field(text: str) -> str:
    """Text for ^FH_: the escape character and ZPL's command prefixes as hex."""
    return text.replace("_", "_5F").replace("^", "_5E").replace("~", "_7E")
