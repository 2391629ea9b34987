"""A text field whose typing redraws the field alone.

Textual's Input sets its virtual size (the width of its text) on every change of its value, and
a change of any widget's virtual size asks for the whole screen to be laid out again: in Compose
every keystroke laid out some hundred widgets, none of which moves, since a field's size is
fixed by its sheet and its text scrolls inside it. A `Field` turns the layout asked for while its
value changes into a repaint of itself; a field sized by its content (`auto`) is laid out as
before.

A barcode scanner types the GS1 group separator (ASCII 29) between a code's variable-length
fields. A terminal passes it as Ctrl+], which Textual's Input drops as a key that is no
character: the lot and what follows it would run together into one wrong lot. A `Field` types
it as the symbol for it (␝), which the scan reader takes for the separator (domain/scan.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.widgets import Input

from mesomix.domain.scan import REPLACEMENTS


class Field(Input):
    """An Input (every text field of mesomix) that does not lay the screen out as it is typed in."""

    BINDINGS = [
        Binding("ctrl+right_square_bracket", "group_separator", "GS1 separator", show=False)
    ]

    _typed = False  # inside the change of its value

    def action_group_separator(self) -> None:
        self.insert_text_at_cursor(REPLACEMENTS[0])

    def _watch_value(self, value: str) -> None:
        self._typed = True
        try:
            super()._watch_value(value)
        finally:
            self._typed = False

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        if layout and self._typed and not self.styles.auto_dimensions:
            layout = False  # its text scrolls inside it: nothing around it moves
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)


class ScanField(Field):
    """A field a barcode scanner types into, one code after another, each ended by Enter.

    Enter hands the code on (`Scanned`) and empties the field in the same step, in the order
    of the keys: a scanner's next code, typed before the screen has heard of the last, goes
    into an empty field and is never cut by an emptying that comes after it."""

    @dataclass
    class Scanned(Message):
        field: ScanField
        text: str

    async def action_submit(self) -> None:
        text, self.value = self.value, ""
        if text.strip():
            self.post_message(self.Scanned(self, text.strip()))
