"""Messages the screens send the app: light, so the app imports them before the program."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class Unfinished(Message):
    """What a screen holds that is not yet dispensed or saved ("" when nothing): signing out or
    quitting asks once more before dropping it."""

    what: str
