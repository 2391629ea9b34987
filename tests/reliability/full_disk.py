"""A process on a "full disk": no file it writes may grow past LIMIT bytes (RLIMIT_FSIZE), and
SIGXFSZ is ignored, so a write past the limit fails with EFBIG (or is cut short) exactly as one
fails with ENOSPC on a full disk. Needs no root and no tmpfs.

- `python -m tests.reliability.full_disk LIMIT dispense URL`: dispenses one mixture in a loop,
  printing "done BATCH" after each commit, until refused; prints "refused MESSAGE", exits 0.
- `python -m tests.reliability.full_disk LIMIT run CMD ARGS...`: runs a command under the limit
  (the limit and the ignored signal survive exec), e.g. `python -m mesomix import stock ...`.
"""

from __future__ import annotations

import os
import resource
import signal
import sys


def limit_file_size(limit: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def dispense_until_refused(url: str) -> None:
    from mesomix.bootstrap import Settings, build
    from mesomix.services.errors import ServiceError
    from tests.reliability.crash_worker import MIXTURE

    services = build(Settings(database_url=url))  # reads only: the database is current
    while True:
        try:
            result = services.mixtures.dispense(MIXTURE, "sam")
        except ServiceError as exc:
            print(f"refused {exc}", flush=True)
            return
        print(f"done {result.batch_id}", flush=True)


if __name__ == "__main__":
    limit_file_size(int(sys.argv[1]))
    if sys.argv[2] == "dispense":
        dispense_until_refused(sys.argv[3])
    else:
        os.execvp(sys.argv[3], sys.argv[3:])
