"""Writers to one SQLite file take turns through a lock the kernel wakes them from.

SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps 1, 2, 5,
10 … up to 100 ms between tries. Under load that is unfair and slow: a writer that has just
gone to sleep for 100 ms loses to every newcomer, and eight terminals dispensing at once saw a
p50 of 2 ms but a p99 over a second. So before `BEGIN IMMEDIATE` a mesomix writer takes an
exclusive `flock` on a file beside the database (`<database>-writers`): a waiter sleeps in the
kernel and is woken the moment the writer before it lets go, in the order they came, and by
the time it begins, SQLite's own write lock is free. The lock is let go when the connection goes
back to the pool, after its COMMIT or ROLLBACK.

- The busy timeout still holds: a writer waits for the lock at most that long (in a helper
  thread, since `flock` cannot time out), then is refused as SQLite would refuse it: a busy
  fault, which the units of work word for a person as they word SQLite's own.
- A writer that dies lets go of the lock with its last file descriptor (the kernel's doing), so
  a crash never leaves the queue shut. Each write opens the file afresh: one descriptor per
  waiting write, closed when it ends, so an abandoned wait cannot release another's lock.
- Writers that do not take the queue (the sqlite3 shell, another program) are still kept out by
  SQLite's own lock, and waited for through its busy handler, as before.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from mesomix.db.faults import DatabaseRefused, Fault


class WriteQueue:
    """The turn-taking of one database file's writers."""

    def __init__(self, database: Path, timeout_s: float) -> None:
        self.path = Path(f"{database}-writers")
        self.timeout_s = timeout_s

    def enter(self) -> int:
        """Wait for this writer's turn; the descriptor that holds it (give it to `leave`)."""
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return self._wait(descriptor)
        except BaseException:
            os.close(descriptor)
            raise
        return descriptor

    def _wait(self, descriptor: int) -> int:
        """Block in a helper thread until the lock is ours or the timeout passes; a wait given
        up closes its own descriptor once the lock comes, which lets it go at once."""
        turn = threading.Event()
        guard = threading.Lock()
        given_up = False
        failed: list[OSError] = []

        def wait() -> None:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            except OSError as error:
                failed.append(error)
            with guard:
                if given_up or failed:
                    os.close(descriptor)
                turn.set()

        threading.Thread(target=wait, name="mesomix-write-queue", daemon=True).start()
        turn.wait(self.timeout_s)
        with guard:
            if failed:
                raise failed[0]  # an OSError: db/faults.py words it by its errno
            if turn.is_set():  # (perhaps as the time ran out)
                return descriptor
            given_up = True
        raise DatabaseRefused(f"{self.path}: database is locked", Fault.BUSY, "database is locked")

    @staticmethod
    def leave(descriptor: int) -> None:
        """This writer is done: the next one's turn."""
        os.close(descriptor)
