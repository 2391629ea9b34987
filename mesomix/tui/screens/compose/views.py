"""The plan and the findings, drawn a line at a time (widgets/lines.py): a keystroke that
changes one draw redraws that line alone."""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from rich.padding import Padding
from rich.text import Text

from mesomix.domain.findings import Severity
from mesomix.tui.screens.compose.plan_view import FindingLine, PlanRow, plan_line
from mesomix.tui.widgets.lines import LineView


class PlanView(LineView[tuple[PlanRow, bool]]):
    """The plan, a draw a line (the final volume in bold, every other line striped as a table
    has them)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"plan-view--odd"}

    def show_rows(self, rows: list[PlanRow], bold_last: bool) -> None:
        last = len(rows) - 1
        self.show(
            ((row, bold_last and y == last), "plan-view--odd" if y % 2 else "")
            for y, row in enumerate(rows)
        )

    def draw(self, entry: tuple[PlanRow, bool]) -> RenderableType:
        row, bold = entry
        return plan_line(row, bold)

    @property
    def rows(self) -> list[PlanRow]:
        return [entry[0] for entry, _ in self.entries]


class FindingsView(LineView[str]):
    """The findings, most severe first, each wrapped whole (a warning cut to a line could not be
    read) and marked by its word and its colour."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        f"findings-view--{severity.value}" for severity in Severity
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tall = 0  # the lines the box was last sized to

    def show_findings(self, lines: list[FindingLine]) -> None:
        self.show((text, f"findings-view--{severity}") for text, severity in lines)

    def refit(self) -> None:
        """For the next mixture: the box shrinks to the findings it shows, once."""
        self._tall = 0
        self._redraw()

    def _redraw(self) -> None:
        """The box is as tall as its findings (up to half the column, the stylesheet's; the plan
        has the rest): it grows at once, and shrinks only for the next mixture — not back and
        forth while an amount is typed, which would lay the screen out on every check."""
        super()._redraw()
        tall = max(self.line_count, 1)
        if self._width and tall > self._tall:
            self._tall = tall
            self.styles.height = tall

    def draw(self, entry: str) -> RenderableType:
        return Padding(Text(str(entry)), (0, 1))

    @property
    def texts(self) -> list[str]:
        return [str(entry) for entry, _ in self.entries]
