"""Patients: find a patient, see weight, allergies and the mixtures they received (and any
block signed off to make them); practitioners record weights and allergies, code free text,
confirm or refute — each through a form naming the allergy and the patient.

Everything shown comes from the services in workers; every change goes through a form whose
submit calls a service, which checks the role and writes the audit row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from mesomix.bootstrap import Services
from mesomix.domain.allergy import CRITICALITIES, VERIFICATIONS, Allergy
from mesomix.domain.catalog import Catalog
from mesomix.domain.permissions import Action
from mesomix.services.accounts import SignedIn
from mesomix.services.errors import ServiceError
from mesomix.services.labels import ACKNOWLEDGED, OVERRIDDEN, RECALLED
from mesomix.services.people import BatchSummary, PatientSummary, WeightToConfirm
from mesomix.tui.screens.base import WorkScreen, columns, matches, same_row, short
from mesomix.tui.screens.label import LabelScreen
from mesomix.tui.widgets.form import Form, FormField, Values

ALLERGY_WIDTH = 36  # the detail pane's width at 80 columns, less padding and scroll bar
# Marks the allergy that v, x and c act on (the cursor's row while the list has focus): a
# character as well as the cursor's colour.
CHOSEN = "▶"
MIXTURE_WIDTH = 29  # the date leads the mixture's cell: a signed-off block has room to wrap
_SEVERITIES = (("not said", ""), ("mild", "mild"), ("moderate", "moderate"), ("severe", "severe"))


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


class PatientsScreen(WorkScreen):
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
    }

    @dataclass
    class Loaded(Message):
        patients: list[PatientSummary]
        catalog: Catalog

    @dataclass
    class HistoryLoaded(Message):
        ref: str
        history: list[BatchSummary]

    def __init__(self, services: Services, user: SignedIn) -> None:
        super().__init__(services, user)
        self._patients: dict[str, PatientSummary] = {}
        self._catalog: Catalog | None = None
        self._chosen: str | None = None
        self._batches: list[BatchSummary] = []  # the chosen patient's, as the table lists them

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(
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
                yield Label("Mixtures received", classes="section")
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
        columns(
            self.query_one("#history-list", DataTable),
            ("Batch", 5), ("Made: mixture", MIXTURE_WIDTH),
        )  # fmt: skip
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
        self._catalog = message.catalog
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
                        Text(_weight(patient, missing="—")),
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
            Text(f"{patient.name} ({patient.ref}) · {born} · {_weight(patient)}")
        )
        allergies = self.query_one("#allergy-list", DataTable)
        with same_row(allergies):
            allergies.clear()
            for allergy in patient.allergies:
                allergies.add_row("", self._allergy_line(allergy), key=str(allergy.id), height=None)
        self._mark_chosen()
        self._empty(allergies=not patient.allergies, history=False)
        self._history(ref)

    def _statement(self, allergy: Allergy) -> bool:
        """A "no known allergy" statement: never an allergen, never coded."""
        return self._catalog is not None and allergy.no_known(self._catalog) is not None

    def _unrelated(self, allergy: Allergy) -> str:
        """Its code, when known to relate to nothing mesomix holds: there is nothing to code."""
        found = allergy.unrelated(self._catalog) if self._catalog else None
        return str(replace(found.coding, display="")) if found else ""

    def _needs_coding(self, allergy: Allergy) -> bool:
        return not allergy.coded and not self._statement(allergy) and not self._unrelated(allergy)

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

    def _allergen(self, allergy: Allergy) -> str:
        label = allergy.label(self._catalog) if self._catalog else allergy.text
        if code := self._unrelated(allergy):
            return f"{label} ({code}: relates to nothing mesomix holds)"
        return f"{label} (not coded)" if self._needs_coding(allergy) else label

    def _allergy_line(self, allergy: Allergy) -> Text:
        """The allergen, then how sure and how serious, then the reaction: wrapped to the
        column, never cut (criticality is what a practitioner reads first after the name)."""
        if self._statement(allergy):
            return self._statement_line(allergy)
        refuted = allergy.verification == "refuted"
        line = Text(self._allergen(allergy), style="strike dim" if refuted else "bold")
        line.append(f" · {allergy.verification}")
        if not refuted:
            line.append(" · criticality ")
            line.append(allergy.criticality, style="bold" if allergy.criticality != "low" else "")
        reactions = "; ".join(r.manifestation for r in allergy.reactions)
        if reactions:
            line.append(f" · {reactions}")
        if allergy.clinical_status != "active":
            line.append(f" · {allergy.clinical_status}: no longer current")
        return line

    def _statement_line(self, allergy: Allergy) -> Text:
        """A statement in words: what it says, and whether it still stands."""
        name = allergy.label(self._catalog) if self._catalog else allergy.text
        if allergy.clinical_status == "active" and allergy.verification not in (
            "refuted",
            "entered-in-error",
        ):
            line = Text(name, style="bold")
            line.append(f" · {allergy.verification} · a statement, not an allergen: none known")
        else:
            line = Text(name, style="strike dim")
            line.append(" · SET ASIDE: an allergy of that kind is recorded · kept for the history")
        return line

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
            for lot in batch.recalled:  # in words: the label first printed could not say it
                what.append("\n")
                what.append(RECALLED, style="bold reverse")
                what.append(f" {lot.said}: {lot.why}")
            table.add_row(str(batch.batch_id), what, key=str(batch.batch_id), height=None)

    # --- actions --------------------------------------------------------------------------

    def action_find(self) -> None:
        self.query_one("#patient-find", Input).focus()

    @on(DataTable.RowSelected, "#history-list")
    def action_label(self) -> None:
        """The label of the mixture chosen in the history: to read, save or print again."""
        patient = self._patient_or_say()
        if patient is None:
            return
        if not self._batches:
            self.say(f"{patient.name} has no mixtures yet: there is no label.", error=True)
            return
        row = self.query_one("#history-list", DataTable).cursor_row
        if not 0 <= row < len(self._batches):
            self.say("Choose a mixture in the history first.", error=True)
            return
        batch = self._batches[row]
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
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return next((a for a in patient.allergies if str(a.id) == key), None)

    def _choose_in_list(self, allergy: Allergy, said: str) -> None:
        """Several allergies could be meant: the list takes focus on the first, to choose."""
        table = self.query_one("#allergy-list", DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(str(allergy.id)))
        self.say(said)

    def action_new_patient(self) -> None:
        people, user = self.services.people, self.user.name

        def submit(values: Values) -> str:
            people.add_patient(
                user, values["ref"], values["name"], values["born"], values["weight"]
            )
            return f"Patient {values['ref'].strip()} added."

        self.ask(
            Form(
                "New patient",
                [
                    FormField("ref", "Reference", "e.g. P-1042"),
                    FormField("name", "Name"),
                    FormField("born", "Born", "YYYY-MM-DD"),
                    FormField("weight", "Weight", "e.g. 70 kg"),
                ],
                submit,
                # Problems said as the fields are typed; a refusal goes as the person types on.
                check=lambda values: (
                    people.check_born(values["born"]) + people.check_weight(values["weight"], None)
                ),
                go="Add",
            ),
            self.reload,
        )

    def action_weight(self) -> None:
        patient = self._patient_or_say()
        if patient is None:
            return
        people, user = self.services.people, self.user.name
        asked: list[str] = []  # the weight questioned: saving it again as typed confirms it

        def submit(values: Values) -> str:
            typed = values["weight"].strip()
            try:
                people.set_weight(user, patient.ref, typed, confirmed=asked == [typed])
            except WeightToConfirm as exc:
                asked[:] = [typed]  # only this weight: another one submitted is asked afresh
                raise ServiceError(
                    f"{exc}. Is it right? Save again to record it, or correct it "
                    "(Escape writes nothing)."
                ) from None
            return f"Weight of {patient.name} recorded."

        self.ask(
            Form(
                f"Weight of {patient.name}",
                [FormField("weight", "Weight", "e.g. 70 kg", value="")],
                submit,
                check=lambda values: people.check_weight(values["weight"], patient.weight_kg),
                intro=f"Now: {_weight(patient)}",
            ),
            self.reload,
        )

    def action_add_allergy(self) -> None:
        patient = self._patient_or_say()
        if patient is None:
            return
        allergies, user = self.services.allergies, self.user.name

        def submit(values: Values) -> str:
            allergies.record_typed(
                patient.ref,
                user,
                values["allergen"],
                values["verification"],
                values["criticality"],
                values["reaction"],
                values["severity"],
                values["note"],
            )
            return f"Allergy recorded for {patient.name}."

        self.ask(
            Form(
                f"Allergy of {patient.name}",
                [
                    FormField("allergen", "Allergic to", "substance, group, or as told"),
                    FormField("verification", "Verification", choices=_choices(VERIFICATIONS)),
                    FormField(
                        "criticality",
                        "Criticality",
                        choices=_choices(CRITICALITIES),
                        value="unable-to-assess",
                    ),
                    FormField("reaction", "Reaction", "e.g. urticaria"),
                    FormField("severity", "Severity", choices=_SEVERITIES),
                    FormField("note", "Note"),
                ],
                submit,
                go="Record",
                intro="A name that matches nothing is kept as typed, shown 'not coded', "
                "and raises a finding until coded.",
                check=_nothing_to_say,  # a refusal goes once the allergen is typed again
                hint=lambda values: allergies.meaning(values["allergen"]),
            ),
            self.reload,
        )

    def action_code_allergy(self) -> None:
        patient = self._patient_or_say()
        if patient is None:
            return
        chosen = self._chosen_allergy(patient)
        if chosen is not None and self._statement(chosen):
            self.say(
                f"{self._allergen(chosen)} says no allergy is known: there is no allergen to "
                "code. Record the allergy itself (a).",
                error=True,
            )
            return
        if chosen is not None and chosen.coded:
            self.say(f"{self._allergen(chosen)} is coded already: nothing to code.", error=True)
            return
        if chosen is None:  # from the patient list: the first allergy kept as free text
            chosen = next((a for a in patient.allergies if self._needs_coding(a)), None)
        if chosen is None:
            self.say(f"No allergy of {patient.name} needs coding.", error=True)
            return
        allergy_id = chosen.id
        if allergy_id is None:
            return
        allergies, user = self.services.allergies, self.user.name

        def submit(values: Values) -> str:
            allergies.code_typed(allergy_id, user, values["allergen"])
            return "Allergy coded: it is checked against every mixture from now on."

        self.ask(
            Form(
                "Code an allergy",
                [FormField("allergen", "Means", "substance or allergen group")],
                submit,
                go="Code",
                intro=f"As recorded for {patient.name} ({patient.ref}): {self._allergen(chosen)}",
                check=_nothing_to_say,  # "'prilocaine' is not one substance…" goes as one types
                hint=lambda values: allergies.meaning(values["allergen"]),
            ),
            self.reload,
        )  # fmt: skip

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
            self.say(f"{self._allergen(allergy)} is {verification} already.", error=True)
            return
        if allergy.id is None:
            return
        self.ask(self._verify_form(patient, allergy, allergy.id, verification), self.reload)

    def _verify_form(
        self, patient: PatientSummary, allergy: Allergy, allergy_id: int, verification: str
    ) -> Form:
        allergies, user = self.services.allergies, self.user.name
        allergen = self._allergen(allergy)
        whose = (
            f"{allergen}: allergy of {patient.name} ({patient.ref}), now {allergy.verification}."
        )

        def submit(values: Values) -> str:
            allergies.set_verification(allergy_id, user, verification, values["reason"])
            return f"{allergen} of {patient.name} marked {verification}."

        if verification == "refuted":
            return Form(
                "Refute an allergy",
                [FormField("reason", "Reason", "needed: e.g. tolerated it in 2026, test negative")],
                submit,
                go="Refute",
                intro=f"{whose}\nRefuted, it no longer blocks or warns on any mixture for them. "
                "The reason is kept in the allergy's note and the audit trail.",
            )
        if self._statement(allergy):
            effect = "A statement that no allergy of this kind is known: it never blocks or warns."
        elif not allergy.coded:
            effect = (
                "Not coded: it is checked only where its words clearly name a substance or "
                "group — code it (c) to check it in full."
            )
        elif allergy.criticality in ("high", "unable-to-assess"):
            effect = (
                f"Confirmed, criticality {allergy.criticality}: it blocks every mixture with it."
            )
        else:
            effect = (
                f"Confirmed, criticality {allergy.criticality}: it warns on every mixture with it."
            )
        return Form(
            "Confirm an allergy",
            [FormField("reason", "Reason", "optional: how it was confirmed")],
            submit,
            go="Confirm",
            intro=f"{whose}\n{effect}",
        )


def _nothing_to_say(values: Values) -> list[str]:
    """The check of a form whose fields are judged only on submit: typing clears a refusal
    (the hint already says what the typed text will be taken to mean)."""
    return []


def _weight(patient: PatientSummary, missing: str = "weight not recorded") -> str:
    if patient.weight_kg is None:
        return missing
    return f"{patient.weight_kg.normalize():f} kg"
