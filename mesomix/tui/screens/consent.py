"""The consent of a course, shown whole to be read with the patient, then signed by the
practitioner with a statement of what happened: what is kept is exactly the text shown here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from mesomix.tui.failures import reported
from mesomix.tui.widgets.field import Field

if TYPE_CHECKING:
    from mesomix.services.courses import CourseService

STATEMENT = "Explained in person; the patient read this text, asked their questions and agreed."


class ConsentScreen(ModalScreen[str | None]):
    """The text in a scroll (arrows, Page Down), the statement, and Sign."""

    CSS_PATH = "../styles/consent.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    @dataclass
    class Done(Message):
        said: str
        signed: bool

    def __init__(self, courses: CourseService, user: str, course_id: int, text: str) -> None:
        super().__init__()
        self._courses = courses
        self._user = user
        self._course_id = course_id
        self._text = text
        self._busy = False

    @property
    def takes_keys(self) -> bool:
        """Keys typed while the signature is sent wait (tui/keys.py)."""
        return not self._busy

    def compose(self) -> ComposeResult:
        with Vertical(id="consent-box"):
            yield Label(Text(f"Consent to course {self._course_id}"), id="consent-title")
            yield VerticalScroll(Static(Text(self._text)), id="consent-scroll")
            with Horizontal(id="consent-statement-row"):
                yield Label("Statement", id="consent-label")
                yield Field(STATEMENT, id="consent-statement", compact=True)
            yield Static("", id="consent-problem")
            with Horizontal(id="consent-buttons"):
                yield Button("Sign", id="consent-sign", variant="primary", compact=True)
                yield Button("Cancel", id="consent-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#consent-scroll").focus()  # read first: the arrows scroll the text

    def action_cancel(self) -> None:
        if not self._busy:
            self.dismiss(None)

    @on(Button.Pressed, "#consent-cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    @on(Input.Submitted, "#consent-statement")
    @on(Button.Pressed, "#consent-sign")
    def _sign(self) -> None:
        if self._busy:
            return
        self._busy = True
        self._send(self.query_one("#consent-statement", Input).value)

    @work(thread=True, exclusive=True, group="consent")
    def _send(self, statement: str) -> None:
        with reported(lambda problem: self.post_message(self.Done(problem, False))):
            self._courses.sign_consent(self._user, self._course_id, self._text, statement)
            self.post_message(self.Done(f"Consent to course {self._course_id} signed.", True))

    def on_consent_screen_done(self, message: Done) -> None:
        self._busy = False
        if message.signed:
            self.dismiss(message.said)
            return
        problem = self.query_one("#consent-problem", Static)
        problem.update(Text(message.said))
