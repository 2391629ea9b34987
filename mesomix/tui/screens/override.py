"""The override dialog: a practitioner signs off blocking findings with their password and a reason.

The dialog only gathers the signature; the dispense service checks the role and the password and
stores the override with the batch, or refuses and writes nothing.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from mesomix.domain.findings import Finding
from mesomix.domain.overrides import REASONS
from mesomix.services.mixtures import Signature


class OverrideScreen(ModalScreen[list[Signature] | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, findings: list[Finding], practitioners: list[tuple[str, str]]) -> None:
        super().__init__()
        self._findings = findings
        self._practitioners = practitioners

    def compose(self) -> ComposeResult:
        with Vertical(id="override-box"):
            yield Label("Override — a practitioner signs", id="override-title")
            with VerticalScroll(id="override-findings"):
                for index, finding in enumerate(self._findings):
                    yield Checkbox(Text(finding.message), value=True, id=f"finding-{index}")
            yield Select[str](
                [(Text(name), code) for name, code in self._practitioners],
                prompt="Practitioner",
                id="override-practitioner",
            )
            yield Input(
                placeholder="password (your signature)", password=True, id="override-password"
            )
            yield Select[str](
                [(label, code) for code, label in REASONS.items()],
                prompt="Reason",
                id="override-reason",
            )
            yield Input(placeholder="why, in a few words", id="override-why")
            yield Static("", id="override-problem")
            with Horizontal(id="override-buttons"):
                yield Button("Sign", id="override-sign", variant="warning")
                yield Button("Cancel", id="override-cancel")

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#override-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#override-sign")
    @on(Input.Submitted, "#override-why")
    def _sign(self) -> None:
        practitioner = self.query_one("#override-practitioner", Select).value
        reason = self.query_one("#override-reason", Select).value
        password = self.query_one("#override-password", Input).value
        why = self.query_one("#override-why", Input).value
        chosen = [
            f
            for i, f in enumerate(self._findings)
            if self.query_one(f"#finding-{i}", Checkbox).value
        ]
        problem = (
            "tick at least one finding"
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
        self.dismiss([Signature(f.key, practitioner, password, reason, why) for f in chosen])
