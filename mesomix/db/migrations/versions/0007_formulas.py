"""formulas: named recipes with immutable versions; a batch records the version it came from

A trigger refuses UPDATE on formula_version: a change to a recipe is a new version. (DELETE is
left to the demo's --replace, which wipes everything but the audit trail.)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "formula versions are never changed: save a new version"


def upgrade() -> None:
    op.create_table(
        "formula",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("formula", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_formula_code"), ["code"], unique=True)
        batch_op.create_index(batch_op.f("ix_formula_name"), ["name"], unique=True)
    op.create_table(
        "formula_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("formula_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("ingredients", sa.JSON(), nullable=False),
        sa.Column("final_volume", sa.String(), nullable=False),
        sa.Column("diluent", sa.String(), nullable=True),
        sa.Column("storage", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["formula_id"], ["formula.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("formula_id", "version"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION formula_version_unchanged() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSAL}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER formula_version_no_update BEFORE UPDATE ON formula_version "
            "FOR EACH ROW EXECUTE FUNCTION formula_version_unchanged()"
        )
    else:
        op.execute(
            "CREATE TRIGGER formula_version_no_update BEFORE UPDATE ON formula_version "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
        )
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("formula_version_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_batch_formula_version_id"), ["formula_version_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_batch_formula_version_id_formula_version",
            "formula_version",
            ["formula_version_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.drop_constraint("fk_batch_formula_version_id_formula_version", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_batch_formula_version_id"))
        batch_op.drop_column("formula_version_id")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER formula_version_no_update ON formula_version")
        op.execute("DROP FUNCTION formula_version_unchanged()")
    else:
        op.execute("DROP TRIGGER formula_version_no_update")
    op.drop_table("formula_version")
    with op.batch_alter_table("formula", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_formula_name"))
        batch_op.drop_index(batch_op.f("ix_formula_code"))
    op.drop_table("formula")
