"""what each batch is for and which practitioner ordered it, for the mixtures report

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purpose", sa.String(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("prescriber_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_batch_prescriber_id_user_account", "user_account", ["prescriber_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.drop_constraint("fk_batch_prescriber_id_user_account", type_="foreignkey")
        batch_op.drop_column("prescriber_id")
        batch_op.drop_column("purpose")
