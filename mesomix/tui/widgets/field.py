"""A text field whose typing redraws the field alone.

Textual's Input sets its virtual size (the width of its text) on every change of its value, and
a change of any widget's virtual size asks for the whole screen to be laid out again: in Compose
every keystroke laid out some hundred widgets, none of which moves, since a field's size is
fixed by its sheet and its text scrolls inside it. A `Field` turns the layout asked for while its
value changes into a repaint of itself; a field sized by its content (`auto`) is laid out as
before.
"""

from __future__ import annotations

from typing import Self

from textual.geometry import Region
from textual.widgets import Input


class Field(Input):
    """An Input (every text field of mesomix) that does not lay the screen out as it is typed in."""

    _typed = False  # inside the change of its value

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
