"""batch lines: whether the vials were verified at the bench by scan or by eye

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batch_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified", sa.String(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("batch_line", schema=None) as batch_op:
        batch_op.drop_column("verified")
