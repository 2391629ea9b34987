"""What a service says when it will not do something: always a message for a person."""

from __future__ import annotations

from collections.abc import Sequence

from mesomix.domain.text import readable
from mesomix.errors import Refused


class ServiceError(Refused):
    """Refused: nothing was written; `str()` is the message to show, safe on a terminal however
    hostile the text it quotes (see domain/text.py)."""

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(readable(str(message)), *args)


class Refusals(ServiceError):
    """Refused for several reasons, one a line (a form shows each on its own line): every line
    made safe on its own, so the line breaks between them are kept and nothing inside forges one."""

    def __init__(self, lines: Sequence[object]) -> None:
        Exception.__init__(self, "\n".join(readable(str(line)) for line in lines))


class NotFound(ServiceError):
    pass


class PermissionDenied(ServiceError):
    pass


class StockError(ServiceError):
    """Not enough usable stock, or stock changed under us: nothing was taken."""


class DatabaseFault(ServiceError):
    """The database itself could not do it (see db/faults.py): nothing was written.

    Its message names the file or the server, and a path is the point of it: kept whole, however
    long, with only what a terminal would act on (controls, bidi overrides) written as escapes."""

    def __init__(self, message: str) -> None:
        Exception.__init__(self, "".join(c if c.isprintable() else ascii(c)[1:-1] for c in message))


class DatabaseBusy(DatabaseFault):
    """Another terminal held the lock longer than the busy timeout; the same call may be retried."""


class DiskFull(DatabaseFault):
    pass


class DiskError(DatabaseFault):
    """The disk failed while reading or writing (SQLite's disk I/O error)."""


class DatabaseReadOnly(DatabaseFault):
    """The database was opened read-only (asked for, or its file cannot be written)."""


class DatabaseDamaged(DatabaseFault):
    pass


class DatabaseUnusable(DatabaseFault):
    """Refused at start: the database cannot be opened, reached, or used where it is."""


class ClockBehind(DatabaseFault):
    """The clock reads earlier than the newest audit row: writes wait until it is put right."""
