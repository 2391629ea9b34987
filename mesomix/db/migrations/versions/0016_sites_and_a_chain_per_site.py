"""sites, and an audit chain per site

A chain of clinics shares one PostgreSQL database: each clinic is a site. Today's data becomes
the first site's (`main`). Each site's writes are chained in their own audit chain, so writes at
one site no longer wait for the chain's head behind writes at another: `audit.chain` is the site
whose chain a row is in, `audit.seq` its place in that chain (today's rows: chain 1, their id),
and `audit_head` keeps one head per chain (its id is the site's). Row ids stay unique across
chains: on PostgreSQL they come from a sequence, on SQLite (one writer at a time) from the
largest id. See services/audit.py and docs/architecture.md.

The audit rows are append-only by trigger: giving today's rows their place in the chain is the
one update ever made to them, with the guard lifted for it and put back in the same transaction.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "audit rows are append-only"


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    site = op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.bulk_insert(site, [{"id": 1, "code": "main", "name": "Main clinic", "active": True}])
    if postgresql:  # the next site's id after the one written here
        op.execute("SELECT setval(pg_get_serial_sequence('site', 'id'), 1)")
    op.add_column("audit", sa.Column("chain", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("audit", sa.Column("seq", sa.BigInteger(), nullable=False, server_default="0"))
    if postgresql:
        op.execute("ALTER TABLE audit DISABLE TRIGGER audit_no_change")
        op.execute("UPDATE audit SET seq = id")
        op.execute("ALTER TABLE audit ENABLE TRIGGER audit_no_change")
        op.execute("CREATE SEQUENCE audit_id_seq OWNED BY audit.id")
        op.execute(
            "SELECT setval('audit_id_seq', (SELECT coalesce(max(id), 0) + 1 FROM audit), false)"
        )
    else:
        op.execute("DROP TRIGGER audit_no_update")
        op.execute("UPDATE audit SET seq = id")
        op.execute(
            "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
        )
    op.create_index("ix_audit_chain_seq", "audit", ["chain", "seq"], unique=True)


def downgrade() -> None:
    """Back to one chain: refused while another site's chain holds rows (they cannot be woven
    into the first one's without rewriting every hash after them)."""
    bind = op.get_bind()
    others = bind.execute(sa.text("SELECT count(*) FROM audit WHERE chain <> 1")).scalar_one()
    if others:
        raise RuntimeError(
            f"{others} audit rows are in other sites' chains: one chain cannot hold them"
        )
    op.drop_index("ix_audit_chain_seq", table_name="audit")
    if bind.dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS audit_id_seq")
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_column("seq")
        batch_op.drop_column("chain")
    if bind.dialect.name == "sqlite":  # the copy left the guard behind
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER IF NOT EXISTS audit_no_{event.lower()} BEFORE {event} ON audit "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )
    op.execute("DELETE FROM audit_head WHERE id <> 1")
    op.drop_table("site")
