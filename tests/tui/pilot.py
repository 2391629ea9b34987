"""Helpers shared by the Pilot tests: wait for workers rather than sleep."""

from __future__ import annotations

import contextlib

from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerState

_UNFINISHED = (WorkerState.PENDING, WorkerState.RUNNING)


async def settle(pilot: Pilot, rounds: int = 20) -> None:
    """Let workers finish and their messages land.

    An exclusive worker superseded by a newer one ends cancelled; that is how the screen is
    meant to work, so it is waited past rather than raised.
    """
    for _ in range(rounds):
        for worker in list(pilot.app.workers):
            if worker.state is WorkerState.PENDING:
                continue
            with contextlib.suppress(WorkerCancelled):
                await worker.wait()
        await pilot.pause()
        if not any(worker.state in _UNFINISHED for worker in pilot.app.workers):
            return
