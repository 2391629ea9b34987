"""Formulas: named, versioned recipes a mixture starts from, and scaling them to another volume.

A formula's versions never change: a new recipe is a new version, and a batch records the
version it was started from. Scaling multiplies every amount by new final volume / old final
volume in exact fractions and keeps each amount's own unit (20 mg in 5 mL is 40 mg in 10 mL,
1000 IU is 2000 IU); an amount whose exact value has no short decimal is rounded to four
significant digits and said so. Pure: no database, no UI.

recipe.py holds formulas, versions and their checks; scaling.py scales a version.
"""

from mesomix.domain.formulas.recipe import (
    MAX_INGREDIENTS,
    MAX_NAME,
    MAX_TEXT,
    MAX_WHAT,
    Formula,
    FormulaError,
    FormulaVersion,
    Unchanged,
    check_name,
    check_purpose,
    check_text,
    formula_code,
    ingredients_from_records,
    ingredients_to_records,
    to_draft,
    version_from_draft,
)
from mesomix.domain.formulas.scaling import (
    MAX_FACTOR,
    MIN_FACTOR,
    SIGNIFICANT,
    Rounded,
    ScaleError,
    Scaling,
    scale,
    scaling,
)

__all__ = [
    "MAX_FACTOR",
    "MAX_INGREDIENTS",
    "MAX_NAME",
    "MAX_TEXT",
    "MAX_WHAT",
    "MIN_FACTOR",
    "SIGNIFICANT",
    "Formula",
    "FormulaError",
    "FormulaVersion",
    "Rounded",
    "ScaleError",
    "Scaling",
    "Unchanged",
    "check_name",
    "check_purpose",
    "check_text",
    "formula_code",
    "ingredients_from_records",
    "ingredients_to_records",
    "scale",
    "scaling",
    "to_draft",
    "version_from_draft",
]
