"""acknowledgements: the warnings the person dispensing read, kept with the batch

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "acknowledgement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("finding_key", sa.String(), nullable=False),
        sa.Column("finding_code", sa.String(), nullable=False),
        sa.Column("finding_message", sa.String(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("acknowledgement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_acknowledgement_batch_id"), ["batch_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("acknowledgement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_acknowledgement_batch_id"))
    op.drop_table("acknowledgement")
