"""supplier and unit cost of each lot, for stock value and value at risk

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supplier", sa.String(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("unit_cost_cents", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.drop_column("unit_cost_cents")
        batch_op.drop_column("supplier")
