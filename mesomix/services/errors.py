"""What a service says when it will not do something: always a message for a person."""

from __future__ import annotations


class ServiceError(Exception):
    """Refused: nothing was written; `str()` is the message to show."""


class NotFound(ServiceError):
    pass


class PermissionDenied(ServiceError):
    pass


class StockError(ServiceError):
    """Not enough usable stock, or stock changed under us: nothing was taken."""


class DatabaseBusy(ServiceError):
    pass
