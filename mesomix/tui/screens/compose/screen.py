"""Compose's actions on a checked mixture: a practitioner's override (F8), the vials verified
at the bench by scan (Ctrl+B), each warning read and acknowledged, then the dispense (F9) in a
worker and the label; saving the mixture as a formula (F7). The fields and the check are
DraftScreen's (drafting.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Button, Input, Select

from mesomix.domain.findings import Finding, Severity
from mesomix.domain.mixture import PURPOSES, DraftMixture, Plan
from mesomix.domain.permissions import Action
from mesomix.services.mixtures import DispenseRefused, DispenseResult, Signature
from mesomix.tui.failures import reported
from mesomix.tui.screens.acknowledge import AcknowledgeScreen
from mesomix.tui.screens.bench import BenchScanScreen, said_of_scans
from mesomix.tui.screens.compose.drafting import DraftScreen
from mesomix.tui.screens.compose.ingredients import IngredientRow
from mesomix.tui.screens.label import LabelScreen
from mesomix.tui.screens.override import OverrideScreen
from mesomix.tui.widgets.form import Form, FormField, FormScreen, Values


class ComposeScreen(DraftScreen):
    """Compose (see the package's docstring)."""

    CSS_PATH = "../../styles/compose.tcss"
    BINDINGS = [
        # A word in the footer; what it does in Help and the palette (the tooltip).
        Binding("f9", "dispense", "Dispense", id="compose.dispense",
                tooltip="Dispense the mixture: take the stock from its lots, then the label"),
        Binding("f8", "override", "Override", id="compose.override",
                tooltip="Override: a practitioner signs off an allergy or dose block"),
        Binding("ctrl+n", "add_ingredient", "Add ingredient", id="compose.add",
                tooltip="Add an ingredient row"),
        Binding("ctrl+b", "scan_vials", "Scan", id="compose.scan",
                tooltip="Verify at the bench: scan each vial before it is drawn from"),
        Binding("f7", "save_formula", "Save formula", id="compose.save_formula",
                tooltip="Save this mixture as a formula, or a new version of one"),
        Binding("ctrl+r", "remove_ingredient", "Remove ingredient", id="compose.remove",
                show=False, tooltip="Remove the ingredient row the cursor is in"),
        # Terminals send Ctrl+Space as NUL, which Textual reads as ctrl+@.
        Binding("ctrl+space,ctrl+@", "take_hint", "Take suggestion", id="compose.take_hint",
                show=False, tooltip="Take the first suggested name for the ingredient typed"),
    ]  # fmt: skip # a table of keys: one binding to a line or two, as it reads

    # Saving a formula is a practitioner's: not offered to staff (footer, palette, help).
    NEEDS: ClassVar[dict[str, Action]] = {"save_formula": Action.EDIT_FORMULAS}

    @dataclass
    class Dispensed(Message):
        result: DispenseResult

    @dataclass
    class Unread(Message):
        """The dispense's re-check found warnings not acknowledged (the shelf or the patient
        changed since the check shown): they are asked again."""

        draft: DraftMixture
        warnings: list[Finding]

    def action_override(self) -> None:
        """The blocks not signed off yet: each may get its own reason, one dialog after another."""
        signed = self._signed_keys()
        blocks = [
            f
            for f in (self._plan.findings if self._plan else ())
            if f.severity is Severity.BLOCK and f.overridable
        ]
        signable = [f for f in blocks if f.key not in signed]
        if not signable:
            self.say(
                "Every block that may be overridden is signed off: F9 dispenses."
                if blocks
                else "Nothing here may be overridden: only allergy, dose and label-advice blocks can be signed off."
            )
            return
        accounts, user, patient = self.services.accounts, self.user.name, self.draft().patient
        self.app.push_screen(
            OverrideScreen(
                signable,
                self._practitioners,
                lambda name, password, keys: accounts.sign(name, password, user, patient, keys),
            ),
            self._signed,
        )

    def _signed(self, signatures: list[Signature] | None) -> None:
        if not signatures:
            return
        self._signatures = [*self._signatures, *signatures]
        unsigned = self._unsigned(self._plan) if self._plan is not None else []
        left = sum(f.overridable for f in unsigned)
        then = (
            f"{left} block(s) still to sign off (F8)."
            if left
            else "the other block(s) must be put right before F9."
            if unsigned
            else "F9 dispenses."
        )
        self.say(f"{len(signatures)} finding(s) signed off by {signatures[0].practitioner}: {then}")
        if self._plan is not None:
            self._show_plan(self._plan)

    # --- dispensing -----------------------------------------------------------------------

    def action_dispense(self) -> None:
        """Every WARNING is read and acknowledged first, in a dialog: nothing is dispensed
        without it."""
        if self._busy:
            return
        draft, plan = self.draft(), self._plan
        warnings = [f for f in plan.findings if f.severity is Severity.WARN] if plan else []
        if plan is not None and warnings and not self._unsigned(plan):
            self._acknowledge(draft, warnings)
        else:  # blocks first: the service names them
            self._start_dispense(draft, [])

    def _acknowledge(self, draft: DraftMixture, warnings: list[Finding]) -> None:
        self._busy = True  # until the dialog closes: the draft it is about is this one

        def read(keys: list[str] | None) -> None:
            self._busy = False
            if keys is None:
                self.say("Not dispensed: each warning must be read and acknowledged (F9).")
            else:
                self._start_dispense(draft, keys)

        self.app.push_screen(AcknowledgeScreen(warnings), read)

    def on_compose_screen_unread(self, message: Unread) -> None:
        self._busy = False
        self._dispense_button(self._plan is None or bool(self._unsigned(self._plan)))
        if self.draft() != message.draft:  # typed into meanwhile: what is shown is checked
            self.say("Not dispensed: the mixture changed; F9 again.", error=True)
            self._recheck()
            return
        self.say("The warnings changed since they were read: read them again.", error=True)
        self._acknowledge(message.draft, message.warnings)

    def _start_dispense(self, draft: DraftMixture, acknowledged: list[str]) -> None:
        self._busy = True
        self._shown = ()  # the button is set here, so the next plan redraws in full
        self._dispense_button(True, "Dispensing…")
        self.say("Dispensing…")
        self._dispense(draft, self.user.name, list(self._signatures), acknowledged)

    @on(Button.Pressed, "#dispense")
    def _dispense_pressed(self) -> None:
        self.action_dispense()

    @work(thread=True, exclusive=True, group="dispense")
    def _dispense(
        self,
        draft: DraftMixture,
        user: str,
        signatures: list[Signature],
        acknowledged: list[str],
    ) -> None:
        def failed(words: str) -> None:  # the shelf may have changed: checked again
            self.post_message(self.Failed(words, recheck=True))

        # A refusal in its own words; anything else a bug (the transaction rolled back).
        with reported(failed, bug="not dispensed, nothing was written"):
            try:
                result = self.services.mixtures.dispense(draft, user, signatures, acknowledged)
            except DispenseRefused as refused:
                self.post_message(self.Checked(refused.plan))
                if refused.unacknowledged and not any(
                    f.severity is Severity.BLOCK for f in refused.unsigned
                ):
                    self.post_message(self.Unread(draft, refused.unacknowledged))
                else:
                    failed(str(refused))
                return
            self.post_message(self.Dispensed(result))

    def action_save_formula(self) -> None:
        draft, formulas, user = self.draft(), self.services.formulas, self.user.name

        def submit(values: Values) -> str:
            _, version = formulas.save(
                user,
                values["name"],
                draft,
                values["purpose"],
                values["description"],
                values["note"],
            )
            return f"Saved as formula {values['name'].strip()}, version {version}."

        form = Form(
            "Save this mixture as a formula",
            [
                FormField(
                    "name",
                    "Name",
                    "e.g. hair restoration",
                    value=self._origin_name if self._origin else "",
                ),
                FormField(
                    "purpose", "Purpose", choices=[(p, p) for p in PURPOSES], value=draft.purpose
                ),
                FormField("description", "Description"),
                FormField("note", "Note", "what changed, for a new version"),
            ],
            submit,
            intro="The same name makes a new version of that formula; the patient is not saved.",
        )

        def saved(done: str | None) -> None:
            if done:
                self.say(done)

        self.app.push_screen(FormScreen(form), saved)

    # --- verifying at the bench ---------------------------------------------------------------

    def action_scan_vials(self) -> None:
        """The scanner's dialog: each vial scanned joins the draft, which is checked again;
        the dialog shows what the check says of the scans."""

        # A scan changes which lots are drawn, not the doses: what was signed off still holds.
        def scanned(text: str) -> None:
            self._scans.append(text)
            self._recheck()

        def put_back() -> None:
            if self._scans:
                self._scans.pop()
                self._recheck()

        findings = said_of_scans(self._plan) if self._plan is not None else []
        self.app.push_screen(BenchScanScreen(self._scans, findings, scanned, put_back))

    def _show_plan(self, plan: Plan) -> None:
        super()._show_plan(plan)
        if isinstance(self.app.screen, BenchScanScreen):
            self.app.screen.show(said_of_scans(plan))

    def on_compose_screen_dispensed(self, message: Dispensed) -> None:
        self._busy = False
        self._origin = None
        self._signatures = []
        self._scans = []  # those vials are drawn: the next mixture is scanned afresh
        self._findings_view.refit()  # the next mixture: the box fits its own findings
        read = len(message.result.acknowledged)
        self.say(
            f"Dispensed batch {message.result.batch_id}"
            + (f", {read} warning(s) acknowledged." if read else ".")
        )
        for row in self.query(IngredientRow):
            for field in row.query(Input):
                field.value = ""
        self.query_one("#final-volume", Input).value = ""
        # The next mixture is chosen for its own patient: one left selected could receive it.
        self.query_one("#patient", Select).clear()
        self.query_one("#purpose", Select).clear()
        self.query_one("#prescriber", Select).clear()
        self._offer_prescribers()
        self.query_one("#patient", Select).focus()  # the next mixture starts here
        result = message.result
        self.app.push_screen(
            LabelScreen(
                self.services.labels,
                self.user.name,
                result.batch_id,
                result.label,
                f"Dispensed — batch {result.batch_id}",
            )
        )
