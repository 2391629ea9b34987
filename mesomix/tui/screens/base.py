"""What every working screen shares: the services, the signed-in person, a status line, and a
table helper. Moving between screens is the App's job (F2–F7, F11, F12, the command palette)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static
from textual.worker import Worker

from mesomix.domain.catalog import fold
from mesomix.domain.permissions import Action, Role, may_do
from mesomix.services.accounts import SignedIn
from mesomix.tui.failures import reported
from mesomix.tui.widgets.form import Form, FormScreen

if TYPE_CHECKING:  # a type hint only: the screens never import the wiring at run time
    from mesomix.bootstrap import Services


class WorkScreen(Screen[None]):
    """A screen for one job, for one signed-in person."""

    @dataclass
    class Failed(Message):
        message: str

    def __init__(self, services: Services, user: SignedIn) -> None:
        super().__init__()
        self.services = services
        self.user = user
        self._away = False  # left for another screen: what it shows may be stale on return
        self.ahead: Message | None = None  # what it shows, read by the App before showing it

    # Actions only some roles may do: not offered to the others (footer, palette), so nobody
    # fills in a form to be told at the end that their role may not.
    NEEDS: ClassVar[dict[str, Action]] = {}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return may_do(Role(self.user.role), self.NEEDS, action)

    # Whether the App reads what the screen shows (`read`) before showing it (`show_read`).
    READS_AHEAD: ClassVar[bool] = False

    def reload(self) -> Worker[None] | None:
        """Read what the screen shows again, in a worker (which a `@work` method returns)."""
        raise NotImplementedError

    def read(self) -> Message:
        """What the screen shows, read from the services (on a worker's thread), as the message
        that shows it: a screen that READS_AHEAD."""
        raise NotImplementedError

    def show_read(self) -> None:
        """Show what the App read ahead of showing the screen, or read it now, in a worker."""
        ahead, self.ahead = self.ahead, None
        if ahead is None:
            self.reload()
        else:
            self.post_message(ahead)

    def on_screen_suspend(self) -> None:
        self._away = not isinstance(self.app.screen, ModalScreen)

    def on_screen_resume(self) -> None:
        """Back from another screen: another screen or terminal may have changed the stock, the
        patients or the formulas shown here, so they are read again. (A dialog refreshes what
        it changed when it closes.)"""
        if self._away:
            self._away = False
            self.show_read()

    def say(self, text: str, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(Text(text))
        status.set_class(error, "error")

    def on_work_screen_failed(self, message: Failed) -> None:
        self.say(message.message, error=True)

    def reporting(self, doing: str = "", *, bug: str = "") -> AbstractContextManager[None]:
        """A worker's job whose failure is said on the status line: a refusal in its own words
        (after `doing`), anything else as a bug (see tui/failures.py)."""
        return reported(lambda words: self.post_message(self.Failed(words)), doing, bug=bug)

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


def update_text(widget: Static, content: RenderableType) -> None:
    """New words in place; the screen is laid out again only when their height changes (a
    layout of the whole screen is most of what a keystroke costs)."""
    width, height = widget.content_size
    widget.update(content, layout=False)
    if (
        not width
        or widget.get_content_height(widget.content_size, widget.app.size, width) != height
    ):
        widget.refresh(layout=True)


def matches(typed: str, *texts: str) -> bool:
    """Whether every word typed in a find field is somewhere in the texts, in any order,
    ignoring case and accents ("amelie" finds Amélie). A strength typed ("2%", "2 %") is that
    strength whole: "lidocaine 2%" finds "Lidocaine HCl 2 % 2 mL ampoule", not the 1% one whose
    "2 mL" holds a 2, nor a 0.2% or 12% one."""
    folded = [_PERCENT.sub(r"\1%", fold(text)) for text in texts]
    words = _PERCENT.sub(r"\1%", fold(typed)).split()
    return all(any(_found(word, text) for text in folded) for word in words)


_PERCENT = re.compile(r"(\d+(?:[.,]\d+)?)\s*%")


def _found(word: str, text: str) -> bool:
    if word.endswith("%") and word[:-1]:
        return re.search(rf"(?<![\d.,]){re.escape(word)}", text) is not None
    return word in text


@contextmanager
def same_row(table: DataTable[object]) -> Iterator[None]:
    """Rows rebuilt under the cursor keep it on the same key: a reload never moves what the
    person had chosen (and the next key acts on it)."""
    key = (
        table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        if table.row_count and table.is_valid_coordinate(table.cursor_coordinate)
        else None
    )
    yield
    if key is not None and key in table.rows:
        table.move_cursor(row=table.get_row_index(key))


def short(text: str, width: int) -> str:
    """A long name cut to fit 80 columns; the full name is in the details and the exports."""
    return text if len(text) <= width else text[: width - 1] + "…"
