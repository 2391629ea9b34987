"""The one way a worker's failure reaches a person: a worker that raised would take the app down,
so its job runs inside `reported`, which says what went wrong instead.

A refusal (errors.Refused) is said in its own words; anything else is a bug, said as what was
being done and the error, its traceback kept in the log (bugs.py) once, however often the same
bug recurs — a check run at every keystroke does not fill the log folder.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mesomix.bugs import keep_details
from mesomix.errors import Refused

_kept: set[tuple[str, str, int | None]] = set()  # the bugs whose traceback is in the log
_keeping = threading.Lock()  # workers fail in threads of their own


@contextmanager
def reported(say: Callable[[str], object], doing: str = "", *, bug: str = "") -> Iterator[None]:
    """Run a worker's job; when it fails, `say` the words: a refusal's own, after `doing` when
    given ("could not load the patients: the database is busy…"); a bug's after `bug` (or
    `doing`). Nothing is said when the job succeeds."""
    try:
        yield
    except Refused as refused:
        say(f"{doing}: {refused}" if doing else str(refused))
    except Exception as error:  # a bug: one line for the person, the traceback for a developer
        _keep_once(error)
        before = bug or doing
        say(f"{before}: {error}" if before else str(error))


def _keep_once(error: Exception) -> None:
    where = traceback.extract_tb(error.__traceback__)[-1:]
    key = (
        type(error).__qualname__,
        *((where[0].filename, where[0].lineno) if where else ("", None)),
    )
    with _keeping:
        if key in _kept:
            return
        _kept.add(key)
    keep_details(error)
