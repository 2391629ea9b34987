"""stock belongs to a site: each lot is on one site's shelves, each batch made at one site

A manufacturer's lot on two sites' shelves is a lot row at each (`lot.site_id`), so a lot
number is unique per site and product (it was per product); today's lots and batches are the
first site's. What a lot's status says (quarantined, recalled) is said of the manufacturer's lot
at every site (services/stock/lots.py).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# names for the constraints 0001 left unnamed, so a batch copy can find them (SQLite);
# PostgreSQL named it itself
NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _per_product() -> str:
    """The name of 0001's unique lot number per product, on this database."""
    if op.get_bind().dialect.name == "postgresql":
        return "lot_product_code_lot_number_key"
    return "uq_lot_product_code"


def upgrade() -> None:
    with op.batch_alter_table("lot", schema=None, naming_convention=NAMES) as batch_op:
        batch_op.add_column(sa.Column("site_id", sa.Integer(), nullable=False, server_default="1"))
        batch_op.drop_constraint(_per_product(), type_="unique")
        batch_op.create_unique_constraint(
            "uq_lot_site_product_number", ["site_id", "product_code", "lot_number"]
        )
        batch_op.create_index("ix_lot_site_id", ["site_id"], unique=False)
        batch_op.create_foreign_key("fk_lot_site_id_site", "site", ["site_id"], ["id"])
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_id", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_index("ix_batch_site_id", ["site_id"], unique=False)
        batch_op.create_foreign_key("fk_batch_site_id_site", "site", ["site_id"], ["id"])


def downgrade() -> None:
    """Back to one shelf: refused while another site holds lots or batches."""
    bind = op.get_bind()
    elsewhere = bind.execute(
        sa.text(
            "SELECT (SELECT count(*) FROM lot WHERE site_id <> 1) "
            "+ (SELECT count(*) FROM batch WHERE site_id <> 1)"
        )
    ).scalar_one()
    if elsewhere:
        raise RuntimeError(
            f"{elsewhere} lots and batches are at other sites: one shelf cannot hold them"
        )
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.drop_constraint("fk_batch_site_id_site", type_="foreignkey")
        batch_op.drop_index("ix_batch_site_id")
        batch_op.drop_column("site_id")
    with op.batch_alter_table("lot", schema=None, naming_convention=NAMES) as batch_op:
        batch_op.drop_constraint("fk_lot_site_id_site", type_="foreignkey")
        batch_op.drop_index("ix_lot_site_id")
        batch_op.drop_constraint("uq_lot_site_product_number", type_="unique")
        batch_op.create_unique_constraint(_per_product(), ["product_code", "lot_number"])
        batch_op.drop_column("site_id")
