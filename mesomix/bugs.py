"""A bug: a failure no refusal foresaw (errors.py). A person reads it in one line; its traceback
is kept in the user's log folder for whoever fixes it — by the command line and the application
alike, once for each bug."""

from __future__ import annotations

import traceback
from pathlib import Path

import platformdirs

from mesomix.clock import SystemClock


def keep_details(error: BaseException) -> str:
    """The traceback in the user's log folder; where it went, or why it could not be kept."""
    try:
        folder = Path(platformdirs.user_log_dir("mesomix", appauthor=False))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"error-{SystemClock().now():%Y%m%d-%H%M%S}.txt"
        path.write_text("".join(traceback.format_exception(error)), encoding="utf-8")
        return f"details in {path}"
    except OSError as exc:
        return f"the details could not be kept ({exc.strerror})"
