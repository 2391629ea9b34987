"""Verifying at the bench: the dialog a scanner types into, over Compose. Each vial is scanned
before it is drawn from; the dialog lists the scans made and what the check says of them — each
draw verified, a lot followed, or a BLOCK naming what was scanned and what was expected — as
soon as Compose's check of the mixture with its scans comes back.

The dialog only gathers scans; Compose keeps them with its draft (the check and the dispense
read them against the books), and the dispense records which draws were verified by scan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from mesomix.domain.findings import Finding, Severity
from mesomix.domain.label import read_batch_code
from mesomix.domain.mixture import Plan
from mesomix.domain.scan import looks_like_scan
from mesomix.tui.widgets.field import ScanField

SHOWN = 40  # characters of a scan shown in the list: enough to tell two apart


def said_of_scans(plan: Plan) -> list[Finding]:
    """What a check says of the vials scanned (domain/bench.py's findings)."""
    return [f for f in plan.findings if f.code.startswith("scan.")]


class BenchScanScreen(ModalScreen[None]):
    """Scan each vial (Enter ends each, as scanners do); Ctrl+R puts the last one back;
    Escape or Done returns to Compose with the scans kept."""

    DEFAULT_CSS = """
    BenchScanScreen {
        align: center middle;
    }

    BenchScanScreen .form-box {
        width: 76;
        max-height: 22;
    }

    BenchScanScreen #bench-scan {
        width: 1fr;
        margin: 0 0 1 0;
    }

    BenchScanScreen #bench-said {
        height: auto;
        max-height: 14;
    }

    BenchScanScreen .bench-buttons {
        height: 1;
        align-horizontal: right;
    }
    """

    BINDINGS = [
        Binding("escape", "close", "Done", id="bench.done"),
        Binding("ctrl+r", "put_back", "Put the last back", id="bench.put_back"),
    ]

    def __init__(
        self,
        scans: Sequence[str],
        findings: Sequence[Finding],
        scanned: Callable[[str], None],
        put_back: Callable[[], None],
    ) -> None:
        super().__init__()
        self._scans = list(scans)
        self._findings = list(findings)
        self._scanned = scanned
        self._put_back = put_back
        self._refused = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="form-box"):
            yield Label(Text("Verify by scan: scan each vial before drawing"), classes="form-title")
            yield ScanField(placeholder="scan a vial", id="bench-scan", compact=True)
            with VerticalScroll(id="bench-said", can_focus=False):
                yield Static("", id="bench-lines")
            with Horizontal(classes="bench-buttons"):
                yield Button("Done", id="bench-done", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#bench-scan", ScanField).focus()
        self._redraw()

    @on(ScanField.Scanned)
    def _scan(self, event: ScanField.Scanned) -> None:
        labelled = read_batch_code(event.text)
        if labelled is not None:  # a syringe's label, scanned back: said, not kept
            self._refused = (
                f"That is the label of batch {labelled} (Patients, or `mesomix mix label "
                f"{labelled}`), not a vial: scan the vials to be drawn"
            )
            self._redraw()
            return
        if not looks_like_scan(event.text):
            # typed, not scanned: said, and not kept (it would be a BLOCK to take back)
            self._refused = f"'{event.text[:SHOWN]}' is not a scan: scan the vial's code"
            self._redraw()
            return
        self._refused = ""
        self._scans.append(event.text)
        self._scanned(event.text)
        self._redraw()

    def action_put_back(self) -> None:
        if self._scans:
            self._scans.pop()
            self._refused = ""
            self._put_back()
            self._redraw()

    def show(self, findings: Sequence[Finding]) -> None:
        """What Compose's latest check says of the scans."""
        self._findings = list(findings)
        self._redraw()

    def _redraw(self) -> None:
        lines = Text()
        for at, scan in enumerate(self._scans, start=1):
            shown = scan if len(scan) <= SHOWN else scan[: SHOWN - 1] + "…"
            lines.append(f"{at}. {shown}\n", style="dim")
        if not self._scans:
            lines.append("No vial scanned yet.\n", style="dim")
        for finding in self._findings:
            word = {Severity.BLOCK: "BLOCK", Severity.WARN: "WARNING"}.get(finding.severity, "OK")
            style = "bold red" if finding.severity is Severity.BLOCK else ""
            lines.append(f"{word}: {finding.message}\n", style=style)
        if self._refused:
            lines.append(self._refused, style="bold red")
        self.query_one("#bench-lines", Static).update(lines)

    @on(Button.Pressed, "#bench-done")
    def action_close(self) -> None:
        self.dismiss(None)
