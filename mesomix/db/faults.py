"""What can go wrong with the database itself, sorted into the few kinds a person can act on.

The drivers say it in their own codes (SQLite's result codes, PostgreSQL's SQLSTATE, the
operating system's errno); `classify` reads those codes, never the wording, so a translated or
reworded driver message is still understood. The services turn each kind into a sentence
(services/uow.py); this module only names it.
"""

from __future__ import annotations

import errno
from enum import StrEnum

from mesomix.errors import Refused


class Fault(StrEnum):
    BUSY = "busy"  # another connection holds the lock past the busy timeout
    FULL = "full"  # no space left (or a file-size limit reached)
    IO = "io"  # the disk failed while reading or writing
    READ_ONLY = "read_only"  # the file, its folder or the server refuses writes
    DAMAGED = "damaged"  # not a database, or a malformed page
    CANNOT_OPEN = "cannot_open"  # the file or its folder cannot be opened
    UNREACHABLE = "unreachable"  # the server cannot be reached


class DatabaseRefused(Refused):
    """The database cannot be used as it is; `str()` says why and names it, `detail` is what
    was found, in a few words."""

    def __init__(self, message: str, fault: Fault = Fault.CANNOT_OPEN, detail: str = "") -> None:
        super().__init__(message)
        self.fault = fault
        self.detail = detail or message


# SQLite primary result codes (https://sqlite.org/rescode.html)
_SQLITE = {
    5: Fault.BUSY,  # SQLITE_BUSY
    6: Fault.BUSY,  # SQLITE_LOCKED
    8: Fault.READ_ONLY,  # SQLITE_READONLY
    10: Fault.IO,  # SQLITE_IOERR
    11: Fault.DAMAGED,  # SQLITE_CORRUPT
    13: Fault.FULL,  # SQLITE_FULL
    14: Fault.CANNOT_OPEN,  # SQLITE_CANTOPEN
    26: Fault.DAMAGED,  # SQLITE_NOTADB
}
# PostgreSQL SQLSTATE codes (https://www.postgresql.org/docs/current/errcodes-appendix.html)
_SQLSTATE = {
    "53100": Fault.FULL,  # disk_full
    "53200": Fault.FULL,  # out_of_memory
    "25006": Fault.READ_ONLY,  # read_only_sql_transaction
    "55P03": Fault.BUSY,  # lock_not_available
    "57014": Fault.BUSY,  # query_canceled (lock_timeout, statement_timeout)
    "XX001": Fault.DAMAGED,  # data_corrupted
    "XX002": Fault.DAMAGED,  # index_corrupted
    "57P01": Fault.UNREACHABLE,  # admin_shutdown
    "57P02": Fault.UNREACHABLE,  # crash_shutdown
    "57P03": Fault.UNREACHABLE,  # cannot_connect_now
}
_ERRNO = {
    errno.ENOSPC: Fault.FULL,
    errno.EDQUOT: Fault.FULL,
    errno.EFBIG: Fault.FULL,
    errno.EROFS: Fault.READ_ONLY,
    errno.EACCES: Fault.CANNOT_OPEN,
    errno.EPERM: Fault.CANNOT_OPEN,
    errno.EIO: Fault.IO,
}


def classify(error: BaseException) -> Fault | None:
    """The kind of database fault an exception (or the driver error it wraps) reports; None
    for anything else — a bug, or a constraint the code should have checked first."""
    if isinstance(error, DatabaseRefused):
        return error.fault
    original = getattr(error, "orig", None) or error
    code = getattr(original, "sqlite_errorcode", None)
    if isinstance(code, int):
        return _SQLITE.get(code & 0xFF)
    state = getattr(original, "sqlstate", None)
    if isinstance(state, str):
        return Fault.UNREACHABLE if state.startswith("08") else _SQLSTATE.get(state)
    if isinstance(original, OSError):
        return _ERRNO.get(original.errno or 0)
    if type(original).__module__.startswith("psycopg") and type(original).__name__ in (
        "OperationalError",
        "InterfaceError",
    ):
        return Fault.UNREACHABLE  # no SQLSTATE: the connection itself failed
    return None
