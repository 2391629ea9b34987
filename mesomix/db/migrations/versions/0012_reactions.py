"""reactions: what happened after a batch, versioned (corrections and confirmations are new
rows; nothing is deleted), and the decision on the allergy an allergic reaction proposes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", _AT, nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reaction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reaction_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reaction_patient_id"), ["patient_id"], unique=False)
    op.create_table(
        "reaction_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reaction_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("what", sa.String(), nullable=False),
        sa.Column("onset_at", _AT, nullable=False),
        sa.Column("zone", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("serious", sa.String(), nullable=False),
        sa.Column("treatment", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("confirmed_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("recorded_at", _AT, nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["confirmed_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["reaction_id"], ["reaction.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reaction_id", "version"),
    )
    with op.batch_alter_table("reaction_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reaction_version_reaction_id"), ["reaction_id"], unique=False
        )

    op.create_table(
        "reaction_allergy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reaction_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(), nullable=False),
        sa.Column("substances", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("decided_at", _AT, nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["decided_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["reaction_id"], ["reaction.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reaction_id"),
    )


def downgrade() -> None:
    op.drop_table("reaction_allergy")
    with op.batch_alter_table("reaction_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reaction_version_reaction_id"))
    op.drop_table("reaction_version")
    with op.batch_alter_table("reaction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reaction_patient_id"))
        batch_op.drop_index(batch_op.f("ix_reaction_batch_id"))
    op.drop_table("reaction")
