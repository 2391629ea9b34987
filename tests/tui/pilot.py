"""Helpers shared by the Pilot tests: wait for workers rather than sleep."""

from __future__ import annotations

import contextlib
import html
import re

from textual.app import App
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerState

_UNFINISHED = (WorkerState.PENDING, WorkerState.RUNNING)


async def settle(pilot: Pilot, rounds: int = 50) -> None:
    """Let pending messages start their workers, the workers finish, and their messages land.

    Done when two rounds in a row find no worker unfinished: a click or a keystroke may start
    its worker only once its own message has been handled. An exclusive worker superseded by a
    newer one ends cancelled; that is how the screens are meant to work, so it is waited past.
    """
    quiet = 0
    for _ in range(rounds):
        await pilot.pause()
        busy = [worker for worker in pilot.app.workers if worker.state in _UNFINISHED]
        if not busy:
            quiet += 1
            if quiet == 2:
                return
            continue
        quiet = 0
        for worker in busy:
            if worker.state is WorkerState.RUNNING:
                with contextlib.suppress(WorkerCancelled):
                    await worker.wait()


def screen_text(app: App[object]) -> str:
    """What the terminal shows, line by line, as plain text (read from Textual's own SVG)."""
    lines: dict[float, list[str]] = {}
    for y, text in re.findall(
        r'<text [^>]*y="([0-9.]+)"[^>]*>(.*?)</text>', app.export_screenshot()
    ):
        lines.setdefault(float(y), []).append(html.unescape(text).replace("\xa0", " "))
    return "\n".join("".join(parts) for _, parts in sorted(lines.items()))


class Toasts:
    """What the app said in its toasts, in order: a `run_test(message_hook=...)` that keeps each
    `Notify` message as the app receives it (Textual's own list of them is private)."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def __call__(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.said.append(message.notification.message)
