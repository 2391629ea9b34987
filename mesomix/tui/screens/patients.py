"""Patients: find a patient, see weight, allergies and the mixtures they received (and any
block signed off to make them); practitioners record weights and allergies, code free text,
confirm or refute — each through a form naming the allergy and the patient.

Everything shown comes from the services in workers; every change goes through a form
(patient_forms.py) whose submit calls a service, which checks the role and writes the audit row.
An allergy and a weight are put in words by patient_words.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from mesomix.domain.allergy import Allergy
from mesomix.domain.catalog import Catalog
from mesomix.domain.permissions import Action
from mesomix.services.accounts import SignedIn
from mesomix.services.labels import ACKNOWLEDGED, OVERRIDDEN, RECALLED
from mesomix.services.people import BatchSummary, PatientSummary
from mesomix.services.reactions import ReactionView
from mesomix.tui.screens.base import WorkScreen, columns, matches, same_row, short
from mesomix.tui.screens.label import LabelScreen
from mesomix.tui.screens.patient_forms import (
    allergy_form,
    code_form,
    decide_form,
    new_patient_form,
    reaction_form,
    verify_form,
    weight_form,
)
from mesomix.tui.screens.patient_words import AllergyWords, weight_text
from mesomix.tui.widgets.field import Field

if TYPE_CHECKING:  # a type hint only: the screens never import the wiring at run time
    from mesomix.bootstrap import Services

ALLERGY_WIDTH = 36  # the detail pane's width at 80 columns, less padding and scroll bar
# Marks the allergy that v, x and c act on (the cursor's row while the list has focus): a
# character as well as the cursor's colour.
CHOSEN = "▶"
MIXTURE_WIDTH = 29  # the date leads the mixture's cell: a signed-off block has room to wrap


class PatientsScreen(WorkScreen):
    CSS_PATH = "../styles/patients.tcss"
    BINDINGS = [
        # Short words in the footer (80 columns), the full ones in Help and the palette.
        Binding("ctrl+f", "find", "Find", id="patients.find", show=False),
        Binding("n", "new_patient", "New", id="patients.new", tooltip="New patient"),
        Binding(
            "w", "weight", "Weight", id="patients.weight", tooltip="Record the patient's weight"
        ),
        Binding("a", "add_allergy", "Allergy", id="patients.allergy", tooltip="Add an allergy"),
        Binding(
            "c",
            "code_allergy",
            "Code",
            id="patients.code",
            tooltip="Code a free-text allergy as a substance or allergen group",
        ),
        Binding(
            "v",
            "verify('confirmed')",
            "Confirm",
            id="patients.confirm",
            tooltip="Confirm an allergy",
        ),
        Binding(
            "x",
            "verify('refuted')",
            "Refute",
            id="patients.refute",
            tooltip="Refute an allergy, with the reason",
        ),
        Binding(
            "r",
            "reaction",
            "Reaction",
            id="patients.reaction",
            tooltip="Record a reaction after the mixture chosen in the history",
            show=False,  # the footer is full at 80 columns: the history's heading says it
        ),
        Binding(
            "e",
            "decide",
            "Decide",
            id="patients.decide",
            tooltip="Confirm a reaction, or decide the allergy it proposes",
            show=False,  # said when a reaction is recorded, and by the history's heading
        ),
        Binding(
            "l",
            "label",
            "Label",
            id="patients.label",
            tooltip="The label of a mixture received, to read, print or save",
        ),
    ]
    NEEDS = {
        "new_patient": Action.EDIT_PATIENTS,
        "weight": Action.EDIT_PATIENTS,
        "add_allergy": Action.RECORD_ALLERGY,
        "code_allergy": Action.RECORD_ALLERGY,
        "verify": Action.RECORD_ALLERGY,
        "reaction": Action.RECORD_REACTION,
        "decide": Action.CONFIRM_REACTION,
    }

    @dataclass
    class Loaded(Message):
        patients: list[PatientSummary]
        catalog: Catalog

    @dataclass
    class ReactionsLoaded(Message):
        ref: str
        reactions: list[ReactionView]

    @dataclass
    class HistoryLoaded(Message):
        ref: str
        history: list[BatchSummary]

    def __init__(self, services: Services, user: SignedIn) -> None:
        super().__init__(services, user)
        self._patients: dict[str, PatientSummary] = {}
        self._words = AllergyWords()  # the catalogue's words once it is read
        self._chosen: str | None = None
        self._batches: list[BatchSummary] = []  # the chosen patient's, as the table lists them

    def compose(self) -> ComposeResult:
        yield Header()
        yield Field(
            placeholder="find a patient: name or reference (Ctrl+F)",
            id="patient-find",
            compact=True,
        )
        with Horizontal(id="patients-work"):
            yield DataTable(id="patient-list", cursor_type="row", zebra_stripes=True)
            with Vertical(id="patient-detail"):
                yield Static("Choose a patient.", id="patient-card")
                yield Label("Allergies", classes="section")
                yield DataTable(id="allergy-list", cursor_type="row", show_header=False)
                yield Static("none recorded", id="allergy-none", classes="none-yet")
                yield Label("Mixtures (R: reaction)", classes="section")
                yield DataTable(id="history-list", cursor_type="row")
                yield Static("no mixtures yet", id="history-none", classes="none-yet")
        yield Static("", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "mesomix — Patients"
        # At 80 columns the list keeps the whole weight; the details wrap rather than cut.
        columns(self.query_one("#patient-list", DataTable), ("Ref", 6), ("Name", 17), ("Weight", 8))
        allergies = self.query_one("#allergy-list", DataTable)
        allergies.add_column("", width=1, key="chosen")
        allergies.add_column("Allergy", width=ALLERGY_WIDTH - 3, key="allergy")
        history = self.query_one("#history-list", DataTable)
        columns(history, ("Batch", 5), ("Made: mixture", MIXTURE_WIDTH))
        self.query_one("#patient-list", DataTable).focus()  # letters are actions here, not typing
        self._empty(allergies=False, history=False)  # nothing said until a patient is chosen
        self.reload()

    def _empty(self, *, allergies: bool, history: bool) -> None:
        """Words instead of an empty table: 'none recorded' is an answer, a blank is not."""
        self.query_one("#allergy-list", DataTable).display = not allergies
        self.query_one("#allergy-none", Static).display = allergies
        self.query_one("#history-list", DataTable).display = not history
        self.query_one("#history-none", Static).display = history

    @on(Input.Submitted, "#patient-find")
    def _found(self) -> None:
        self.query_one("#patient-list", DataTable).focus()

    # --- loading --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="patients")
    def reload(self) -> None:
        with self.reporting("could not load the patients"):
            patients = self.services.people.patients(self.user.name)
            catalog = self.services.catalog.catalog()
            self.post_message(self.Loaded(patients, catalog))

    def on_patients_screen_loaded(self, message: Loaded) -> None:
        self._words = AllergyWords(message.catalog)
        self._patients = {p.ref: p for p in message.patients}
        self._fill_list()
        if self._chosen in self._patients:
            self._show(self._chosen)

    @on(Input.Changed, "#patient-find")
    def _fill_list(self) -> None:
        typed = self.query_one("#patient-find", Input).value
        table = self.query_one("#patient-list", DataTable)
        with same_row(table):
            table.clear()
            for patient in self._patients.values():
                if matches(typed, patient.name, patient.ref):
                    table.add_row(
                        Text(patient.ref),
                        Text(short(patient.name, 17)),
                        Text(weight_text(patient, missing="—")),
                        key=patient.ref,
                    )
        if table.row_count == 0:  # nothing found: nothing chosen, so no key acts on anyone
            self._chosen = None
            self.query_one("#patient-card", Static).update("No patient matches.")
            self.query_one("#allergy-list", DataTable).clear()
            self.query_one("#history-list", DataTable).clear()
            self._empty(allergies=False, history=False)
            self._batches = []

    @on(DataTable.RowHighlighted, "#patient-list")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self._show(str(event.row_key.value))

    def _show(self, ref: str) -> None:
        self._chosen = ref
        patient = self._patients[ref]
        born = (
            f"born {patient.date_of_birth:%d %b %Y}"
            if patient.date_of_birth
            else "date of birth not recorded"
        )
        self.query_one("#patient-card", Static).update(
            Text(f"{patient.name} ({patient.ref}) · {born} · {weight_text(patient)}")
        )
        allergies = self.query_one("#allergy-list", DataTable)
        with same_row(allergies):
            allergies.clear()
            for allergy in patient.allergies:
                allergies.add_row("", self._words.line(allergy), key=str(allergy.id), height=None)
        self._mark_chosen()
        self._empty(allergies=not patient.allergies, history=False)
        self._history(ref)

    @on(DataTable.RowHighlighted, "#allergy-list")
    def _mark_chosen(self) -> None:
        """The mark on the allergy the actions will act on, and on no other row."""
        table = self.query_one("#allergy-list", DataTable)
        for index, key in enumerate(list(table.rows)):
            mark = CHOSEN if table.has_focus and index == table.cursor_row else ""
            if table.get_cell(key, "chosen") != mark:
                table.update_cell(key, "chosen", mark)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.id == "allergy-list":
            self._mark_chosen()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if event.widget.id == "allergy-list":
            self._mark_chosen()

    @work(thread=True, exclusive=True, group="history")
    def _history(self, ref: str) -> None:
        with self.reporting("could not load the history"):
            self.post_message(
                self.HistoryLoaded(ref, self.services.people.history(self.user.name, ref))
            )

    def on_patients_screen_history_loaded(self, message: HistoryLoaded) -> None:
        if message.ref != self._chosen:
            return
        table = self.query_one("#history-list", DataTable)
        table.clear()
        self._batches = message.history
        self._empty(
            allergies=not self._patients[message.ref].allergies, history=not message.history
        )
        for batch in message.history:
            what = Text(f"{batch.made_at.astimezone(self.services.clock.zone):%Y-%m-%d} ")
            what.append(f"{batch.final_volume_ul / 1000:g} mL", style="bold")
            what.append(f" {batch.purpose}: " if batch.purpose else ": ")
            what.append(batch.contents)
            for signed in batch.overridden:  # a word, not a colour alone
                what.append("\n")
                what.append(OVERRIDDEN, style="bold reverse")
                what.append(f" {signed.head}, {signed.signed}")
            for read in batch.acknowledged:
                what.append("\n")
                what.append(ACKNOWLEDGED, style="bold")
                what.append(f" {read.head}, {read.read}")
            for said in batch.reactions:
                what.append("\n")
                what.append("REACTION", style="bold reverse")
                what.append(f" {said}")
            for lot in batch.recalled:  # in words: the label first printed could not say it
                what.append("\n")
                what.append(RECALLED, style="bold reverse")
                what.append(f" {lot.said}: {lot.why}")
            table.add_row(str(batch.batch_id), what, key=str(batch.batch_id), height=None)

    # --- actions --------------------------------------------------------------------------

    def action_find(self) -> None:
        self.query_one("#patient-find", Input).focus()

    def _chosen_batch(self, patient: PatientSummary, what: str) -> BatchSummary | None:
        """The mixture under the history's cursor, or None, said."""
        if not self._batches:
            self.say(f"{patient.name} has no mixtures yet: there is no {what}.", error=True)
            return None
        row = self.query_one("#history-list", DataTable).cursor_row
        if not 0 <= row < len(self._batches):
            self.say("Choose a mixture in the history first.", error=True)
            return None
        return self._batches[row]

    def action_reaction(self) -> None:
        """A reaction after the mixture chosen in the history."""
        patient = self._patient_or_say()
        if patient is None:
            return
        batch = self._chosen_batch(patient, "mixture to react to")
        if batch is not None:
            form = reaction_form(self.services, self.user.name, patient, batch.batch_id)
            self.ask(form, self.reload)

    def action_decide(self) -> None:
        """The patient's reactions that wait for a practitioner, read in a worker, then the
        form to decide one."""
        if (patient := self._patient_or_say()) is not None:
            self._waiting(patient.ref)

    @work(thread=True, exclusive=True, group="reactions")
    def _waiting(self, ref: str) -> None:
        with self.reporting("could not read the reactions"):
            found = self.services.reactions.reactions(self.user.name, ref)
            self.post_message(self.ReactionsLoaded(ref, found))

    def on_patients_screen_reactions_loaded(self, message: ReactionsLoaded) -> None:
        patient = self._patients.get(message.ref)
        if patient is None or message.ref != self._chosen:
            return
        waiting = [v for v in message.reactions if not v.confirmed_by or v.proposed]
        if not waiting:
            self.say(f"No reaction of {patient.name} waits for a decision.", error=True)
            return
        self.ask(decide_form(self.services, self.user.name, patient, waiting), self.reload)

    @on(DataTable.RowSelected, "#history-list")
    def action_label(self) -> None:
        """The label of the mixture chosen in the history: to read, save or print again."""
        patient = self._patient_or_say()
        if patient is None:
            return
        batch = self._chosen_batch(patient, "label")
        if batch is None:
            return
        self.app.push_screen(
            LabelScreen(
                self.services.labels,
                self.user.name,
                batch.batch_id,
                batch.label,
                f"Batch {batch.batch_id} — {batch.made_at.astimezone(self.services.clock.zone):%Y-%m-%d %H:%M}",
            )
        )

    def _patient_or_say(self) -> PatientSummary | None:
        if self._chosen is None:
            self.say("Choose a patient first.", error=True)
            return None
        return self._patients[self._chosen]

    def _chosen_allergy(self, patient: PatientSummary) -> Allergy | None:
        """The allergy the person chose: the one under the cursor while the allergy list has
        focus. A cursor left on some row while the patient list had focus chooses nothing."""
        table = self.query_one("#allergy-list", DataTable)
        if not table.has_focus or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return next((a for a in patient.allergies if str(a.id) == key), None)

    def _choose_in_list(self, allergy: Allergy, said: str) -> None:
        """Several allergies could be meant: the list takes focus on the first, to choose."""
        table = self.query_one("#allergy-list", DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(str(allergy.id)))
        self.say(said)

    def action_new_patient(self) -> None:
        self.ask(new_patient_form(self.services, self.user.name), self.reload)

    def action_weight(self) -> None:
        if (patient := self._patient_or_say()) is not None:
            self.ask(weight_form(self.services, self.user.name, patient), self.reload)

    def action_add_allergy(self) -> None:
        if (patient := self._patient_or_say()) is not None:
            self.ask(allergy_form(self.services, self.user.name, patient), self.reload)

    def action_code_allergy(self) -> None:
        patient = self._patient_or_say()
        if patient is None:
            return
        words = self._words
        chosen = self._chosen_allergy(patient)
        if chosen is not None and words.statement(chosen):
            self.say(
                f"{words.allergen(chosen)} says no allergy is known: there is no allergen to "
                "code. Record the allergy itself (a).",
                error=True,
            )
            return
        if chosen is not None and chosen.coded:
            self.say(f"{words.allergen(chosen)} is coded already: nothing to code.", error=True)
            return
        if chosen is None:  # from the patient list: the first allergy kept as free text
            chosen = next((a for a in patient.allergies if words.needs_coding(a)), None)
        if chosen is None:
            self.say(f"No allergy of {patient.name} needs coding.", error=True)
            return
        if chosen.id is None:
            return
        form = code_form(self.services, self.user.name, patient, chosen.id, words.allergen(chosen))
        self.ask(form, self.reload)

    def action_verify(self, verification: str) -> None:
        """Confirm (v) or refute (x) through a form that names the allergy and the patient:
        refuting takes the allergy out of every future check, so it asks why."""
        patient = self._patient_or_say()
        if patient is None:
            return
        if not patient.allergies:
            self.say(f"{patient.name} has no allergy recorded.", error=True)
            return
        allergy = self._chosen_allergy(patient)
        if allergy is None:  # from the patient list: only when one allergy can be meant
            others = [a for a in patient.allergies if a.verification != verification]
            if not others:
                self.say(f"Every allergy of {patient.name} is {verification} already.", error=True)
                return
            if len(others) > 1:
                key = "x" if verification == "refuted" else "v"
                self._choose_in_list(
                    others[0],
                    f"{patient.name} has {len(others)} allergies not {verification}: "
                    f"choose one, then press {key}.",
                )
                return
            allergy = others[0]
        if allergy.verification == verification:
            self.say(f"{self._words.allergen(allergy)} is {verification} already.", error=True)
            return
        if allergy.id is None:
            return
        form = verify_form(
            self.services, self.user.name, self._words, patient, allergy, allergy.id, verification
        )
        self.ask(form, self.reload)
