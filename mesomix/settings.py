"""What the program is started with: the database to open and how the application behaves.

Light on purpose (no SQLAlchemy, no pint, no pandas): the application reads these before its
first frame, and builds everything heavy behind the sign-in screen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from mesomix.clock import Clock, SystemClock

BUSY_TIMEOUT_MS = 10_000
ENV_URL = "MESOMIX_DATABASE_URL"


@dataclass(frozen=True)
class Settings:
    database_url: str
    clock: Clock = field(default_factory=SystemClock)
    busy_timeout_ms: int = BUSY_TIMEOUT_MS
    user: str | None = None  # the name the sign-in screen starts with
    idle_minutes: int = 5  # a signed-in session locks after this long without a key or a click
    read_only: bool = False  # nothing can be written; stock and reports can still be seen
    labels_folder: Path | None = None  # where labels are saved; None: the user's data folder
    printer: str = ""  # the printer labels go to; "": the terminal's default printer
    # Dose limits per session count the batches of this many hours back; None: the clinic's
    # calendar day (MESOMIX_SESSION_HOURS).
    session_hours: int | None = None
    site: str = "main"  # the site this terminal works at (--site, MESOMIX_SITE)


def default_labels_folder() -> Path:
    return Path(platformdirs.user_data_dir("mesomix", appauthor=False)) / "labels"


def default_database_path() -> Path:
    """The clinic's own database, in the user's data directory."""
    return Path(platformdirs.user_data_dir("mesomix", appauthor=False)) / "mesomix.sqlite"


def demo_database_path() -> Path:
    return Path(platformdirs.user_data_dir("mesomix", appauthor=False)) / "demo.sqlite"


def database_url(db_path: str | Path | None = None) -> str:
    """`--db PATH` wins, then MESOMIX_DATABASE_URL, then the default file."""
    if db_path is not None:
        return f"sqlite:///{Path(db_path).expanduser().resolve()}"
    env = os.environ.get(ENV_URL, "").strip()
    if env:
        return env
    return f"sqlite:///{default_database_path()}"
