"""Formulas: the clinic's named recipes, each with its versions; start one for a patient chosen
from the list (scaled to another final volume if asked) and finish it in Compose. Saving happens
in Compose (F7)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Label, Static

from mesomix.domain.formulas import Formula
from mesomix.domain.mixture import DraftMixture
from mesomix.domain.permissions import Action, Role, allowed
from mesomix.services.accounts import SignedIn
from mesomix.services.errors import ServiceError
from mesomix.services.formulas import FormulaSummary
from mesomix.tui.screens.base import WorkScreen, columns, same_row, short
from mesomix.tui.widgets.form import Form, FormField, FormScreen, Values

if TYPE_CHECKING:  # a type hint only: the screens never import the wiring at run time
    from mesomix.bootstrap import Services

NO_PATIENT = ("choose the patient", "")  # no one by default: a formula for the wrong patient


class FormulasScreen(WorkScreen):
    CSS_PATH = "../styles/formulas.tcss"
    BINDINGS = [
        Binding("s", "start", "Start for a patient", id="formulas.start"),
        Binding("x", "retire", "Retire", id="formulas.retire"),
    ]
    NEEDS = {"retire": Action.EDIT_FORMULAS}

    @dataclass
    class Loaded(Message):
        formulas: list[FormulaSummary]
        patients: list[tuple[str, str]]  # (name and reference, reference), by name

    @dataclass
    class Shown(Message):
        formula: Formula

    @dataclass
    class Started(Message):
        draft: DraftMixture

    def __init__(self, services: Services, user: SignedIn) -> None:
        super().__init__(services, user)
        self._formulas: dict[str, FormulaSummary] = {}
        self._patients: list[tuple[str, str]] = []
        self._chosen: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="formulas-work"):
            yield DataTable(id="formula-list", cursor_type="row", zebra_stripes=True)
            with Vertical(id="formula-detail"):
                yield Static("Choose a formula.", id="formula-card")
                yield Label("Ingredients (latest version)", classes="section")
                yield DataTable(id="formula-ingredients", cursor_type="none")
                yield Label("Versions", classes="section")
                yield DataTable(id="formula-versions", cursor_type="none")
        yield Static("", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "mesomix — Formulas"
        # At 80 columns: the purpose is in the card, and amounts come first so no name
        # pushes them out of sight; names and notes wrap.
        columns(
            self.query_one("#formula-list", DataTable), ("Formula", 24), ("v", 2), ("Volume", 7)
        )
        columns(self.query_one("#formula-ingredients", DataTable), ("Amount", 10), ("What", 22))
        versions = self.query_one("#formula-versions", DataTable)
        columns(versions, ("v", 2), ("Saved", 10), ("By: note", 18))
        self.query_one("#formula-list", DataTable).focus()
        self.reload()

    @work(thread=True, exclusive=True, group="formulas")
    def reload(self) -> None:
        with self.reporting("could not load the formulas"):
            formulas = self.services.formulas.formulas(self.user.name)
            patients = (
                [
                    (f"{p.name} ({p.ref})", p.ref)
                    for p in self.services.people.patients(self.user.name)
                ]
                if allowed(Role(self.user.role), Action.VIEW_PATIENTS)
                else []
            )
            self.post_message(self.Loaded(formulas, patients))

    def on_formulas_screen_loaded(self, message: Loaded) -> None:
        self._formulas = {f.code: f for f in message.formulas}
        self._patients = message.patients
        table = self.query_one("#formula-list", DataTable)
        with same_row(table):
            table.clear()
            for formula in message.formulas:
                table.add_row(
                    Text(short(formula.name, 24)),
                    str(formula.latest_version),
                    Text(formula.final_volume or "—"),
                    key=formula.code,
                )

    @on(DataTable.RowHighlighted, "#formula-list")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self._chosen = str(event.row_key.value)
            self._show(self._chosen)

    @work(thread=True, exclusive=True, group="formula")
    def _show(self, code: str) -> None:
        with self.reporting():
            self.post_message(self.Shown(self.services.formulas.formula(self.user.name, code)))

    def on_formulas_screen_shown(self, message: Shown) -> None:
        formula = message.formula
        if formula.code != self._chosen:
            return
        latest = formula.version()  # the latest: a formula is saved with its first version
        self.query_one("#formula-card", Static).update(
            Text(
                f"{formula.name} · {formula.purpose or 'purpose not said'} · final volume {latest.final_volume or 'as drawn'}\n{formula.description}".strip()
            )
        )
        ingredients = self.query_one("#formula-ingredients", DataTable)
        ingredients.clear()
        for item in latest.ingredients:
            ingredients.add_row(Text(item.amount, style="bold"), Text(item.what), height=None)
        versions = self.query_one("#formula-versions", DataTable)
        versions.clear()
        for version in reversed(formula.versions):
            saved = (
                f"{version.created_at.astimezone(self.services.clock.zone):%Y-%m-%d}"
                if version.created_at
                else ""
            )
            note = Text(version.created_by, style="bold")
            note.append(f": {version.note}" if version.note else "")
            versions.add_row(str(version.number), saved, note, height=None)

    def _formula_or_say(self) -> FormulaSummary | None:
        if self._chosen is None or self._chosen not in self._formulas:
            self.say("Choose a formula first.", error=True)
            return None
        return self._formulas[self._chosen]

    def action_start(self) -> None:
        formula = self._formula_or_say()
        if formula is None:
            return
        if not self._patients:
            self.say("No patient to start it for: add the patient on the Patients screen (F3).")
            return
        formulas, user = self.services.formulas, self.user.name
        started: list[DraftMixture] = []

        def submit(values: Values) -> str:
            version = values["version"].strip()
            if version and not version.isdigit():
                raise ServiceError(f"version '{version}' is not a version number")
            scaling = formulas.scaling(
                user,
                formula.code,
                values["patient"],
                values["final_volume"].strip() or None,
                int(version) if version else None,
            )
            rounded = "; ".join(f"{r.what} {r.exact} written {r.written}" for r in scaling.rounded)
            started.append(scaling.draft)
            return f"{formula.name} × {scaling.factor_text}" + (
                f" (rounded: {rounded})" if rounded else ""
            )

        def then(done: str | None) -> None:
            """Once the form has closed, carry the draft over to Compose."""
            if done is not None and started:
                self.say(done)
                self.post_message(self.Started(started[-1]))

        form = Form(
            f"Start {formula.name}",
            [
                FormField("patient", "Patient", choices=[NO_PATIENT, *self._patients]),
                FormField(
                    "final_volume",
                    "Final volume",
                    f"blank: as saved ({formula.final_volume or 'as drawn'})",
                ),
                FormField("version", "Version", f"blank: the latest ({formula.latest_version})"),
            ],
            submit,
            go="Start",
            intro="Patient: Space or the arrows open the list; type a name there.",
        )
        self.app.push_screen(FormScreen(form), then)

    async def on_formulas_screen_started(self, message: Started) -> None:
        await self.app.switch_mode("compose")
        screen = self.app.screen
        load = getattr(screen, "load", None)
        if load is not None:
            load(message.draft)

    def action_retire(self) -> None:
        formula = self._formula_or_say()
        if formula is None:
            return
        formulas, user = self.services.formulas, self.user.name

        def submit(values: Values) -> str:
            formulas.retire(user, formula.code, values["reason"])
            return f"{formula.name} retired: it is no longer offered."

        self.ask(
            Form(
                f"Retire {formula.name}",
                [FormField("reason", "Reason", "why")],
                submit,
                go="Retire",
            ),
            self.reload,
        )
