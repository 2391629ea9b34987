"""courses: a patient's planned sessions, their versions, consents and injection records;
a patient no longer treated

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_table(
        "course",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("indication", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("status_reason", sa.String(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_patient_id"), ["patient_id"], unique=False)
    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("indication", sa.String(), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("statement", sa.String(), nullable=False),
        sa.Column("explained_by", sa.Integer(), nullable=False),
        sa.Column("signed_at", _AT, nullable=False),
        sa.Column("withdrawn_at", _AT, nullable=True),
        sa.Column("withdrawn_by", sa.Integer(), nullable=True),
        sa.Column("withdrawn_reason", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"]),
        sa.ForeignKeyConstraint(["explained_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["withdrawn_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_course_id"), ["course_id"], unique=False)
    op.create_table(
        "course_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("from_session", sa.Integer(), nullable=False),
        sa.Column("schedule", sa.String(), nullable=False),
        sa.Column("formula_version_id", sa.Integer(), nullable=False),
        sa.Column("zones", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["formula_version_id"], ["formula_version.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("course_id", "version"),
    )
    op.create_table(
        "course_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("booked_for", _AT, nullable=True),
        sa.Column("booked_by", sa.Integer(), nullable=True),
        sa.Column("early_reason", sa.String(), nullable=False),
        sa.Column("early_signed_by", sa.Integer(), nullable=True),
        sa.Column("held_at", _AT, nullable=True),
        sa.Column("course_version_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["booked_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"]),
        sa.ForeignKeyConstraint(["course_version_id"], ["course_version.id"]),
        sa.ForeignKeyConstraint(["early_signed_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("course_id", "number"),
    )
    with op.batch_alter_table("course_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_course_session_booked_for"), ["booked_for"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_course_session_course_id"), ["course_id"], unique=False
        )
    op.create_table(
        "injection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_session_id", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(), nullable=False),
        sa.Column("volume_ul", sa.BigInteger(), nullable=False),
        sa.Column("technique", sa.String(), nullable=False),
        sa.Column("depth", sa.String(), nullable=False),
        sa.Column("needle", sa.String(), nullable=False),
        sa.Column("injected_by", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("recorded_at", _AT, nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["course_session_id"], ["course_session.id"]),
        sa.ForeignKeyConstraint(["injected_by"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("injection", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_injection_course_session_id"), ["course_session_id"], unique=False
        )
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("course_session_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_batch_course_session_id"), ["course_session_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_batch_course_session_id_course_session",
            "course_session",
            ["course_session_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.drop_constraint("fk_batch_course_session_id_course_session", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_batch_course_session_id"))
        batch_op.drop_column("course_session_id")
    with op.batch_alter_table("injection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_injection_course_session_id"))
    op.drop_table("injection")
    with op.batch_alter_table("course_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_session_course_id"))
        batch_op.drop_index(batch_op.f("ix_course_session_booked_for"))
    op.drop_table("course_session")
    op.drop_table("course_version")
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_course_id"))
    op.drop_table("consent")
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_patient_id"))
    op.drop_table("course")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_column("active")
