"""One dialog for every small job (a weight, an allergy, a receipt, a count, a recall...).

The dialog only gathers text. Checking as you type (and a hint of what the typed text will be
taken to mean, where a form has one) and the final submit run in thread workers that call the
services; a refusal is shown in the dialog, which stays open with what was typed, and nothing was
written. Success closes it with the service's own words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static
from textual.worker import get_current_worker

from mesomix.tui.failures import reported
from mesomix.tui.widgets.field import Field

Values = dict[str, str]
Progress = Callable[[str, int, int], None]  # (what is being done, done, of how many)


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    placeholder: str = ""
    choices: Sequence[tuple[str, str]] = ()  # (shown, value): a Select instead of an Input
    value: str = ""
    password: bool = False


@dataclass(frozen=True)
class Form:
    title: str
    fields: Sequence[FormField]
    submit: Callable[[Values], str]  # calls a service; returns what to tell the person
    check: Callable[[Values], list[str]] | None = None  # problems while typing, if any
    go: str = "Save"
    intro: str = ""
    problems_shown: int = field(default=4)
    # A long job (an import): called instead of submit with a progress reporter; a bar shows it.
    steps: Callable[[Values, Progress], str] | None = None
    # What the typed values will be taken to mean (the product a name finds), shown as a line
    # under the fields as the person types; computed in a worker, like the check.
    hint: Callable[[Values], str] | None = None
    # Where Enter in a field goes, when not to the next one: given the values and the field's
    # key, the key of the field to go to, or None for the next (a scanned box's code gives
    # the lot and expiry, so Enter after it goes on to how many).
    after: Callable[[Values, str], str | None] | None = None


class FormSelect(Select[str]):
    """A choice in a form: Enter goes on to the next field, as in a typed one (the arrows and
    Space open the list), so a form can be filled with Enter alone."""

    BINDINGS = [Binding("enter", "app.focus_next", "Next field", show=False)]


class FormScreen(ModalScreen[str | None]):
    """A small form over the current screen: Enter or the button submits, Escape cancels.
    Its frame and title are the dialogs' own (`.form-box`, `.form-title` in base.tcss)."""

    DEFAULT_CSS = """
    FormScreen {
        align: center middle;
    }

    FormScreen .form-intro {
        color: $text-muted;
        margin: 0 0 1 0;
    }

    FormScreen .form-row {
        height: 1;
        margin: 0 0 1 0;
    }

    FormScreen .form-label {
        width: 14;
    }

    FormScreen .form-row Input, FormScreen .form-row Select {
        width: 1fr;
    }

    FormScreen .form-body {
        height: auto;
        max-height: 16;  /* with the title, the buttons and the border: 24 rows */
    }

    FormScreen .form-buttons {
        height: 1;
        align-horizontal: right;
    }

    FormScreen .form-buttons Button {
        margin: 0 0 0 2;
    }

    FormScreen #form-problems {
        color: $error;
        height: auto;
    }

    FormScreen #form-hint {
        height: auto;
        color: $text-success;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="form.cancel")]

    @dataclass
    class Result(Message):
        problems: list[str]
        done: str | None = None
        while_typing: bool = False  # a check as the person types, not the answer to a submit

    @dataclass
    class Hinted(Message):
        text: str

    @dataclass
    class Moved(Message):
        phase: str
        done: int
        total: int

    def __init__(self, form: Form) -> None:
        super().__init__()
        self.form = form
        self._busy = False
        self._touched: set[str] = set()  # fields typed in: their problems show while typing

    @property
    def takes_keys(self) -> bool:
        """Keys typed while the form is being sent wait: they go into the form if it is
        refused, and nowhere if it closes (tui/keys.py)."""
        return not self._busy

    def compose(self) -> ComposeResult:
        with Vertical(classes="form-box"):
            yield Label(Text(self.form.title), classes="form-title")
            # The fields and what is said of them scroll; the title and the buttons stay, so a
            # long refusal never pushes the buttons off a 24-row terminal.
            body = VerticalScroll(classes="form-body")
            body.can_focus = False  # Tab goes to the fields, not to their frame
            with body:
                yield from self._body()
            with Horizontal(classes="form-buttons"):
                yield Button(self.form.go, id="form-go", variant="primary", compact=True)
                yield Button("Cancel", id="form-cancel", compact=True)

    def _body(self) -> ComposeResult:
        if self.form.intro:
            yield Static(Text(self.form.intro), classes="form-intro")
        for item in self.form.fields:
            with Horizontal(classes="form-row"):
                yield Label(Text(item.label), classes="form-label")
                if item.choices:
                    yield FormSelect(
                        [(Text(shown), value) for shown, value in item.choices],
                        value=item.value or item.choices[0][1],
                        allow_blank=False,
                        id=f"form-{item.key}",
                        compact=True,
                    )
                else:
                    yield Field(
                        value=item.value,
                        placeholder=item.placeholder,
                        password=item.password,
                        id=f"form-{item.key}",
                        compact=True,
                    )
        if self.form.hint is not None:
            hint = Static("", id="form-hint")
            hint.display = False
            yield hint
        yield Static("", id="form-problems", classes="problem")
        if self.form.steps is not None:
            yield Static("", id="form-phase")
            progress = ProgressBar(id="form-progress", show_eta=False)
            progress.display = False  # shown when the job moves, not animated before it starts
            yield progress

    def on_mount(self) -> None:
        """The cursor starts in the first field, whether typed or chosen; a form that only
        confirms starts on its button, so Enter does it and Escape does not. Set at once, not
        deferred: a deferred focus landed after the person (or a test) had already moved to
        another field, and took the cursor back there in the middle of what they typed."""
        first = f"#form-{self.form.fields[0].key}" if self.form.fields else "#form-go"
        self.set_focus(self.query_one(first))

    def values(self) -> Values:
        found: Values = {}
        for item in self.form.fields:
            widget = self.query_one(f"#form-{item.key}")
            value = widget.value if isinstance(widget, (Input, Select)) else ""
            found[item.key] = value if isinstance(value, str) else ""
        return found

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#form-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self, event: Input.Changed | Select.Changed) -> None:
        widget = event.input if isinstance(event, Input.Changed) else event.select
        if widget.id and widget.id.startswith("form-"):
            self._touched.add(widget.id.removeprefix("form-"))
        if self.form.check is not None or self.form.hint is not None:
            self._check(self.values())

    @work(thread=True, exclusive=True, group="form-check")
    def _check(self, values: Values) -> None:
        """The check and the hint of what is typed now, in one worker; a newer keystroke's
        worker supersedes it, so only the latest answers are shown."""
        problems: list[str] | None = None
        hint: str | None = None

        def failed(problem: str) -> None:
            nonlocal problems
            problems = [problem]

        with reported(failed, "could not check"):
            if self.form.check is not None:
                problems = self.form.check(values)
            if self.form.hint is not None:
                hint = self.form.hint(values)
        if get_current_worker().is_cancelled:
            return
        if problems is not None:
            self.post_message(self.Result(problems, while_typing=True))
        if self.form.hint is not None:
            self.post_message(self.Hinted(hint or ""))

    def on_form_screen_hinted(self, message: Hinted) -> None:
        hint = self.query_one("#form-hint", Static)
        hint.update(Text(message.text))
        hint.display = bool(message.text)  # no blank line taking the problems' room

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        """Enter in the last field submits; in any other it goes on to the next, so a form is
        never sent with the fields after it still at their defaults."""
        fields = list(self.query(Input))
        key = (event.input.id or "").removeprefix("form-")
        goes = self.form.after(self.values(), key) if self.form.after is not None else None
        if goes is not None:
            self.set_focus(self.query_one(f"#form-{goes}"))
            return
        if fields and event.input is not fields[-1]:
            self.focus_next()
            return
        self._submit()

    @on(Button.Pressed, "#form-go")
    def _submit(self) -> None:
        if self._busy:
            return
        self._busy = True
        self.query_one("#form-go", Button).disabled = True
        self._send(self.values())

    @work(thread=True, exclusive=True, group="form-submit")
    def _send(self, values: Values) -> None:
        # A refusal one problem a line (an import names every row's); a bug: the service
        # rolled back, and the form says so rather than crash.
        with reported(
            lambda said: self.post_message(self.Result(said.splitlines())),
            bug="nothing was written",
        ):
            if self.form.steps is not None:
                done = self.form.steps(values, self._reporter())
            else:
                done = self.form.submit(values)
            self.post_message(self.Result([], done))

    def _reporter(self) -> Progress:
        """Progress from the worker, posted only when the bar moves by a percent or the phase
        changes: a 100 000-row file does not become 100 000 messages."""
        last = ("", -1)

        def report(phase: str, done: int, total: int) -> None:
            nonlocal last
            percent = 100 * done // total if total else 100
            if (phase, percent) != last:
                last = (phase, percent)
                self.post_message(self.Moved(phase, done, total))

        return report

    def on_form_screen_moved(self, message: Moved) -> None:
        self.query_one("#form-progress", ProgressBar).display = True
        self.query_one("#form-phase", Static).update(
            Text(f"{message.phase} {message.done:,} of {message.total:,} rows")
        )
        self.query_one("#form-progress", ProgressBar).update(
            total=message.total, progress=message.done
        )

    def _field_of(self, problem: str) -> str:
        """The field a problem is about, when it starts with the field's name and a colon
        ("lot number: …", as the services word them); "" for a problem about the whole form."""
        said = problem.split(":", 1)[0].strip().lower()
        return next(
            (f.key for f in self.form.fields if said in (f.key.replace("_", " "), f.key)), ""
        )

    def on_form_screen_result(self, message: Result) -> None:
        if message.done is not None:
            self.dismiss(message.done)
            return
        if not message.while_typing:
            self._busy = False
            self.query_one("#form-go", Button).disabled = False
            if self.form.steps is not None:  # a refused job: no bar or phase left from it
                self.query_one("#form-progress", ProgressBar).display = False
                self.query_one("#form-phase", Static).update("")
        problems = message.problems
        if message.while_typing:  # no "empty" for fields the person has not come to yet
            problems = [line for line in problems if self._field_of(line) in self._touched | {""}]
        shown = problems[: self.form.problems_shown]
        if len(problems) > len(shown):
            shown.append(f"… and {len(problems) - len(shown)} more")
        problems_shown = self.query_one("#form-problems", Static)
        problems_shown.update(Text("\n".join(shown)))
        if shown and not message.while_typing:  # a refusal: in view, whatever the scroll
            self.call_after_refresh(problems_shown.scroll_visible)
