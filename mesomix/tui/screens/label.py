"""A batch's label: shown after a dispense (and from a patient's history), saved as a file or sent
to the printer by the label service, in a worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from mesomix.tui.failures import reported

if TYPE_CHECKING:
    from mesomix.services.labels import LabelService


class LabelScreen(ModalScreen[None]):
    """The label of one batch, with what can be done with it."""

    CSS_PATH = "../styles/label.tcss"

    BINDINGS = [
        Binding("escape,enter", "dismiss", "Close"),
        # Either case: the buttons read "Print (P)" and "Save (S)", and caps lock may be on
        # (a terminal sends shift+s as "S", or as "shift+s" under the kitty protocol).
        Binding("s,S,shift+s", "save", "Save as a file"),
        Binding("p,P,shift+p", "print", "Print"),
        Binding("d,D,shift+d", "save_as('pdf')", "Save as PDF"),
        Binding("z,Z,shift+z", "save_as('zpl')", "Save as ZPL"),
    ]

    @dataclass
    class Done(Message):
        said: str
        error: bool

    def __init__(
        self, labels: LabelService, user: str, batch_id: int, text: str, title: str = ""
    ) -> None:
        super().__init__()
        self._labels = labels
        self._user = user
        self._batch_id = batch_id
        self._text = text
        self._title = title or f"Batch {batch_id}"

    def compose(self) -> ComposeResult:
        with Vertical(id="label-box"):
            yield Label(Text(self._title), id="label-title")
            with VerticalScroll(id="label-scroll"):
                yield Static(Text(self._text), id="label-text")
            with Horizontal(id="label-buttons"):
                yield Button("Print (P)", id="label-print", compact=True)
                yield Button("Save (S)", id="label-save", compact=True)
                yield Button("PDF (D)", id="label-pdf", compact=True)
                yield Button("ZPL (Z)", id="label-zpl", compact=True)
                yield Button("Close", id="label-close", variant="primary", compact=True)
            yield Static("", id="label-status")

    @on(Button.Pressed, "#label-close")
    def _close(self) -> None:
        self.dismiss()

    @on(Button.Pressed, "#label-save")
    def action_save(self) -> None:
        self._say("saving…")
        self._do(lambda: f"saved to {self._labels.save(self._user, self._batch_id)}")

    def action_save_as(self, form: str) -> None:
        """The label for a label printer: a PDF page or ZPL, on the 62 mm roll, with the 2-D
        code of its batch."""
        self._say(f"saving as {form.upper()}…")
        self._do(lambda: f"saved to {self._labels.save(self._user, self._batch_id, form=form)}")

    @on(Button.Pressed, "#label-pdf")
    def _pdf(self) -> None:
        self.action_save_as("pdf")

    @on(Button.Pressed, "#label-zpl")
    def _zpl(self) -> None:
        self.action_save_as("zpl")

    @on(Button.Pressed, "#label-print")
    def action_print(self) -> None:
        self._say("sending to the printer…")
        self._do(lambda: self._labels.send_to_printer(self._user, self._batch_id))

    @work(thread=True, exclusive=True, group="label")
    def _do(self, job: Callable[[], str]) -> None:
        """Files and printers can take their time: off the event loop."""
        # Either message is dropped if the screen was closed meanwhile.
        with reported(
            lambda problem: self.post_message(self.Done(problem, True)), bug="could not be done"
        ):
            self.post_message(self.Done(job(), False))

    def on_label_screen_done(self, message: Done) -> None:
        self._say(message.said, message.error)

    def _say(self, text: str, error: bool = False) -> None:
        status = self.query_one("#label-status", Static)
        status.update(Text(text))
        status.set_class(error, "problem")
