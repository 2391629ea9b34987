"""A stored formula version as the domain's recipe."""

from __future__ import annotations

from mesomix.db.tables import FormulaVersionRow
from mesomix.domain.formulas import FormulaVersion, ingredients_from_records


def formula_version(row: FormulaVersionRow, created_by: str = "") -> FormulaVersion:
    return FormulaVersion(
        number=row.version,
        ingredients=ingredients_from_records(row.ingredients),
        final_volume=row.final_volume,
        diluent=row.diluent,
        storage=row.storage,
        note=row.note,
        id=row.id,
        created_at=row.created_at,
        created_by=created_by,
    )
