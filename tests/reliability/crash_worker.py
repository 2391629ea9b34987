"""Dispensing terminals to be killed with SIGKILL: each one a real process with its own SQLite
connection, forked from this one, which has already imported mesomix and loaded the catalogue
(a fresh interpreter takes about a second to start; a fork, a few milliseconds).

Run as `python -m tests.reliability.crash_worker URL`. Protocol on stdin/stdout, one line each:
- "go": fork a child that dispenses MIXTURE in a loop, writing "start" before each dispense and
  "done BATCH" after its commit (one write(2) per line, so a line is never torn); then "pid N";
  then, once the child is gone (killed by the test), "exit N STATUS". A child that runs out of
  stock writes "empty" and waits.
- "quit": exit.
"""

from __future__ import annotations

import os
import signal
import sys

from mesomix.bootstrap import Settings, build
from mesomix.services.errors import ServiceError
from tests.factories import mixture

VIAL = "thiamine_100mgml_2ml_mdv"  # multi-dose: opened once, then drawn from
B12 = "cyanocobalamin_1000mcg_1ml_vial"  # single-dose: the rest of each ampoule is waste
SALINE = "sodium_chloride_09_10ml_vial"  # the diluent, single-dose
MIXTURE = mixture(
    ("thiamine", "100 mg"), ("cyanocobalamin", "500 mcg"), final="4 mL", diluent=SALINE
)  # no dose limits: one patient receives it any number of times


def stocked_clinic(url: str, mixtures: int) -> None:
    """A closed database (its WAL merged away) with the test people and enough stock for
    `mixtures` dispenses of MIXTURE."""
    from tests.factories import receive, seed_people

    services = build(Settings(database_url=url))
    seed_people(services)
    for product, containers in ((VIAL, mixtures // 2 + 1), (B12, mixtures), (SALINE, mixtures)):
        receive(services, product, f"L{product[:6].upper()}", containers)
    services.close()


def _say(line: str) -> None:
    os.write(sys.stdout.fileno(), f"{line}\n".encode())


def _dispense_forever(services: object) -> None:
    while True:
        _say("start")
        try:
            result = services.mixtures.dispense(MIXTURE, "sam")  # type: ignore[attr-defined]
        except ServiceError as exc:
            _say(f"empty {exc}")
            signal.pause()
            continue
        _say(f"done {result.batch_id}")


def main(url: str) -> None:
    services = build(Settings(database_url=url))
    services.catalog.catalog()  # loaded once, inherited by every child
    services.engine.dispose()  # no connection crosses a fork
    for command in sys.stdin:
        if command.strip() != "go":
            break
        child = os.fork()
        if child == 0:
            try:
                _dispense_forever(services)
            finally:
                os._exit(1)
        _say(f"pid {child}")
        _, status = os.waitpid(child, 0)
        _say(f"exit {child} {status}")


if __name__ == "__main__":
    main(sys.argv[1])
