"""the ledger is append-only by trigger, as the audit trail is

`movement` refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL): a mistaken movement is
corrected by a new one (`lot correct`), never edited. `mesomix check` reports the triggers if they
are gone (see mesomix/db/append_only.py, which knows them by the same names).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "movements are append-only"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION movement_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSAL}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER movement_no_change BEFORE UPDATE OR DELETE ON movement "
            "FOR EACH ROW EXECUTE FUNCTION movement_append_only()"
        )
        op.execute(
            "CREATE TRIGGER movement_no_truncate BEFORE TRUNCATE ON movement "
            "FOR EACH STATEMENT EXECUTE FUNCTION movement_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER movement_no_{event.lower()} BEFORE {event} ON movement "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS movement_no_truncate ON movement")
        op.execute("DROP TRIGGER IF EXISTS movement_no_change ON movement")
        op.execute("DROP FUNCTION IF EXISTS movement_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS movement_no_update")
        op.execute("DROP TRIGGER IF EXISTS movement_no_delete")
