"""Compose's fields and what their check shows: the patient, the ingredient rows and the rest
of the draft, read from the fields (never written back while typed in), checked once typing
pauses, and the plan and findings drawn from the result. The actions on a checked mixture
(override, dispense, save as a formula) are the screen's (screen.py).

It stays one module: every field change re-times the check, the check reads every field, and
what it shows hangs on state a change resets (the signatures, the status line), so halves would
hand one screen's state back and forth.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Select, Static
from textual.worker import Worker

from mesomix.domain.catalog import Catalog
from mesomix.domain.findings import Finding
from mesomix.domain.mixture import DEFAULT_DILUENT, DraftMixture, Plan
from mesomix.domain.search import Hit
from mesomix.services.accounts import SignedIn
from mesomix.services.mixtures import Signature
from mesomix.services.people import PatientSummary
from mesomix.tui.failures import reported
from mesomix.tui.messages import Unfinished
from mesomix.tui.screens.base import WorkScreen
from mesomix.tui.screens.compose.ingredients import IngredientRow, NameOffers
from mesomix.tui.screens.compose.layout import KEEPING, layout
from mesomix.tui.screens.compose.plan_view import (
    finding_lines,
    patient_line,
    plan_rows,
    unsigned,
)
from mesomix.tui.screens.compose.views import FindingsView, PlanView

if TYPE_CHECKING:  # a type hint only: the screens never import the wiring at run time
    from mesomix.bootstrap import Services

PICKS = 8  # names offered for an ingredient typed, to pick from with the arrows
CHECK_AFTER = 0.1  # seconds without a keystroke before the mixture is checked (typing: once)


class DraftScreen(WorkScreen):
    """The draft being composed and its check (see the module's docstring)."""

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
    class Failed(Message):
        message: str
        recheck: bool = False  # after a failed dispense the shelf may have changed

    def __init__(self, services: Services, user: SignedIn) -> None:
        super().__init__(services, user)  # who is signed in makes the mixture
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
        # the draft this one started from: a formula's, or a course session's (from Sessions)
        self._origin: DraftMixture | None = None
        self._pending: DraftMixture | None = None  # to load once the catalogue is here
        self._offers = NameOffers()  # the names a typed ingredient may mean
        self._told = ""  # what the app was last told is unfinished here
        self._said = False  # the status line holds something
        self._origin_name = ""  # the name of the formula the mixture was started from
        self._filling = False  # a formula's draft is being written into the fields
        self._check_due = 0.0  # when the check is due: CHECK_AFTER after the last change
        self._checker: Worker[None] | None = None  # waiting for a pause, or checking
        self._to_search: tuple[Input, str] | None = None  # (field, name) typed, not searched yet
        self._searcher: Worker[None] | None = None  # searching the names typed
        self._scans: list[str] = []  # the vials scanned at the bench for this mixture

    def compose(self) -> ComposeResult:
        yield from layout(
            self.user.display_name, self._offers, self._plan_view, self._findings_view
        )

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
        with self.reporting("could not load the catalogue and patients"):
            catalog = self.services.catalog.catalog()
            self.services.catalog.search_index()  # built here, so typing never waits for it
            patients = self.services.people.patients(self.user.name)
            practitioners = self.services.people.practitioners()
            self.post_message(self.Loaded(catalog, patients, practitioners))

    def on_draft_screen_loaded(self, message: Loaded) -> None:
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

    def reload(self) -> None:
        """Back from another screen, where a patient's allergies or weight, or the stock, may
        have changed: the patients are read again and the mixture re-checked (once loaded:
        the first load reads them anyway)."""
        if self._catalog is not None:
            self._reload_patients()

    @work(thread=True, exclusive=True, group="patients")
    def _reload_patients(self) -> None:
        with self.reporting("could not read the patients again"):
            self.post_message(self.PatientsRead(self.services.people.patients(self.user.name)))

    def on_draft_screen_patients_read(self, message: PatientsRead) -> None:
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
            course=self._origin.course if self._origin else None,
            session=self._origin.session if self._origin else None,
            scans=tuple(self._scans),
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
                    (IngredientRow(self._suggester, self._offers) for _ in range(missing)),
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
            (
                key
                for key, (_, kept, cat) in KEEPING.items()
                if (kept, cat) == (draft.storage, draft.category)
            ),
            "room",
        )
        self.query_one("#purpose", Select).value = draft.purpose or Select.BLANK
        if draft.prescriber:
            self.query_one("#prescriber", Select).value = draft.prescriber
        self.say(
            f"Session {draft.session} of course {draft.course}, made from its formula: check "
            "the amounts, then dispense (F9)."
            if draft.course is not None
            else "Started from a formula: check the amounts, then dispense (F9)."
        )

    @work(thread=True, exclusive=True, group="origin")
    def _name_origin(self, version_id: int) -> None:
        """The formula's name, so that F7 saves a new version of it rather than another."""
        with reported(lambda _words: None):  # F7 then asks for the name, as for any mixture
            name = self.services.formulas.name_of_version(self.user.name, version_id)
            self.app.call_from_thread(setattr, self, "_origin_name", name)

    def action_add_ingredient(self) -> None:
        row = IngredientRow(self._suggester, self._offers)
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
            self.say("")
        if self._signatures:
            self._signatures = []
            self.say("The mixture changed: the overrides signed for it no longer hold.")
        self._recheck()

    @on(Input.Changed, ".what")
    def _hint(self, event: Input.Changed) -> None:
        """What a typed name may mean, typos forgiven: the catalogue search, off the event loop.
        A key only says what is to be searched; one search runs at a time, for the latest name
        typed, so the names a burst passed through are never searched (a worker a key, each
        cancelling the one before, still ran every search to its end in the executor)."""
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

    def on_draft_screen_hinted(self, message: Hinted) -> None:
        self._offers.offer(message.field, message.typed, message.hits)

    def action_take_hint(self) -> None:
        self._offers.take()

    @on(Select.Changed, "#patient")
    def _patient_chosen(self, event: Select.Changed) -> None:
        self._show_patient(event.value)

    def _show_patient(self, ref: object) -> None:
        info = self.query_one("#patient-info", Static)
        patient = self._patients.get(ref) if isinstance(ref, str) else None
        info.update(Text(patient_line(patient, self._catalog)) if patient else "Choose a patient.")

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
            if not self.is_running:  # the screen is being taken down: its fields are going
                return
            due, draft, plan = self._check_due, self.draft(), None
            with self.reporting("could not check the mixture"):
                plan = await asyncio.to_thread(self.services.mixtures.check, draft, self.user.name)
            # Resumed after the thread: the screen may have been closed meanwhile (signed out,
            # the app quitting), its widgets removed before its workers are cancelled.
            if plan is None or not self.is_running:
                return
            if due == self._check_due:  # no key since the draft was read
                self._show_plan(plan)
                return

    def on_draft_screen_checked(self, message: Checked) -> None:
        self._show_plan(message.plan)

    def _show_plan(self, plan: Plan) -> None:
        self._plan = plan
        signed = self._signed_keys()
        rows, lines = plan_rows(plan), finding_lines(plan.findings, signed)
        disabled = bool(unsigned(plan, signed)) or self._busy
        if (rows, lines, disabled) == self._shown:
            return  # a keystroke that changed nothing the person sees redraws nothing
        self._shown = (rows, lines, disabled)
        self._plan_view.show_rows(rows, bold_last=bool(plan.draws))
        self._findings_view.show_findings(lines)
        self._dispense_button(disabled)

    def _signed_keys(self) -> set[str]:
        """The findings signed off for this draft."""
        return {s.finding_key for s in self._signatures}

    def _unsigned(self, plan: Plan) -> list[Finding]:
        return unsigned(plan, self._signed_keys())

    def on_draft_screen_failed(self, message: Failed) -> None:
        self._busy = False
        self.say(message.message, error=True)
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

    def say(self, text: str, error: bool = False) -> None:
        super().say(text, error)
        self._said = bool(text)
