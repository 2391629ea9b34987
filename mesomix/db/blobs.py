"""A large value read whole with as few copies as the driver allows.

The search index kept for a catalogue of 100 000 products is some 35 MB. Selected as a column on
SQLite, it is copied twice (assembled from the file's pages, then into Python's bytes); read
through SQLite's incremental blob I/O, once. Every megabyte given to a process is the kernel's
work to fault in, and a terminal's start waits for it.
"""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa


def read_blob(connection: sa.Connection, table: sa.Table, column: str, row_id: int) -> bytes:
    """The value of `column` in the row of `table` whose (integer) primary key is `row_id`, read
    inside the connection's transaction; the row must exist."""
    raw = connection.connection.driver_connection
    if isinstance(raw, sqlite3.Connection):
        with raw.blobopen(table.name, column, row_id, readonly=True) as blob:
            return blob.read()
    (key,) = table.primary_key.columns
    value = connection.execute(sa.select(table.c[column]).where(key == row_id)).scalar_one()
    return bytes(value)
