"""The override dialog: a practitioner signs off blocking findings with their password and a reason.

The dialog only gathers the signature; the dispense service checks the role and the password and
stores the override with the batch, or refuses and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from mesomix.domain.findings import Finding
from mesomix.domain.overrides import REASONS
from mesomix.services.mixtures import Signature
from mesomix.tui.failures import reported
from mesomix.tui.widgets.field import Field
from mesomix.tui.widgets.form import FormSelect


class SignOff(Static, can_focus=True):
    """One blocking finding, to sign off or to leave: said in words, not by colour alone, and
    shown whole (a finding cut to one line cannot be signed in good conscience). Space or a click
    changes it; Enter goes on to the next field and changes nothing."""

    BINDINGS = [
        Binding("space", "toggle('chosen')", "Sign off / leave", id="override.toggle"),
        Binding("enter", "app.focus_next", show=False),
    ]

    chosen: reactive[bool] = reactive(False)  # each block is signed off by choice, never by default

    def __init__(self, finding: Finding, *, id: str) -> None:
        super().__init__(id=id, classes="sign-off")
        self.finding = finding

    def render(self) -> Table:
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=12, no_wrap=True)
        grid.add_column(ratio=1)
        mark = "[x] sign off" if self.chosen else "[ ] leave"
        grid.add_row(Text(mark, style="bold"), Text(self.finding.message))
        return grid

    def watch_chosen(self, chosen: bool) -> None:
        self.set_class(chosen, "-chosen")

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.chosen = not self.chosen


class OverrideScreen(ModalScreen[list[Signature] | None]):
    """The password is checked when Sign is pressed, while the practitioner is still at the
    terminal, as a sign-in is (a failure counts towards their lockout; a locked account says until
    when); dispensing checks it again."""

    CSS_PATH = "../styles/override.tcss"

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        findings: list[Finding],
        practitioners: list[tuple[str, str]],
        verify: Callable[[str, str, list[str]], None],
    ) -> None:
        super().__init__()
        self._findings = findings
        self._practitioners = practitioners
        self._verify = verify  # (user name, password, finding keys); refuses, saying why; blocks
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="override-box"):
            yield Label("Override — a practitioner signs off", id="override-title")
            yield Static(
                "Space signs off the finding in view; Tab or Enter goes on.", id="override-how"
            )
            findings = VerticalScroll(id="override-findings")
            findings.can_focus = False  # Tab goes to the findings themselves, not their frame
            with findings:
                for index, finding in enumerate(self._findings):
                    yield SignOff(finding, id=f"finding-{index}")
            yield FormSelect(
                [(Text(name), code) for name, code in self._practitioners],
                prompt="Practitioner",
                id="override-practitioner",
                compact=True,
            )
            yield Field(
                placeholder="password (your signature)",
                password=True,
                id="override-password",
                compact=True,
            )
            yield FormSelect(
                [(label, code) for code, label in REASONS.items()],
                prompt="Reason",
                id="override-reason",
                compact=True,
            )
            yield Field(placeholder="why, in a few words", id="override-why", compact=True)
            yield Static("", id="override-problem")
            with Horizontal(id="override-buttons"):
                yield Button("Sign", id="override-sign", variant="warning", compact=True)
                yield Button("Cancel", id="override-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#finding-0", SignOff).focus()

    @property
    def takes_keys(self) -> bool:
        """Keys typed while the signature is checked wait (tui/keys.py)."""
        return not self._busy

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#override-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#override-password")
    def _password_typed(self) -> None:
        """Enter signs once the reason and why are given (a password typed again after a
        wrong one), and otherwise goes on to them."""
        reason = self.query_one("#override-reason", Select).value
        if (
            isinstance(reason, str)
            and len(self.query_one("#override-why", Input).value.strip()) >= 3
        ):
            self._sign()
        else:
            self.focus_next()

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        """What was said of the fields as they were no longer holds."""
        self.query_one("#override-problem", Static).update("")

    @on(Button.Pressed, "#override-sign")
    @on(Input.Submitted, "#override-why")
    def _sign(self) -> None:
        if self._busy:
            return
        practitioner = self.query_one("#override-practitioner", Select).value
        reason = self.query_one("#override-reason", Select).value
        password = self.query_one("#override-password", Input).value
        why = self.query_one("#override-why", Input).value
        chosen = [sign.finding for sign in self.query(SignOff) if sign.chosen]
        problem = (
            "sign off at least one finding (Space on it)"
            if not chosen
            else "choose the practitioner"
            if not isinstance(practitioner, str)
            else "type the password"
            if not password
            else "choose a reason"
            if not isinstance(reason, str)
            else "say why in a few words"
            if len(why.strip()) < 3
            else ""
        )
        if problem:
            self.query_one("#override-problem", Static).update(Text(problem))
            return
        assert isinstance(practitioner, str) and isinstance(reason, str)
        self._busy = True
        self.query_one("#override-sign", Button).disabled = True
        self._check([Signature(f.key, practitioner, password, reason, why) for f in chosen])

    @work(thread=True, exclusive=True, group="override")
    def _check(self, signatures: list[Signature]) -> None:
        first = signatures[0]

        def refused(problem: str) -> None:  # wrong (counted), locked until when, deactivated
            self.app.call_from_thread(self._checked, None, problem)

        with reported(refused, bug="the signature could not be checked"):  # nothing is signed
            self._verify(first.practitioner, first.password, [s.finding_key for s in signatures])
            self.app.call_from_thread(self._checked, signatures, "")

    def _checked(self, signatures: list[Signature] | None, problem: str) -> None:
        self._busy = False
        self.query_one("#override-sign", Button).disabled = False
        if signatures is not None:
            self.dismiss(signatures)
            return
        self.query_one("#override-password", Input).focus()  # selected: typing replaces it
        self.query_one("#override-problem", Static).update(Text(problem))
