"""product GTINs: the codes a product's boxes and vials carry, so a scan names the product

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "product_gtin",
        sa.Column("gtin", sa.String(), nullable=False),
        sa.Column("product_code", sa.String(), nullable=False),
        sa.Column("packaging", sa.String(), nullable=False),
        sa.Column("linked_by", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["linked_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["product_code"], ["product.code"]),
        sa.PrimaryKeyConstraint("gtin"),
    )
    with op.batch_alter_table("product_gtin", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_gtin_product_code"), ["product_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("product_gtin", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_gtin_product_code"))
    op.drop_table("product_gtin")
