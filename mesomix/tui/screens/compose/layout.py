"""Compose's widgets, where they stand: the people above, the ingredients beside the names
offered, the plan and the findings, the final volume and the rest of the draft below."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Header, Label, Select, Static

from mesomix.domain.mixture import PURPOSES
from mesomix.tui.screens.compose.ingredients import IngredientRow, NameOffers
from mesomix.tui.screens.compose.plan_view import plan_line
from mesomix.tui.screens.compose.views import FindingsView, PlanView
from mesomix.tui.widgets.field import Field

STARTING_ROWS = 3
# How a mixture is kept until given: (shown, storage, compounding category).
KEEPING = {
    "room": ("room temp.", "room", "category_1"),
    "refrigerated": ("refrigerated", "refrigerated", "category_1"),
    "immediate": ("immediate use", "room", "immediate_use"),
}


def layout(
    made_by: str, offers: NameOffers, plan_view: PlanView, findings_view: FindingsView
) -> ComposeResult:
    """The screen's widgets; those it keeps (the names offered, the plan, the findings) are
    made by the screen and placed here."""
    yield Header()
    with Horizontal(id="people"):
        yield Select[str]([], prompt="Patient", id="patient", compact=True)
        yield Select[str](
            [(purpose, purpose) for purpose in PURPOSES],
            prompt="Purpose",
            id="purpose",
            compact=True,
        )
        # Who ordered the mixture (an active practitioner): on the batch, its label, reports.
        yield Select[str]([], prompt="Ordered by", id="prescriber", compact=True)
        yield Label(Text(f"made by {made_by}"), id="made-by")
    yield Static("Choose a patient.", id="patient-info")
    with Horizontal(id="work"):
        with VerticalScroll(id="ingredients", can_focus=False):
            yield Label("Ingredients", classes="section")
            # There from the first frame: nothing is mounted, and no focus moves, when the
            # catalogue arrives (the names' suggestions come with it).
            for _ in range(STARTING_ROWS):
                yield IngredientRow(None, offers)
            yield offers.hint
        with Vertical(id="results"):
            # The names a typed ingredient may mean, to pick with the arrows and Ctrl+Space;
            # never focused: the cursor stays in the field typed in.
            yield offers.picks
            # The plan and findings are in the Tab order so the arrows can scroll them.
            yield Static(plan_line(("Draw", "from → delivers", "")), id="plan-head")
            yield plan_view
            yield findings_view
    with Horizontal(id="bottom"):
        yield Label("Final volume", id="final-label")
        # No number here: a grey "5 mL" was read as a volume already set.
        yield Field(placeholder="as drawn", id="final-volume", compact=True)
        yield Select[str]([], prompt="q.s. default", id="diluent", compact=True)
        yield Select[str](
            # How it is kept until given sets the beyond-use date (data/beyond_use.toml).
            [(shown, value) for value, (shown, _, _) in KEEPING.items()],
            value="room",
            allow_blank=False,
            id="storage",
            compact=True,
        )
        yield Button("Blocked (F9)", id="dispense", variant="success", disabled=True, compact=True)
    yield Static("", id="status")
    yield Footer(compact=True)
