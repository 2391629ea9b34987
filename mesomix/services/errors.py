"""What a service says when it will not do something: always a message for a person."""

from __future__ import annotations

from mesomix.domain.text import readable


class ServiceError(Exception):
    """Refused: nothing was written; `str()` is the message to show, safe on a terminal however
    hostile the text it quotes (see domain/text.py)."""

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(readable(str(message)), *args)


class NotFound(ServiceError):
    pass


class PermissionDenied(ServiceError):
    pass


class StockError(ServiceError):
    """Not enough usable stock, or stock changed under us: nothing was taken."""


class DatabaseBusy(ServiceError):
    pass
