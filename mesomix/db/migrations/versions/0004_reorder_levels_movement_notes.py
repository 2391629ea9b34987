"""reorder levels per product; a free-text note beside each movement's coded reason

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reorder_level", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reorder_quantity", sa.Integer(), nullable=True))
    with op.batch_alter_table("movement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.String(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("movement", schema=None) as batch_op:
        batch_op.drop_column("note")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_column("reorder_quantity")
        batch_op.drop_column("reorder_level")
