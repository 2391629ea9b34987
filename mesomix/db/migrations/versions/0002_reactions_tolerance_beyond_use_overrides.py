"""allergy reactions and tolerance, beyond-use dates, overrides

An allergy may list several reactions (FHIR AllergyIntolerance.reaction) and the substances the
patient has tolerated before; the single reaction recorded by 0001 is carried into the list.
Batches get their storage and beyond-use date; overrides get a table of their own.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EMPTY_LIST = sa.text("'[]'")


def upgrade() -> None:
    op.create_table(
        "override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("finding_key", sa.String(), nullable=False),
        sa.Column("finding_code", sa.String(), nullable=False),
        sa.Column("finding_message", sa.String(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("reason_code", sa.String(), nullable=False),
        sa.Column("reason_text", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"]),
        sa.ForeignKeyConstraint(["practitioner_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("override", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_override_batch_id"), ["batch_id"], unique=False)

    with op.batch_alter_table("allergy", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reactions", sa.JSON(), nullable=False, server_default=_EMPTY_LIST)
        )
        batch_op.add_column(
            sa.Column("tolerated", sa.JSON(), nullable=False, server_default=_EMPTY_LIST)
        )
    allergy = sa.table(
        "allergy",
        sa.column("id", sa.Integer()),
        sa.column("reaction", sa.String()),
        sa.column("reaction_severity", sa.String()),
        sa.column("reactions", sa.JSON()),
    )
    connection = op.get_bind()
    recorded = connection.execute(
        sa.select(allergy.c.id, allergy.c.reaction, allergy.c.reaction_severity).where(
            allergy.c.reaction != ""
        )
    ).all()
    for allergy_id, reaction, severity in recorded:
        connection.execute(
            allergy.update()
            .where(allergy.c.id == allergy_id)
            .values(reactions=[{"manifestation": reaction, "severity": severity or ""}])
        )
    with op.batch_alter_table("allergy", schema=None) as batch_op:
        batch_op.drop_column("reaction_severity")
        batch_op.drop_column("reaction")

    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("storage", sa.String(), nullable=False, server_default="room")
        )
        batch_op.add_column(sa.Column("beyond_use_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("beyond_use_rule", sa.String(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.drop_column("beyond_use_rule")
        batch_op.drop_column("beyond_use_at")
        batch_op.drop_column("storage")

    with op.batch_alter_table("allergy", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reaction", sa.String(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("reaction_severity", sa.String(), nullable=False, server_default="")
        )
    allergy = sa.table(
        "allergy",
        sa.column("id", sa.Integer()),
        sa.column("reaction", sa.String()),
        sa.column("reaction_severity", sa.String()),
        sa.column("reactions", sa.JSON()),
    )
    connection = op.get_bind()
    for allergy_id, reactions in connection.execute(
        sa.select(allergy.c.id, allergy.c.reactions)
    ).all():
        if reactions:
            first = reactions[0]
            connection.execute(
                allergy.update()
                .where(allergy.c.id == allergy_id)
                .values(
                    reaction=first.get("manifestation", ""),
                    reaction_severity=first.get("severity", ""),
                )
            )
    with op.batch_alter_table("allergy", schema=None) as batch_op:
        batch_op.drop_column("tolerated")
        batch_op.drop_column("reactions")

    with op.batch_alter_table("override", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_override_batch_id"))
    op.drop_table("override")
