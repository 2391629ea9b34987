"""What the reports are called and the rules of writing them out, without pandas: the command
line reads these to parse its arguments, and imports the reports themselves (pandas, half a
second) only when it makes one."""

from __future__ import annotations

from pathlib import Path

from mesomix.errors import Refused
from mesomix.services.errors import ServiceError

REPORTS = (
    "stock",
    "stock-products",
    "expiring",
    "usage",
    "waste",
    "mixtures",
    "makers",
    "recall",
    "forecast",
    "reactions",
    "vigilance",
)
FORMATS = ("table", "csv", "xlsx")


class UnknownColumns(Refused, ValueError):
    """--columns named a column the report does not have; the message lists those it has."""


class ExportExists(ServiceError):
    """The file an export names is there already: kept as it is, until the person says to
    replace it (the command line's --replace, a second Export on the screen)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} already exists: nothing was written, the file is as it was")
        self.path = path


def refuse_existing(path: Path | None, replace: bool) -> None:
    """Refuse a file that is already there unless told to replace it."""
    if path is not None and not replace and file_there(path):
        raise ExportExists(path)


def file_there(path: Path) -> bool:
    """Something other than a folder is at `path`: a folder, or one that cannot be looked into,
    is left to the write to refuse in its own words."""
    try:
        return path.exists() and not path.is_dir()
    except OSError:
        return False
