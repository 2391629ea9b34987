"""Alembic environment: run on the connection mesomix hands over (see mesomix.db.migrate)."""

from alembic import context
from sqlmodel import SQLModel

import mesomix.db.tables  # noqa: F401  (registers the tables on the metadata)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
