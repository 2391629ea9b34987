"""Sessions: the pharmacy's worklist — the sessions of courses to prepare today (or this week),
soonest first, with when to prepare each, and whether its consent and its stock are ready.
Enter (or P) starts the session's mixture in Compose, prefilled from its course; B books it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static

from mesomix.domain.mixture import DraftMixture
from mesomix.domain.permissions import Action
from mesomix.services.accounts import SignedIn
from mesomix.services.courses import CourseRefused, WorkItem
from mesomix.tui.screens.base import WorkScreen, columns, same_row, short
from mesomix.tui.widgets.form import Form, FormField, Values

if TYPE_CHECKING:  # a type hint only: the screens never import the wiring at run time
    from mesomix.bootstrap import Services
    from mesomix.services.courses import CourseService

SPANS = {1: "today", 7: "in the next 7 days"}


class SessionsScreen(WorkScreen):
    CSS_PATH = "../styles/sessions.tcss"
    BINDINGS = [
        Binding("p", "prepare", "Prepare", id="sessions.prepare"),
        Binding("w", "span", "Today/week", id="sessions.span"),
        Binding("b", "book", "Book", id="sessions.book"),
    ]
    NEEDS = {"prepare": Action.CHECK_MIXTURE, "book": Action.BOOK_SESSION}
    READS_AHEAD = True  # the worklist opens with its rows

    @dataclass
    class Loaded(Message):
        items: list[WorkItem]
        days: int

    @dataclass
    class Started(Message):
        draft: DraftMixture

    def __init__(self, services: Services, user: SignedIn) -> None:
        super().__init__(services, user)
        self._items: dict[str, WorkItem] = {}
        self._days = 1
        self._chosen: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="sessions-heading")
        yield DataTable(id="session-list", cursor_type="row", zebra_stripes=True)
        yield Static("", id="session-detail")
        yield Static("", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "mesomix — Sessions to prepare"
        columns(
            self.query_one("#session-list", DataTable),
            ("When", 11),
            ("Patient", 20),
            ("Sess", 5),
            ("Formula", 16),
            ("Ready", 14),
        )
        self.query_one("#session-list", DataTable).focus()
        self.show_read()

    def on_screen_suspend(self) -> None:
        """Left for another screen: the list is read again on return (sessions are prepared at
        other terminals meanwhile), so none of it is shown stale, and the screen comes back
        at once, its rows following."""
        super().on_screen_suspend()
        if self._away:
            self.query_one("#session-list", DataTable).clear()
            self._items = {}

    @work(thread=True, exclusive=True, group="sessions")
    def reload(self) -> None:
        with self.reporting("could not read the worklist"):
            self.post_message(self.read())

    def read(self) -> Loaded:
        days = self._days
        return self.Loaded(self.services.courses.worklist(self.user.name, days=days), days)

    def on_sessions_screen_loaded(self, message: Loaded) -> None:
        if message.days != self._days:
            return  # a reload for the other span is on its way
        self._items = {_key(item): item for item in message.items}
        count = len(message.items)
        self.query_one("#sessions-heading", Static).update(
            Text(f"{count} session{'s' if count != 1 else ''} to prepare {SPANS[self._days]}")
        )
        table = self.query_one("#session-list", DataTable)
        with same_row(table):
            table.clear()
            for item in message.items:
                table.add_row(
                    _when(item, self._days),
                    Text(short(item.patient_name, 20)),
                    f"{item.number}/{item.total}",
                    Text(short(item.formula, 16)),
                    _ready(item),
                    key=_key(item),
                )
        if not count:
            self._show(None)

    @on(DataTable.RowHighlighted, "#session-list")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._chosen = str(event.row_key.value) if event.row_key.value is not None else None
        self._show(self._items.get(self._chosen or ""))

    @on(DataTable.RowSelected, "#session-list")
    def _selected(self) -> None:
        """Enter on a session prepares it, as P does."""
        if self.check_action("prepare", ()):
            self.action_prepare()

    def _show(self, item: WorkItem | None) -> None:
        detail = self.query_one("#session-detail", Static)
        if item is None:
            detail.update(Text("Nothing to prepare." if not self._items else ""))
            return
        when = (
            f"booked {item.booked_for:%Y-%m-%d %H:%M}, prepare from {item.prepare_at:%H:%M}"
            if item.booked_for and item.prepare_at
            else f"due {item.due:%Y-%m-%d}, {item.standing.value}, not booked"
        )
        text = Text(f"{item.patient_name} ({item.patient_ref}) · course {item.course_id}, ")
        text.append(f"session {item.number} of {item.total}\n{when}\n")
        text.append(f"{item.formula} into {item.zones}\n")
        text.append(
            f"NOT READY: {item.not_ready}" if item.not_ready else "Ready: consent and stock.",
            style="bold red" if item.not_ready else "bold green",
        )
        detail.update(text)

    def _item_or_say(self) -> WorkItem | None:
        item = self._items.get(self._chosen or "")
        if item is None:
            self.say("Choose a session first.", error=True)
        return item

    def action_span(self) -> None:
        self._days = 7 if self._days == 1 else 1
        self.say(f"Showing {SPANS[self._days]}.")
        self.reload()

    def action_prepare(self) -> None:
        item = self._item_or_say()
        if item is not None:
            self._start(item)

    @work(thread=True, exclusive=True, group="prepare")
    def _start(self, item: WorkItem) -> None:
        with self.reporting("could not start the session"):
            draft = self.services.courses.session_draft(self.user.name, item.course_id, item.number)
            self.post_message(self.Started(draft))

    async def on_sessions_screen_started(self, message: Started) -> None:
        await self.app.switch_mode("compose")
        screen = self.app.screen
        load = getattr(screen, "load", None)
        if load is not None:
            load(message.draft)  # which says which session it is, once filled

    def action_book(self) -> None:
        item = self._item_or_say()
        if item is None:
            return
        self.ask(
            book_form(
                self.services.courses,
                self.user.name,
                self.services.clock.zone,
                item.course_id,
                item.number,
                item.total,
                item.patient_name,
            ),
            self.reload,
        )


def book_form(
    courses: CourseService,
    user: str,
    zone: tzinfo,
    course_id: int,
    number: int,
    total: int,
    patient: str,
) -> Form:
    """Book a session for a time on the clinic's clock; a practitioner may give a reason to
    book it sooner than its least gap (the service refuses it otherwise, naming the day)."""

    def submit(values: Values) -> str:
        when = _typed_time(values["when"]).replace(tzinfo=zone)
        courses.book(user, course_id, number, when, values["early"])
        return f"Session {number} of {patient} booked for {when:%Y-%m-%d %H:%M}."

    return Form(
        f"Book session {number} of {total} for {patient}",
        [
            FormField("when", "Date, time", "YYYY-MM-DD HH:MM"),
            FormField("early", "Early reason", "a practitioner's, only if too soon"),
        ],
        submit,
        go="Book",
    )


def _key(item: WorkItem) -> str:
    return f"{item.course_id}/{item.number}"


def _when(item: WorkItem, days: int) -> Text:
    if item.booked_for is None:
        return Text(f"{item.due:%m-%d} due", style="yellow")
    return Text(f"{item.booked_for:%H:%M}" if days == 1 else f"{item.booked_for:%m-%d %H:%M}")


def _ready(item: WorkItem) -> Text:
    if item.not_ready:
        return Text(short(item.not_ready, 14), style="bold red")
    return Text("ready", style="green")


def _typed_time(text: str) -> datetime:
    """ "2026-12-10 14:30" as typed; the service refuses a time past or too soon."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise CourseRefused(
            f"'{text.strip()}' is not a date and time: type it as 2026-12-10 14:30"
        ) from None
