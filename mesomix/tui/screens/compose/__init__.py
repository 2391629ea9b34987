"""Compose: pick a patient, type ingredients, watch the plan and findings, dispense.

The screen only gathers text and shows results: checking and dispensing run in workers that
call the services and post messages back; nothing here parses a quantity or opens a session.

- `plan_view.py` — what a checked mixture shows, in words (pure, tested without an App);
- `views.py` — the plan and findings drawn a line at a time;
- `ingredients.py` — the ingredient rows and the names offered for one typed;
- `layout.py` — the widgets where they stand;
- `drafting.py` — the draft read from the fields, checked once typing pauses, and shown;
- `screen.py` — ComposeScreen: override, acknowledge, dispense, save as a formula.
"""

from mesomix.tui.screens.compose.plan_view import plan_line
from mesomix.tui.screens.compose.screen import ComposeScreen
from mesomix.tui.screens.compose.views import FindingsView, PlanView
from mesomix.tui.screens.label import LabelScreen

__all__ = ["ComposeScreen", "FindingsView", "LabelScreen", "PlanView", "plan_line"]
