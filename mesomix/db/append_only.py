"""The tables that are append-only by trigger (the audit trail and the ledger), and whether their
triggers are still there and still refuse.

The migrations that made them (0003 for `audit`, 0008 for `movement`) write their own DDL, as
migrations must; this module knows the same triggers by name, so `mesomix check` can report one
that is gone or disabled (a sign that someone changed rows with the guard down), the demo's
`--replace` can lift the ledger's guard for its one audited wipe, and a migration that rebuilds a
table by copying it on SQLite cannot lose them unnoticed (db/migrate.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

APPEND_ONLY = ("audit", "movement")
REFUSALS = {"audit": "audit rows are append-only", "movement": "movements are append-only"}
_FUNCTIONS = {"audit": "audit_append_only", "movement": "movement_append_only"}


def sqlite_trigger_sql(table: str, event: str) -> str:
    """The SQLite trigger refusing `event` (UPDATE or DELETE) on `table`."""
    return (
        f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSALS[table]}'); END"
    )


def postgresql_statements(table: str) -> list[str]:
    """The PostgreSQL function and triggers refusing UPDATE, DELETE and TRUNCATE on `table`."""
    function = _FUNCTIONS[table]
    return [
        f"CREATE FUNCTION {function}() RETURNS trigger AS $$ "
        f"BEGIN RAISE EXCEPTION '{REFUSALS[table]}'; END; $$ LANGUAGE plpgsql",
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


def _expected(dialect: str, table: str) -> dict[str, str]:
    """Trigger name → what it must refuse, on this dialect."""
    if dialect == "postgresql":
        return {f"{table}_no_change": "UPDATE OR DELETE", f"{table}_no_truncate": "TRUNCATE"}
    return {f"{table}_no_{event.lower()}": event for event in ("UPDATE", "DELETE")}


def _normal(sql: str) -> str:
    return " ".join(sql.split()).rstrip(";").lower()


def trigger_problems(connection: sa.Connection) -> list[str]:
    """Each append-only trigger that is missing, disabled or no longer refuses (empty: all hold)."""
    dialect = connection.dialect.name
    problems = []
    for table in APPEND_ONLY:
        if dialect == "postgresql":
            found = {
                name: (enabled, source)
                for name, enabled, source in connection.execute(
                    sa.text(
                        "SELECT t.tgname, t.tgenabled, p.prosrc FROM pg_trigger t "
                        "JOIN pg_proc p ON p.oid = t.tgfoid "
                        "WHERE t.tgrelid = to_regclass(:table) AND NOT t.tgisinternal"
                    ),
                    {"table": table},
                )
            }
        else:
            found = {
                name: ("O", sql)
                for name, sql in connection.execute(
                    sa.text(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                        "AND tbl_name = :table"
                    ),
                    {"table": table},
                )
            }
        for name, event in _expected(dialect, table).items():
            what = f"{table}: the trigger {name} refusing {event}"
            if name not in found:
                problems.append(
                    f"{what} is missing: rows of {table} may have been changed with it dropped"
                )
                continue
            enabled, source = found[name]
            if dialect == "postgresql":
                if enabled == "D":
                    problems.append(f"{what} is disabled")
                elif f"raise exception '{REFUSALS[table]}'" not in _normal(source or ""):
                    problems.append(f"{what} no longer refuses: its function was replaced")
            elif _normal(source or "") != _normal(sqlite_trigger_sql(table, event)):
                problems.append(f"{what} was replaced by another: {' '.join(source.split())}")
    return problems


@contextmanager
def ledger_guard_lifted(connection: sa.Connection) -> Iterator[None]:
    """The ledger's triggers dropped for the block and made again before it ends, inside the
    caller's transaction: only for the demo's wipe, which the caller records in the trail."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        for name in _expected(dialect, "movement"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON movement")
        connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {_FUNCTIONS['movement']}()")
    else:
        for name in _expected(dialect, "movement"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    yield
    if dialect == "postgresql":
        for statement in postgresql_statements("movement"):
            connection.exec_driver_sql(statement)
    else:
        for event in ("UPDATE", "DELETE"):
            connection.exec_driver_sql(sqlite_trigger_sql("movement", event))


def sqlite_triggers(connection: sa.Connection) -> dict[str, str]:
    """Every trigger of an SQLite database, name → its CREATE statement."""
    query = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
    return {name: sql for name, sql in connection.exec_driver_sql(query)}
