"""What every working screen shares: the services, the signed-in person, a status line, and a
table helper. Moving between screens is the App's job (F2–F6 and the command palette)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from mesomix.bootstrap import Services
from mesomix.services.accounts import SignedIn
from mesomix.tui.widgets.form import Form, FormScreen


class WorkScreen(Screen[None]):
    """A screen for one job, for one signed-in person."""

    @dataclass
    class Failed(Message):
        message: str

    def __init__(self, services: Services, user: SignedIn) -> None:
        super().__init__()
        self.services = services
        self.user = user

    def say(self, text: str, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(Text(text))
        status.set_class(error, "error")

    def on_work_screen_failed(self, message: Failed) -> None:
        self.say(message.message, error=True)

    def ask(self, form: Form, then: Callable[[], Any] | None = None) -> None:
        """Open a form; when the service accepted it, say so and refresh."""

        def done(result: str | None) -> None:
            if result is None:
                return
            self.say(result)
            if then is not None:
                then()

        self.app.push_screen(FormScreen(form), done)


def columns(table: DataTable[object], *widths: tuple[str, int]) -> None:
    """Columns of a fixed width: the same picture however fast the rows arrive (a table left
    to size itself does it when the app is next idle)."""
    for label, width in widths:
        table.add_column(label, width=width)


def update_text(widget: Static, content: Text) -> None:
    """New words in place; the screen is laid out again only when their height changes (a
    layout of the whole screen is most of what a keystroke costs)."""
    width, height = widget.content_size
    widget.update(content, layout=False)
    if (
        not width
        or widget.get_content_height(widget.content_size, widget.app.size, width) != height
    ):
        widget.refresh(layout=True)


def short(text: str, width: int) -> str:
    """A long name cut to fit 80 columns; the full name is in the details and the exports."""
    return text if len(text) <= width else text[: width - 1] + "…"
