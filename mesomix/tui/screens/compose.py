"""Compose: pick a patient, type ingredients, watch the plan and findings, dispense.

The screen only gathers text and shows results: checking and dispensing run in thread workers that
call the services and post messages back; nothing here parses a quantity or opens a session.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import ClassVar

from rich.console import RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Footer, Header, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from mesomix.bootstrap import Services
from mesomix.domain.allergy import Allergy
from mesomix.domain.catalog import Catalog
from mesomix.domain.findings import Finding, Severity
from mesomix.domain.mixture import (
    DEFAULT_DILUENT,
    PURPOSES,
    DraftIngredient,
    DraftMixture,
    Plan,
)
from mesomix.domain.permissions import Action, Role, may_do
from mesomix.domain.search import Hit
from mesomix.domain.units import format_quantity
from mesomix.services.accounts import SignedIn
from mesomix.services.errors import ServiceError
from mesomix.services.mixtures import DispenseRefused, DispenseResult, Signature
from mesomix.services.people import PatientSummary
from mesomix.tui.messages import Unfinished
from mesomix.tui.screens.acknowledge import AcknowledgeScreen
from mesomix.tui.screens.label import LabelScreen
from mesomix.tui.screens.override import OverrideScreen
from mesomix.tui.widgets.form import Form, FormField, FormScreen, Values
from mesomix.tui.widgets.lines import LineView

STARTING_ROWS = 3
PICKS = 8  # names offered for an ingredient typed, to pick from with the arrows
CHECK_AFTER = 0.1  # seconds without a keystroke before the mixture is checked (typing: once)
DRAW_WIDTH = 7  # "12.5 mL": the rest of the plan's width is the product and what it delivers
PlanRow = tuple[str, str, str]  # (draw, product, what it delivers)
# How a mixture is kept until given: (shown, storage, compounding category).
KEEPING = {
    "room": ("room temp.", "room", "category_1"),
    "refrigerated": ("refrigerated", "refrigerated", "category_1"),
    "immediate": ("immediate use", "room", "immediate_use"),
}


def _sign_note(finding: Finding, signed: set[str]) -> str:
    if finding.key in signed:
        return " — SIGNED OFF for this mixture"
    if finding.severity is Severity.BLOCK and finding.overridable:
        return " — a practitioner may override (F8)"
    return ""


def _pick(name: str, chosen: bool) -> Text:
    """A name offered for an ingredient; the one Ctrl+Space takes is marked ▶, not only lit."""
    return Text(f"{'▶' if chosen else ' '} {name}")


def plan_line(row: PlanRow, bold: bool = False) -> Table:
    """A draw, then its product's whole name with what it delivers beneath (strength, size and
    preservative are at the end of a name), wrapped beside the draw."""
    draw, product, delivers = row
    source = Text(product)
    if delivers:
        source.append(f"\n{delivers}", style="dim")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=DRAW_WIDTH, no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row(Text(draw, style="bold" if bold else ""), source)
    return grid


class PlanView(LineView):
    """The plan, a draw a line (the final volume in bold, every other line striped as a table
    has them): a keystroke that changes one draw redraws that line alone."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"plan-view--odd"}

    def show_rows(self, rows: list[PlanRow], bold_last: bool) -> None:
        last = len(rows) - 1
        self.show(
            ((row, bold_last and y == last), "plan-view--odd" if y % 2 else "")
            for y, row in enumerate(rows)
        )

    def draw(self, entry: Hashable) -> RenderableType:
        row, bold = entry  # type: ignore[misc]
        return plan_line(row, bold)

    @property
    def rows(self) -> list[PlanRow]:
        return [entry[0] for entry, _ in self.entries]  # type: ignore[index]


class FindingsView(LineView):
    """The findings, most severe first, each wrapped whole (a warning cut to a line could not be
    read) and marked by its word and its colour."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        f"findings-view--{severity.value}" for severity in Severity
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tall = 0  # the lines the box was last sized to

    def show_findings(self, lines: list[tuple[str, str]]) -> None:
        """(text, severity value) a finding."""
        self.show((text, f"findings-view--{severity}") for text, severity in lines)

    def refit(self) -> None:
        """For the next mixture: the box shrinks to the findings it shows, once."""
        self._tall = 0
        self._render()

    def _render(self) -> None:
        """The box is as tall as its findings (up to half the column, the stylesheet's; the plan
        has the rest): it grows at once, and shrinks only for the next mixture — not back and
        forth while an amount is typed, which would lay the screen out on every check."""
        super()._render()
        tall = max(self.line_count, 1)
        if self._width and tall > self._tall:
            self._tall = tall
            self.styles.height = tall

    def draw(self, entry: Hashable) -> RenderableType:
        return Padding(Text(str(entry)), (0, 1))

    @property
    def texts(self) -> list[str]:
        return [str(entry) for entry, _ in self.entries]


class IngredientRow(Vertical):
    """One ingredient: what (substance or product) and how much, as typed — on two lines, so
    the name has the column's whole width. While names are offered for what it holds, the
    arrows move among them (otherwise they scroll the column, as before)."""

    BINDINGS = [
        Binding("up", "pick(-1)", "Previous name", show=False),
        Binding("down", "pick(1)", "Next name", show=False),
    ]

    def __init__(self, suggester: SuggestFromList | None) -> None:
        super().__init__(classes="ingredient-row")
        self._suggester = suggester
        self._chosen: tuple[str, str] | None = None  # (name shown, product code) from a formula
        self._what = Input(
            placeholder="ingredient", classes="what", suggester=suggester, compact=True
        )
        self._amount = Input(placeholder="e.g. 40 mg", classes="amount", compact=True)

    def suggest(self, suggester: SuggestFromList | None) -> None:
        """The catalogue's names, once read, complete what is typed (Right takes them)."""
        self._suggester = suggester
        self._what.suggester = suggester

    def choose(self, item: DraftIngredient | None) -> None:
        """Show an ingredient; a product a formula names stays chosen while its name is unedited."""
        self._what.value, self._amount.value = (item.what, item.amount) if item else ("", "")
        self._chosen = (item.what, item.product) if item and item.product else None

    def compose(self) -> ComposeResult:
        yield self._what
        yield self._amount

    def action_pick(self, step: int) -> None:
        screen = self.screen
        if not (isinstance(screen, ComposeScreen) and screen.move_pick(self._what, step)):
            raise SkipAction()

    @property
    def typed(self) -> bool:
        return bool(self._what.value.strip() or self._amount.value.strip())

    def ingredient(self) -> DraftIngredient:
        """What the row holds, read from its fields (kept, not queried: read on every key)."""
        what = self._what.value
        product = self._chosen[1] if self._chosen and self._chosen[0] == what else None
        return DraftIngredient(what, self._amount.value, product)


class ComposeScreen(Screen[None]):
    BINDINGS = [
        # A word in the footer; what it does in Help and the palette (the tooltip).
        Binding("f9", "dispense", "Dispense", id="compose.dispense",
                tooltip="Dispense the mixture: take the stock from its lots, then the label"),
        Binding("f8", "override", "Override", id="compose.override",
                tooltip="Override: a practitioner signs off an allergy or dose block"),
        Binding("ctrl+n", "add_ingredient", "Add ingredient", id="compose.add",
                tooltip="Add an ingredient row"),
        Binding("f7", "save_formula", "Save formula", id="compose.save_formula",
                tooltip="Save this mixture as a formula, or a new version of one"),
        Binding("ctrl+r", "remove_ingredient", "Remove ingredient", id="compose.remove",
                show=False, tooltip="Remove the ingredient row the cursor is in"),
        # Terminals send Ctrl+Space as NUL, which Textual reads as ctrl+@.
        Binding("ctrl+space,ctrl+@", "take_hint", "Take suggestion", id="compose.take_hint",
                show=False, tooltip="Take the first suggested name for the ingredient typed"),
    ]  # fmt: skip

    # Saving a formula is a practitioner's: not offered to staff (footer, palette, help).
    NEEDS: ClassVar[dict[str, Action]] = {"save_formula": Action.EDIT_FORMULAS}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return may_do(Role(self.user.role), self.NEEDS, action)

    @dataclass
    class Loaded(Message):
        catalog: Catalog
        patients: list[PatientSummary]
        practitioners: list[tuple[str, str]]

    @dataclass
    class PatientsRead(Message):
        patients: list[PatientSummary]

    @dataclass
    class Checked(Message):
        plan: Plan

    @dataclass
    class Hinted(Message):
        field: Input
        typed: str
        hits: list[Hit]

    @dataclass
    class Dispensed(Message):
        result: DispenseResult

    @dataclass
    class Unread(Message):
        """The dispense's re-check found warnings not acknowledged (the shelf or the patient
        changed since the check shown): they are asked again."""

        draft: DraftMixture
        warnings: list[Finding]

    @dataclass
    class Failed(Message):
        message: str
        recheck: bool = False  # after a failed dispense the shelf may have changed

    def __init__(self, services: Services, user: SignedIn) -> None:
        super().__init__()
        self.services = services
        self.user = user  # who is signed in: they make the mixture
        self._patients: dict[str, PatientSummary] = {}
        self._suggester: SuggestFromList | None = None
        self._plan: Plan | None = None
        self._signatures: list[Signature] = []  # for this draft only; cleared on any change
        self._practitioners: list[tuple[str, str]] = []
        self._catalog: Catalog | None = None
        self._busy = False
        self._shown: tuple[object, ...] = ()  # what the plan and findings show now
        self._plan_view = PlanView(id="plan")  # kept, not queried: redrawn on every check
        self._findings_view = FindingsView(id="findings")
        self._origin: DraftMixture | None = None  # the formula's draft this one started from
        self._pending: DraftMixture | None = None  # to load once the catalogue is here
        self._hints: list[tuple[Input, str]] = []  # (field, name) the search offers for it
        self._away = False  # left for another screen: patients and stock may have changed
        self._told = ""  # what the app was last told is unfinished here
        self._said = False  # the status line holds something
        self._origin_name = ""  # the name of the formula the mixture was started from
        self._filling = False  # a formula's draft is being written into the fields
        self._check_due = 0.0  # when the check is due: CHECK_AFTER after the last change
        self._checker: Worker[None] | None = None  # waiting for a pause, or checking
        self._to_search: tuple[Input, str] | None = None  # (field, name) typed, not searched yet
        self._searcher: Worker[None] | None = None  # searching the names typed

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="people"):
            yield Select[str]([], prompt="Patient", id="patient", compact=True)
            yield Select[str](
                [(purpose, purpose) for purpose in PURPOSES],
                prompt="Purpose",
                id="purpose",
                compact=True,
            )
            # Who ordered the mixture (an active practitioner): on the batch, its label, reports.
            yield Select[str]([], prompt="Ordered by", id="prescriber", compact=True)
            yield Label(Text(f"made by {self.user.display_name}"), id="made-by")
        yield Static("Choose a patient.", id="patient-info")
        with Horizontal(id="work"):
            with VerticalScroll(id="ingredients", can_focus=False):
                yield Label("Ingredients", classes="section")
                # There from the first frame: nothing is mounted, and no focus moves, when the
                # catalogue arrives (the names' suggestions come with it).
                for _ in range(STARTING_ROWS):
                    yield IngredientRow(None)
                yield Static("", id="ingredient-hint")
            with Vertical(id="results"):
                # The names a typed ingredient may mean, to pick with the arrows and Ctrl+Space;
                # never focused: the cursor stays in the field typed in.
                picks = OptionList(id="picks", compact=True)
                picks.can_focus = False
                yield picks
                # The plan and findings are in the Tab order so the arrows can scroll them.
                yield Static(plan_line(("Draw", "from → delivers", "")), id="plan-head")
                yield self._plan_view
                yield self._findings_view
        with Horizontal(id="bottom"):
            yield Label("Final volume", id="final-label")
            # No number here: a grey "5 mL" was read as a volume already set.
            yield Input(placeholder="as drawn", id="final-volume", compact=True)
            yield Select[str]([], prompt="q.s. default", id="diluent", compact=True)
            yield Select[str](
                # How it is kept until given sets the beyond-use date (data/beyond_use.toml).
                [(shown, value) for value, (shown, _, _) in KEEPING.items()],
                value="room",
                allow_blank=False,
                id="storage",
                compact=True,
            )
            yield Button(
                "Blocked (F9)", id="dispense", variant="success", disabled=True, compact=True
            )
        yield Static("", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "mesomix — Compose"
        self.query_one("#patient", Select).focus()
        self._load()

    @property
    def takes_keys(self) -> bool:
        """Not while dispensing, nor while a formula's draft is being filled in: keys typed then
        wait, and go nowhere if the screen has moved on (tui/keys.py)."""
        return not (self._busy or self._filling)

    @work(thread=True, exclusive=True, group="load")
    def _load(self) -> None:
        try:
            catalog = self.services.catalog.catalog()
            self.services.catalog.search_index()  # built here, so typing never waits for it
            patients = self.services.people.patients(self.user.name)
            practitioners = self.services.people.practitioners()
        except Exception as exc:  # a worker reports; it never takes the app down
            self.post_message(self.Failed(f"could not load the catalogue and patients: {exc}"))
            return
        self.post_message(self.Loaded(catalog, patients, practitioners))

    def on_compose_screen_loaded(self, message: Loaded) -> None:
        catalog = self._catalog = message.catalog
        self._practitioners = message.practitioners
        self._offer_prescribers()
        names = sorted(
            {s.name for s in catalog.substances.values()}
            | {p.name for p in catalog.products.values()}
        )
        self._suggester = SuggestFromList(names, case_sensitive=False)
        self._patients = {p.ref: p for p in message.patients}
        self.query_one("#patient", Select).set_options(
            (Text(f"{p.name} ({p.ref})"), p.ref) for p in message.patients
        )
        diluents = self.query_one("#diluent", Select)
        diluents.set_options((Text(p.name), p.code) for p in catalog.diluents())
        default = catalog.products.get(DEFAULT_DILUENT)
        if default is not None:  # none chosen is this one: the plan names it whole
            diluents.tooltip = f"Diluent for the q.s.; left unchosen: {default.name}"
        for row in self.query(IngredientRow):
            row.suggest(self._suggester)
        if self._pending is not None:
            self.load(self._pending)
        self._recheck()

    def _offer_prescribers(self) -> None:
        """The practitioners on record to choose from; a practitioner making it ordered it
        unless they choose someone else."""
        picker = self.query_one("#prescriber", Select)
        picker.set_options((Text(shown), name) for shown, name in self._practitioners)
        if any(name == self.user.name for _, name in self._practitioners):
            picker.value = self.user.name

    def on_screen_suspend(self) -> None:
        self._away = not isinstance(self.app.screen, ModalScreen)

    def on_screen_resume(self) -> None:
        """Back from another screen, where a patient's allergies or weight, or the stock, may
        have changed: the patients are read again and the mixture re-checked."""
        if self._away and self._catalog is not None:
            self._away = False
            self._reload_patients()

    @work(thread=True, exclusive=True, group="patients")
    def _reload_patients(self) -> None:
        try:
            patients = self.services.people.patients(self.user.name)
        except Exception as exc:  # a worker reports; it never takes the app down
            self.post_message(self.Failed(f"could not read the patients again: {exc}"))
            return
        self.post_message(self.PatientsRead(patients))

    def on_compose_screen_patients_read(self, message: PatientsRead) -> None:
        before = [(p.ref, p.name) for p in self._patients.values()]
        self._patients = {p.ref: p for p in message.patients}
        picker = self.query_one("#patient", Select)
        chosen = picker.value
        if [(p.ref, p.name) for p in message.patients] != before:  # added or renamed
            picker.set_options((Text(f"{p.name} ({p.ref})"), p.ref) for p in message.patients)
            if isinstance(chosen, str) and chosen in self._patients:
                picker.value = chosen
        self._show_patient(chosen)
        self._recheck()

    # --- gathering the draft --------------------------------------------------------------

    def draft(self) -> DraftMixture:
        patient = self.query_one("#patient", Select).value
        diluent = self.query_one("#diluent", Select).value
        storage = self.query_one("#storage", Select).value
        _, kept, category = KEEPING[storage if isinstance(storage, str) else "room"]
        purpose = self.query_one("#purpose", Select).value
        prescriber = self.query_one("#prescriber", Select).value
        return DraftMixture(
            ingredients=tuple(row.ingredient() for row in self._rows()),
            final_volume=self.query_one("#final-volume", Input).value,
            diluent=diluent if isinstance(diluent, str) else None,
            patient=patient if isinstance(patient, str) else None,
            storage=kept,
            category=category,
            purpose=purpose if isinstance(purpose, str) else "",
            prescriber=prescriber if isinstance(prescriber, str) else None,
            formula_version=self._origin.formula_version if self._origin else None,
        )

    def _rows(self) -> Iterator[IngredientRow]:
        """The ingredient rows, in order (their container's children: not a query of the DOM,
        which cost as much as the rest of a keystroke)."""
        for row in self.query_one("#ingredients").children:
            if isinstance(row, IngredientRow):
                yield row

    def load(self, draft: DraftMixture) -> None:
        """Fill the screen from a draft (a formula started for a patient); the batch will record
        the formula version it came from."""
        self._filling = True  # until _fill: keys typed meanwhile wait
        if self._catalog is None:
            self._pending = draft
            return
        self._pending, self._origin, self._origin_name = None, draft, ""
        self._findings_view.refit()  # a new mixture: the box fits its own findings
        if draft.formula_version is not None:
            self._name_origin(draft.formula_version)
        self.run_worker(self._rows_for(draft), exclusive=True, group="load")

    async def _rows_for(self, draft: DraftMixture) -> None:
        """Rows enough for every ingredient, filled once they are mounted (a row's fields exist
        only then)."""
        try:
            missing = len(draft.ingredients) - len(self.query(IngredientRow))
            if missing > 0:
                await self.query_one("#ingredients").mount_all(
                    (IngredientRow(self._suggester) for _ in range(missing)),
                    before="#ingredient-hint",
                )
            self._fill(draft)
        finally:
            self._filling = False

    def _fill(self, draft: DraftMixture) -> None:
        items = list(draft.ingredients)
        for position, row in enumerate(self.query(IngredientRow)):
            row.choose(items[position] if position < len(items) else None)
        self.query_one("#final-volume", Input).value = draft.final_volume
        if draft.patient:
            self.query_one("#patient", Select).value = draft.patient
        if draft.diluent:
            self.query_one("#diluent", Select).value = draft.diluent
        self.query_one("#storage", Select).value = next(
            (key for key, (_, kept, cat) in KEEPING.items() if (kept, cat) == (draft.storage, draft.category)),
            "room",
        )  # fmt: skip
        self.query_one("#purpose", Select).value = draft.purpose or Select.BLANK
        if draft.prescriber:
            self.query_one("#prescriber", Select).value = draft.prescriber
        self._say("Started from a formula: check the amounts, then dispense (F9).")

    @work(thread=True, exclusive=True, group="origin")
    def _name_origin(self, version_id: int) -> None:
        """The formula's name, so that F7 saves a new version of it rather than another."""
        try:
            name = self.services.formulas.name_of_version(self.user.name, version_id)
        except Exception:  # F7 then asks for the name, as for any mixture
            return
        self.app.call_from_thread(setattr, self, "_origin_name", name)

    def action_add_ingredient(self) -> None:
        row = IngredientRow(self._suggester)
        self.query_one("#ingredients").mount(row, before="#ingredient-hint")
        row.call_after_refresh(lambda: row.query_one(".what", Input).focus())

    def action_remove_ingredient(self) -> None:
        focused = self.focused
        row = next(
            (a for a in (focused.ancestors if focused else []) if isinstance(a, IngredientRow)),
            None,
        )
        if row is not None:
            rows = list(self.query(IngredientRow))
            at = rows.index(row)
            nearest = rows[at - 1] if at > 0 else (rows[1] if len(rows) > 1 else None)
            row.remove()
            if nearest is not None:  # the cursor stays among the ingredients
                nearest.query_one(".what", Input).focus()
            self.call_after_refresh(self._changed)

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self, event: Input.Changed | Select.Changed | None = None) -> None:
        """Any change to the draft: signatures were for the mixture as it was, so they go.
        (The purpose and who ordered it are only recorded: they change neither the checks nor
        the signatures.)"""
        if isinstance(event, Select.Changed) and event.select.id in ("purpose", "prescriber"):
            return
        if (
            self._said
            and isinstance(event, Input.Changed)
            and event.input.has_focus
            and event.value
        ):
            # What was said belongs to what was done: typing the next mixture clears it (a
            # "Dispensed batch 5" left standing reads as being about the mixture now typed).
            self._say("")
        if self._signatures:
            self._signatures = []
            self._say("The mixture changed: the overrides signed for it no longer hold.")
        self._recheck()

    @on(Input.Changed, ".what")
    def _hint(self, event: Input.Changed) -> None:
        """What a typed name may mean, typos forgiven: the catalogue search, off the event loop.
        A key only says what is to be searched; one search runs at a time, for the latest
        name typed (no thread is started a keystroke, and none is cancelled)."""
        self._to_search = (event.input, event.value)
        if self._searcher is None or self._searcher.is_finished:
            self._searcher = self._search()

    @work(group="hint")
    async def _search(self) -> None:
        """Names are offered unless the one typed is known whole; a strength or size typed is
        matched whole (only products that have it)."""
        while self._to_search is not None:
            (field, typed), self._to_search = self._to_search, None
            hits = await asyncio.to_thread(self._names_for, typed)
            if self._to_search is None:  # nothing typed meanwhile: these are for the field
                self.post_message(self.Hinted(field, typed, hits))

    def _names_for(self, typed: str) -> list[Hit]:
        catalog = self._catalog
        known = not typed.strip() or (catalog is not None and bool(catalog.meanings(typed)))
        return [] if known else self.services.catalog.search_typed(typed, PICKS)[0]

    def on_compose_screen_hinted(self, message: Hinted) -> None:
        hint = self.query_one("#ingredient-hint", Static)
        picks = self.query_one("#picks", OptionList)
        if not message.hits or message.field.value != message.typed:
            if self._hints:
                self._hints = []
                hint.update("")
                picks.clear_options()
                picks.remove_class("shown")
            return
        names = [(message.field, hit.name) for hit in message.hits]
        if names == self._hints:
            return
        self._hints = names
        hint.update(Text("did you mean (↑ ↓ choose, Ctrl+Space takes it):"))
        picks.clear_options()
        # Whole names, wrapped: two presentations of a product differ at the end of theirs.
        picks.add_options(Option(_pick(hit.name, y == 0)) for y, hit in enumerate(message.hits))
        picks.highlighted = 0
        picks.add_class("shown")

    def move_pick(self, field: Input, step: int) -> bool:
        """The arrows in a field offered names move the highlight among them; False when that
        field has none offered (the arrow then does what it did)."""
        if not self._hints or self._hints[0][0] is not field:
            return False
        picks = self.query_one("#picks", OptionList)
        at = picks.highlighted or 0
        to = max(0, min(len(self._hints) - 1, at + step))
        if to != at:  # marked in words too, not by its colour alone
            picks.replace_option_prompt_at_index(at, _pick(self._hints[at][1], False))
            picks.replace_option_prompt_at_index(to, _pick(self._hints[to][1], True))
            picks.highlighted = to
        return True

    def action_take_hint(self) -> None:
        """The person's own choice of a name offered: the highlighted one goes into the field."""
        if self._hints:
            picks = self.query_one("#picks", OptionList)
            at = picks.highlighted or 0
            _, name = self._hints[min(at, len(self._hints) - 1)]
            field = self._hints[0][0]
            field.value = name
            field.focus()
            field.cursor_position = len(name)
            self._hints = []
            self.query_one("#ingredient-hint", Static).update("")
            picks.clear_options()
            picks.remove_class("shown")

    @on(Select.Changed, "#patient")
    def _patient_chosen(self, event: Select.Changed) -> None:
        self._show_patient(event.value)

    def _show_patient(self, ref: object) -> None:
        info = self.query_one("#patient-info", Static)
        patient = self._patients.get(ref) if isinstance(ref, str) else None
        if patient is None:
            info.update("Choose a patient.")
            return
        weight = (
            f"{patient.weight_kg.normalize():f} kg"
            if patient.weight_kg is not None
            else "weight not recorded"
        )
        # Short enough that six allergies fit the lines above the work; refuted ones are not a
        # risk and are only counted (the Patients screen lists them).
        alerting = [a for a in patient.allergies if a.verification != "refuted"]
        refuted = len(patient.allergies) - len(alerting)
        allergies = "; ".join(self._allergy_said(a) for a in alerting if self._allergy_said(a)) or (
            "none recorded" if not refuted else "none that alert"
        )
        more = f"; {refuted} refuted" if refuted else ""
        info.update(Text(f"{patient.name} · {weight} · allergies: {allergies}{more}"))

    def _allergy_said(self, allergy: Allergy) -> str:
        """An allergy in the patient line; a "no known allergy" statement in words, and not at
        all once set aside."""
        if self._catalog and allergy.no_known(self._catalog) is not None:
            return self._allergy_label(allergy) if allergy.clinical_status == "active" else ""
        coded = "" if allergy.coded else " [not coded]"
        return (
            f"{self._allergy_label(allergy)}{coded} ({allergy.verification}, {allergy.criticality})"
        )

    def _allergy_label(self, allergy: Allergy) -> str:
        """A coded allergen by its name; free text as typed."""
        return allergy.label(self._catalog) if self._catalog else allergy.text or "?"

    # --- checking -------------------------------------------------------------------------

    def _recheck(self) -> None:
        """On every change: the check waits for a pause in typing (CHECK_AFTER without a key),
        then checks the fields as they are then — a burst is checked once, for its last value,
        never for one it passed through. A key only moves the time the check is due: no worker
        (and no thread) is started a keystroke."""
        self._tell_unfinished()
        self._check_due = time.monotonic() + CHECK_AFTER
        if self._checker is None or self._checker.is_finished:
            self._checker = self._check()

    def _tell_unfinished(self) -> None:
        """Let the app know whether signing out or quitting would drop a typed mixture."""
        typed = any(row.typed for row in self._rows())
        what = "The mixture in Compose" if typed else ""
        if what != self._told:
            self._told = what
            self.app.post_message(Unfinished(what))

    @work(group="check")
    async def _check(self) -> None:
        """Once typing pauses, the draft is read here, on the event loop, and checked in a
        thread; a key typed during the check means another check, once typing pauses again
        (the plan shown is always that of what the fields hold)."""
        while True:
            while (wait := self._check_due - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            due, draft = self._check_due, self.draft()
            try:
                plan = await asyncio.to_thread(self.services.mixtures.check, draft, self.user.name)
            except Exception as exc:  # a worker reports; it never takes the app down
                self._say(f"could not check the mixture: {exc}", error=True)
                return
            if due == self._check_due:  # no key since the draft was read
                self._show_plan(plan)
                return

    def on_compose_screen_checked(self, message: Checked) -> None:
        self._show_plan(message.plan)

    def _show_plan(self, plan: Plan) -> None:
        self._plan = plan
        signed = {s.finding_key for s in self._signatures}
        rows = [
            (
                format_quantity(draw.volume),
                # Whole, wrapped: strength, size and preservative are at the end of the name.
                draw.product.name + (f" ×{draw.containers}" if draw.containers > 1 else ""),
                # Whole too: a B complex delivers five vitamins.
                "→ "
                + (
                    ", ".join(
                        f"{format_quantity(d.amount, 4)} {d.substance.short_name}"
                        for d in draw.delivered
                    )
                    or "q.s. (diluent)"
                ),
            )
            for draw in plan.draws
        ]
        if plan.draws:  # over the final volume asked, the total is the ingredients', said so
            over = plan.asked_ul is not None and plan.ingredients_ul > plan.asked_ul
            asked = f"{(plan.asked_ul or 0) / 1000:g} mL"
            said = f"ingredients: over the {asked} asked" if over else "final volume"
            rows.append((format_quantity(plan.final_volume), said, ""))
        lines = [
            (f"{f.severity.word}: {f.message}{_sign_note(f, signed)}", f.severity.value)
            for f in sorted(plan.findings, key=lambda f: list(Severity).index(f.severity))
        ]
        disabled = bool(self._unsigned(plan)) or self._busy
        if (rows, lines, disabled) == self._shown:
            return  # a keystroke that changed nothing the person sees redraws nothing
        self._shown = (rows, lines, disabled)
        self._plan_view.show_rows(rows, bold_last=bool(plan.draws))
        self._findings_view.show_findings(lines)
        self._dispense_button(disabled)

    def _unsigned(self, plan: Plan) -> list[Finding]:
        signed = {s.finding_key for s in self._signatures}
        return [f for f in plan.findings if f.severity is Severity.BLOCK and f.key not in signed]

    # --- overrides ------------------------------------------------------------------------

    def action_override(self) -> None:
        """The blocks not signed off yet: each may get its own reason, one dialog after another."""
        signed = {s.finding_key for s in self._signatures}
        blocks = [
            f
            for f in (self._plan.findings if self._plan else ())
            if f.severity is Severity.BLOCK and f.overridable
        ]
        signable = [f for f in blocks if f.key not in signed]
        if not signable:
            self._say(
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
        self._say(
            f"{len(signatures)} finding(s) signed off by {signatures[0].practitioner}: {then}"
        )
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
                self._say("Not dispensed: each warning must be read and acknowledged (F9).")
            else:
                self._start_dispense(draft, keys)

        self.app.push_screen(AcknowledgeScreen(warnings), read)

    def on_compose_screen_unread(self, message: Unread) -> None:
        self._busy = False
        self._dispense_button(self._plan is None or bool(self._unsigned(self._plan)))
        if self.draft() != message.draft:  # typed into meanwhile: what is shown is checked
            self._say("Not dispensed: the mixture changed; F9 again.", error=True)
            self._recheck()
            return
        self._say("The warnings changed since they were read: read them again.", error=True)
        self._acknowledge(message.draft, message.warnings)

    def _start_dispense(self, draft: DraftMixture, acknowledged: list[str]) -> None:
        self._busy = True
        self._shown = ()  # the button is set here, so the next plan redraws in full
        self._dispense_button(True, "Dispensing…")
        self._say("Dispensing…")
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
        try:
            result = self.services.mixtures.dispense(draft, user, signatures, acknowledged)
        except DispenseRefused as refused:
            self.post_message(self.Checked(refused.plan))
            if refused.unacknowledged and not any(
                f.severity is Severity.BLOCK for f in refused.unsigned
            ):
                self.post_message(self.Unread(draft, refused.unacknowledged))
            else:
                self.post_message(self.Failed(str(refused), recheck=True))
        except ServiceError as exc:
            self.post_message(self.Failed(str(exc), recheck=True))
        except Exception as exc:  # the transaction rolled back: say so rather than crash
            self.post_message(
                self.Failed(f"not dispensed, nothing was written: {exc}", recheck=True)
            )
        else:
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
        self.app.push_screen(FormScreen(form), lambda done: done and self._say(done))

    def on_compose_screen_dispensed(self, message: Dispensed) -> None:
        self._busy = False
        self._origin = None
        self._signatures = []
        self._findings_view.refit()  # the next mixture: the box fits its own findings
        read = len(message.result.acknowledged)
        self._say(
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

    def on_compose_screen_failed(self, message: Failed) -> None:
        self._busy = False
        self._say(message.message, error=True)
        self._dispense_button(self._plan is None or bool(self._unsigned(self._plan)))
        if message.recheck:
            self._recheck()

    def _dispense_button(self, disabled: bool, busy: str = "") -> None:
        """Ready or not in words, not by its colour alone."""
        button = self.query_one("#dispense", Button)
        button.disabled = disabled
        label = busy or ("Blocked (F9)" if disabled else "Dispense (F9)")
        if str(button.label) != label:  # a new label lays the row out again: only on a change
            button.label = label

    def _say(self, text: str, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(Text(text))
        status.set_class(error, "error")
        self._said = bool(text)
