"""the catalogue's version, raised by trigger, and the search index kept for it

Every insert, update or delete of a product or a substance raises `catalogue_version.serial`,
whoever makes it (a service, an import, SQL typed by hand). A terminal keeps the search index it
built in `search_snapshot` with the serial it was built from; the next terminal to start loads it
while the serial still matches, instead of building the index again.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = ("product", "substance")
EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    version = op.create_table(
        "catalogue_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(version, [{"id": 1, "serial": 0}])
    op.create_table(
        "search_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.String(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION catalogue_changed() RETURNS trigger AS $$ BEGIN "
            "UPDATE catalogue_version SET serial = serial + 1 WHERE id = 1; RETURN NULL; "
            "END; $$ LANGUAGE plpgsql"
        )
        for table in WATCHED:
            op.execute(
                f"CREATE TRIGGER {table}_catalogue_changed AFTER INSERT OR UPDATE OR DELETE "
                f"OR TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION catalogue_changed()"
            )
    else:
        for table in WATCHED:
            for event in EVENTS:
                op.execute(
                    f"CREATE TRIGGER {table}_{event.lower()}_catalogue_changed AFTER {event} "
                    f"ON {table} BEGIN "
                    "UPDATE catalogue_version SET serial = serial + 1 WHERE id = 1; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_catalogue_changed ON {table}")
        op.execute("DROP FUNCTION IF EXISTS catalogue_changed()")
    else:
        for table in WATCHED:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{event.lower()}_catalogue_changed")
    op.drop_table("search_snapshot")
    op.drop_table("catalogue_version")
