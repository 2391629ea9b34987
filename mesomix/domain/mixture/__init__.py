"""Draft mixtures and their plans: what to draw from which product, and what is wrong with it.

The draft holds text exactly as typed, so the same function serves the live screen (findings as
you type) and the dispense service (which re-runs it inside its transaction).

draft.py holds the draft and what its typed names mean (resolve_draft); plan.py the plan and its
syringe arithmetic; ingredients.py reads one row into one draw; planning.py is plan_mixture, with
what only the whole mixture shows (final volume, diluent, admixture, stock).
"""

from mesomix.domain.mixture.draft import (
    DEFAULT_DILUENT,
    PURPOSES,
    DraftIngredient,
    DraftMixture,
    ResolvedDraft,
    resolve_draft,
)
from mesomix.domain.mixture.ingredients import ROUNDING_BLOCK_PERCENT, ROUNDING_WARN_PERCENT
from mesomix.domain.mixture.plan import (
    MEASURABLE_UL,
    Delivered,
    Draw,
    Plan,
    containers_for,
    round_draw,
    to_ul,
)
from mesomix.domain.mixture.planning import plan_mixture

__all__ = [
    "DEFAULT_DILUENT",
    "MEASURABLE_UL",
    "PURPOSES",
    "ROUNDING_BLOCK_PERCENT",
    "ROUNDING_WARN_PERCENT",
    "Delivered",
    "DraftIngredient",
    "DraftMixture",
    "Draw",
    "Plan",
    "ResolvedDraft",
    "containers_for",
    "plan_mixture",
    "resolve_draft",
    "round_draw",
    "to_ul",
]
