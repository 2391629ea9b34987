"""Keys reach the application one after another, each where the keys before it left the cursor.

Why this is needed: Textual hands a key to the focused widget's own message queue, and an Input
inserts a printable character there, at once. Every other key — Backspace, Delete, the arrows,
Home, End, Enter, Tab, Ctrl+O — is a *binding*, and a binding runs only once the key has bubbled
up the widget tree, one message queue per ancestor, to the App, which then acts on whatever has
the focus *by then*. And a change of focus (`Widget.focus`) is itself a message sent to the App,
queued behind the keys already there. So in a burst (a fast typist, a paste, a barcode scanner,
a password manager) a character typed after a Backspace is inserted before the Backspace deletes,
and the keys after an Enter or a Tab go to the field that had the focus before it: '150 mg'
after eight Backspaces came out as '0 mg' or '1150', a password typed after the user name and
Enter landed in the name field, in clear. The busier the screen (Compose re-checks the mixture
on every keystroke), the longer the bubbling, and the more keys overtake each other.

The gate: a printable character for a focused text field goes straight to it (the field's queue
keeps the order of what it inserts). Any other key is handled in turn, and the keys after it wait
until its effects have run — every message queue empty, no callback pending, the App out of its
handlers — so they go where it put the focus, the screen it opened. A screen may say it is not
taking keys (`takes_keys` False) while it works on what was submitted (signing in, dispensing):
keys typed meanwhile wait, and are dropped if that screen is no longer the one shown when it is
done (a password typed ahead is never carried over into the next screen's fields).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import events
from textual.screen import Screen
from textual.widgets import Input

if TYPE_CHECKING:
    from textual.app import App

QUIET_ROUNDS = 3  # turns of the event loop with nothing queued anywhere: the effects have run
PASSING = frozenset({"ctrl+q"})  # quitting never waits for a busy screen

Typed = events.Key | events.Paste


def takes_keys(screen: Screen[object]) -> bool:
    """Whether a screen takes keys now; a screen busy with what was submitted says no."""
    return bool(getattr(screen, "takes_keys", True))


@dataclass
class Waiting:
    event: Typed
    held_for: Screen[object] | None  # typed while this screen was busy: only for it


class KeyGate:
    """The order keys are handled in: see the module's docstring. One per App."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.received = 0  # keys received so far: a result may move the focus only if none came
        self.handling = 0  # the App is inside a handler (an awaited action may still be running)
        self._waiting: deque[Waiting] = deque()
        self._released: deque[Typed] = deque()  # posted to the App again, in turn
        self._closed = False  # a key is in flight: the next ones wait for its effects
        self._feeder: asyncio.Task[None] | None = None

    def admit(self, event: Typed) -> bool:
        """Whether the App handles this key now; if not, the gate keeps it and posts it again
        when its turn comes (or drops it, see Waiting.held_for)."""
        if self._released and event is self._released[0]:
            self._released.popleft()
            return True
        self.received += 1
        screen = self.app.screen
        busy = not takes_keys(screen) and not self._passes(event)
        if self._waiting or self._released or self._closed or busy:
            self._waiting.append(Waiting(event, screen if busy else None))
            self._feed()
            return False
        if not self._in_place(event):
            self._closed = True
            self._feed()
        return True

    def _passes(self, event: Typed) -> bool:
        return isinstance(event, events.Key) and event.key in PASSING

    def _in_place(self, event: Typed) -> bool:
        """A character (or a paste) for the focused text field: it goes to the field's own queue,
        which keeps the order, and can move neither the focus nor the screen."""
        if not isinstance(self.app.focused, Input):
            return False
        return isinstance(event, events.Paste) or event.is_printable

    def _feed(self) -> None:
        if self._feeder is None or self._feeder.done():
            self._feeder = asyncio.create_task(self._release())

    async def _release(self) -> None:
        """Let the waiting keys through in order, each once the one before has done its work."""
        while await self._settled():
            self._closed = False
            while self._waiting and not self._closed:
                first = self._waiting[0]
                screen = self.app.screen
                if not self._may_go(first, screen):
                    break  # the screen became busy: wait again
                self._waiting.popleft()
                if first.held_for is not None and first.held_for is not screen:
                    continue  # typed while a screen was busy, and that screen is gone: dropped
                if not self._in_place(first.event):
                    self._closed = True
                self._released.append(first.event)
                self.app.post_message(first.event)
            if not self._waiting and not self._closed:
                return

    def _may_go(self, first: Waiting, screen: Screen[object]) -> bool:
        """Whether the first key waiting can be let through, or dropped, now. Keys that wait
        for a busy screen are from then on only for it."""
        if takes_keys(screen) or self._passes(first.event):
            return True
        for waiting in self._waiting:
            waiting.held_for = waiting.held_for or screen
        return first.held_for is not screen

    async def _settled(self) -> bool:
        """Until every effect of the keys let through has run and the first key waiting may
        go; False once the app has stopped."""
        quiet = 0
        turns = 0
        while quiet < QUIET_ROUNDS:
            if not self.app.is_running:
                return False
            turns += 1
            # A few turns of the loop; a screen that stays busy (a worker) is polled gently.
            await asyncio.sleep(0 if turns < 50 else 0.005)
            ready = not self._waiting or self._may_go(self._waiting[0], self.app.screen)
            quiet = quiet + 1 if ready and self._quiet() else 0
        return True

    def _quiet(self) -> bool:
        """Nothing left to run: no message queued anywhere, no callback pending, the App out
        of its handlers. (Textual's own attributes: the burst test holds them to it.)"""
        app = self.app
        if self.handling or self._released or not _idle(app):
            return False
        for node in list(app._registry):
            if not _idle(node):
                return False
            if isinstance(node, Screen) and node._callbacks:
                return False
        return True


def _idle(node: object) -> bool:
    if getattr(node, "_closed", False):
        return True
    return not (
        node.message_queue_size  # type: ignore[attr-defined]
        or node._pending_message is not None  # type: ignore[attr-defined]
        or node._next_callbacks  # type: ignore[attr-defined]
    )
