"""Draft mixtures and their plans: what to draw from which product, and what is wrong with it.

The draft holds text exactly as typed, so the same function serves the live screen (findings as
you type) and the dispense service (which re-runs it inside its transaction).

draft.py holds the draft and the plan; planner.py plans one ingredient; plan.py the whole mixture.
"""

from mesomix.domain.mixture.draft import (
    DEFAULT_DILUENT,
    MEASURABLE_UL,
    PURPOSES,
    ROUNDING_BLOCK_PERCENT,
    ROUNDING_WARN_PERCENT,
    Delivered,
    DraftIngredient,
    DraftMixture,
    Draw,
    Plan,
    containers_for,
    round_draw,
    to_ul,
)
from mesomix.domain.mixture.plan import candidate_products, plan_mixture

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
    "candidate_products",
    "containers_for",
    "plan_mixture",
    "round_draw",
    "to_ul",
]
