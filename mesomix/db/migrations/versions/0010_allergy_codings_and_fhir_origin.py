"""allergy codings and FHIR origin: what other systems gave, kept whole

An allergy keeps its allergen's codes in other systems (SNOMED CT, RxNorm...), so it is matched
by code and a "no known allergy" statement is told from an allergen; an imported allergy keeps
the FHIR resource as received, so it is exported as given with mesomix's changes merged.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("allergy", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("codings", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("fhir_origin", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("allergy", schema=None) as batch_op:
        batch_op.drop_column("fhir_origin")
        batch_op.drop_column("codings")
