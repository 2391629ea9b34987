"""The writers' queue of a SQLite file (db/write_queue.py): writers that wait are woken in turn;
one held past the busy timeout is refused as SQLite would refuse it; a writer killed while it
holds its turn frees it; readers never wait for it. Real processes, real files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mesomix.bootstrap import Settings, build
from mesomix.db.faults import DatabaseRefused
from mesomix.db.write_queue import WriteQueue
from mesomix.services.errors import DatabaseBusy
from tests.factories import counts, mixture, receive, seed_people, snapshot

B12 = "cyanocobalamin_1000mcg_1ml_vial"
ONE_AMPOULE = mixture(("cyanocobalamin", "1000 mcg"))
HOLD_A_TURN = """
import sys
from mesomix.bootstrap import Settings, build
from mesomix.services.uow import transaction
services = build(Settings(database_url="sqlite:///" + sys.argv[1]))
with transaction(services.engine, write=True):
    print("holding", flush=True)
    sys.stdin.readline()
"""


@contextmanager
def a_terminal_writing(path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another mesomix process in the middle of a write transaction, until told to finish."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_TURN, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        yield holder
    finally:
        if holder.poll() is None:
            holder.communicate("\n", timeout=30)


@pytest.fixture
def clinic(tmp_path, clock):
    path = tmp_path / "queue.sqlite"
    services = build(Settings(database_url=f"sqlite:///{path}", clock=clock, busy_timeout_ms=400))
    seed_people(services)
    receive(services, B12, "QUEUE1", 5)
    yield path, services
    services.close()


def test_a_writer_that_holds_its_turn_too_long_is_a_busy_message_and_nothing_written(clinic):
    path, services = clinic
    before = snapshot(services)
    with a_terminal_writing(path):
        started = time.monotonic()
        with pytest.raises(DatabaseBusy, match=r"longer than 0\.4 s; nothing was written"):
            services.mixtures.dispense(ONE_AMPOULE, "sam")
        assert 0.35 < time.monotonic() - started < 5
        assert len(services.stock.lots("nadia")) == 1  # a reader does not queue
        assert snapshot(services) == before
    assert services.mixtures.dispense(ONE_AMPOULE, "sam").batch_id == 1  # its turn, at once


def test_a_writer_killed_while_it_holds_its_turn_frees_it(clinic):
    path, services = clinic
    with a_terminal_writing(path) as holder:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
        # with a busy timeout of 0.4 s, a lock that lingered would refuse this as busy
        assert services.mixtures.dispense(ONE_AMPOULE, "sam").batch_id == 1
    assert counts(services)["batches"] == 1


def test_a_waiting_writer_is_woken_as_soon_as_the_turn_is_free(clinic):
    path, services = clinic
    with a_terminal_writing(path) as holder:
        done: list[float] = []

        def dispense() -> None:
            services.mixtures.dispense(ONE_AMPOULE, "sam")
            done.append(time.monotonic())

        waiting = threading.Thread(target=dispense)
        waiting.start()
        time.sleep(0.2)  # it waits in the queue (the busy timeout is 0.4 s)
        assert not done
        released = time.monotonic()
        holder.communicate("\n", timeout=30)
        waiting.join(timeout=30)
    # it waited 0.2 s of its 0.4 s: had it not been woken when the turn came free, it would
    # have been refused as busy instead of dispensing
    assert len(done) == 1 and done[0] >= released


def test_a_wait_given_up_lets_the_turn_go_when_it_comes(tmp_path):
    """A writer that stopped waiting must not hold the turn once it comes: the next one gets it."""
    queue = WriteQueue(tmp_path / "x.sqlite", timeout_s=0.1)
    held = queue.enter()
    with pytest.raises(DatabaseRefused, match="database is locked"):
        queue.enter()
    queue.leave(held)
    time.sleep(0.05)  # the given-up wait takes the turn, and lets it go at once
    again = WriteQueue(tmp_path / "x.sqlite", timeout_s=1).enter()
    WriteQueue.leave(again)
