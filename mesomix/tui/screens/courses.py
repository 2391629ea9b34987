"""Courses: a patient's courses of treatment, each as it stands today (sessions held, booked,
due, late or missed; its consent; what was injected). Practitioners plan, change, pause, end,
take the consent and record injections; staff book sessions and may record a consent withdrawn.
Every change is a form whose submit calls the course service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Label, Select, Static

from mesomix.domain.course.sessions import Standing
from mesomix.domain.permissions import Action
from mesomix.services.accounts import SignedIn
from mesomix.services.courses import CourseRefused, CourseView, Technique
from mesomix.services.courses.reading import course_lines
from mesomix.tui.screens.base import WorkScreen, columns, same_row, short
from mesomix.tui.screens.consent import ConsentScreen
from mesomix.tui.screens.sessions import book_form
from mesomix.tui.widgets.form import Form, FormField, Values

if TYPE_CHECKING:  # a type hint only: the screens never import the wiring at run time
    from mesomix.bootstrap import Services


class CoursesScreen(WorkScreen):
    CSS_PATH = "../styles/courses.tcss"
    BINDINGS = [
        Binding("n", "new_course", "New", id="courses.new", tooltip="Plan a new course"),
        Binding("b", "book", "Book", id="courses.book", tooltip="Book the next session"),
        Binding("s", "consent", "Consent", id="courses.consent", tooltip="Sign the consent"),
        Binding("i", "inject", "Injected", id="courses.inject", tooltip="Record an injection"),
        Binding("x", "change", "Change", id="courses.change", tooltip="Change the plan"),
        Binding("p", "pause", "Pause", id="courses.pause", tooltip="Pause or resume"),
        Binding("e", "end", "End", id="courses.end", tooltip="End the course", show=False),
        Binding(
            "w",
            "withdraw",
            "Withdraw",
            id="courses.withdraw",
            tooltip="Record the consent withdrawn",
            show=False,
        ),
    ]
    NEEDS = {
        "new_course": Action.PLAN_COURSE,
        "change": Action.PLAN_COURSE,
        "pause": Action.PLAN_COURSE,
        "end": Action.PLAN_COURSE,
        "book": Action.BOOK_SESSION,
        "consent": Action.SIGN_CONSENT,
        "withdraw": Action.WITHDRAW_CONSENT,
        "inject": Action.RECORD_INJECTION,
    }

    @dataclass
    class Patients(Message):
        patients: list[tuple[str, str]]  # (name and reference, reference), by name
        formulas: list[tuple[str, str]]  # (name, code)

    @dataclass
    class Loaded(Message):
        patient: str
        courses: list[CourseView]

    def __init__(self, services: Services, user: SignedIn) -> None:
        super().__init__(services, user)
        self._patient: str | None = None
        self._courses: dict[str, CourseView] = {}
        self._chosen: str | None = None
        self._formulas: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="courses-patient-row"):
            yield Label("Patient", id="courses-patient-label")
            yield Select[str]([], prompt="choose the patient", id="courses-patient", compact=True)
        with Horizontal(id="courses-work"):
            yield DataTable(id="course-list", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="course-detail"):
                yield Static("Choose a patient.", id="course-card")
        yield Static("", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "mesomix — Courses"
        columns(self.query_one("#course-list", DataTable), ("#", 4), ("Course", 12), ("Held", 6))
        self.query_one("#courses-patient", Select).focus()
        self.reload()

    @work(thread=True, exclusive=True, group="patients")
    def reload(self) -> None:
        with self.reporting("could not read the patients"):
            patients = [
                (f"{p.name} ({p.ref})", p.ref)
                for p in self.services.people.patients(self.user.name)
            ]
            formulas = [(f.name, f.code) for f in self.services.formulas.formulas(self.user.name)]
            self.post_message(self.Patients(patients, formulas))
        if self._patient:
            self._load(self._patient)

    def on_courses_screen_patients(self, message: Patients) -> None:
        self._formulas = message.formulas
        picker = self.query_one("#courses-patient", Select)
        chosen = picker.value
        picker.set_options((Text(shown), ref) for shown, ref in message.patients)
        if isinstance(chosen, str) and chosen in {ref for _, ref in message.patients}:
            picker.value = chosen

    @on(Select.Changed, "#courses-patient")
    def _patient_chosen(self, event: Select.Changed) -> None:
        self._patient = event.value if isinstance(event.value, str) else None
        if self._patient:
            self._load(self._patient)
        else:
            self._show_courses([])

    @work(thread=True, exclusive=True, group="courses")
    def _load(self, patient: str) -> None:
        with self.reporting("could not read the courses"):
            found = self.services.courses.courses(self.user.name, patient)
            self.post_message(self.Loaded(patient, found))

    def on_courses_screen_loaded(self, message: Loaded) -> None:
        if message.patient == self._patient:
            self._show_courses(message.courses)

    def _show_courses(self, courses: list[CourseView]) -> None:
        self._courses = {str(c.id): c for c in courses}
        table = self.query_one("#course-list", DataTable)
        with same_row(table):
            table.clear()
            for course in courses:
                table.add_row(
                    str(course.id),
                    Text(short(course.indication.name, 12)),
                    Text(f"{course.held}/{len(course.sessions)}"),
                    key=str(course.id),
                )
        if not courses:
            self._chosen = None
            self.query_one("#course-card", Static).update(
                Text("No course yet." if self._patient else "Choose a patient.")
            )
        elif self._chosen in self._courses:
            self._show(self._courses[self._chosen])

    @on(DataTable.RowHighlighted, "#course-list")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._chosen = str(event.row_key.value) if event.row_key.value is not None else None
        if self._chosen in self._courses:
            self._show(self._courses[self._chosen])

    def _show(self, course: CourseView) -> None:
        text = Text()
        for number, line in enumerate(course_lines(course, self.services.courses.zone_names())):
            style = "bold" if number == 0 else ""
            if "consent: none" in line or line.endswith(("late", "missed")):
                style = "bold red"
            text.append(line + "\n", style=style)
        self.query_one("#course-card", Static).update(text)

    # --- the work -------------------------------------------------------------------------

    def _course_or_say(self) -> CourseView | None:
        course = self._courses.get(self._chosen or "")
        if course is None:
            self.say("Choose a patient and a course first.", error=True)
        return course

    def _done(self) -> None:
        if self._patient:
            self._load(self._patient)

    def action_new_course(self) -> None:
        patient = self._patient
        if not patient:
            self.say("Choose the patient first.", error=True)
            return
        if not self._formulas:
            self.say("No formula to plan from: save one in Compose (F7) first.", error=True)
            return
        courses, user = self.services.courses, self.user.name
        templates = courses.templates

        def submit(values: Values) -> str:
            course = courses.plan(
                user,
                patient,
                values["indication"],
                values["formula"],
                courses.read_zones(values["zones"]),
                _day(values["start"]),
                values["schedule"],
            )
            return f"Course {course.id} planned: {len(course.sessions)} sessions."

        indications = sorted(templates.indications.values(), key=lambda i: i.name)
        self.ask(
            Form(
                "Plan a course",
                [
                    FormField(
                        "indication", "Indication", choices=[(i.name, i.code) for i in indications]
                    ),
                    FormField("formula", "Formula", choices=self._formulas),
                    FormField("zones", "Zones", "scalp 4 mL, neck 1 mL"),
                    FormField(
                        "start", "Starts on", "YYYY-MM-DD", value=f"{self.services.clock.today()}"
                    ),
                    FormField("schedule", "Schedule", "blank: the indication's usual course"),
                ],
                submit,
                go="Plan",
                intro="Zones by code: " + ", ".join(sorted(templates.zones)),
            ),
            self._done,
        )

    def action_book(self) -> None:
        course = self._course_or_say()
        if course is None:
            return
        following = course.next_session
        if following is None:
            self.say(f"Every session of course {course.id} is held.", error=True)
            return
        self.ask(
            book_form(
                self.services.courses,
                self.user.name,
                self.services.clock.zone,
                course.id,
                following.number,
                len(course.sessions),
                course.patient_name,
            ),
            self._done,
        )

    def action_consent(self) -> None:
        course = self._course_or_say()
        if course is None:
            return
        if course.consent is not None:
            self.say(f"Course {course.id} has a consent in force already.", error=True)
            return
        self._open_consent(course.id)

    @work(thread=True, exclusive=True, group="consent")
    def _open_consent(self, course_id: int) -> None:
        with self.reporting("could not read the consent"):
            text = self.services.courses.consent_text(self.user.name, course_id)
            self.app.call_from_thread(self._consent_read, course_id, text)

    def _consent_read(self, course_id: int, text: str) -> None:
        def signed(said: str | None) -> None:
            if said:
                self.say(said)
                self._done()

        self.app.push_screen(
            ConsentScreen(self.services.courses, self.user.name, course_id, text), signed
        )

    def action_withdraw(self) -> None:
        courses, user = self.services.courses, self.user.name

        def withdraw(course: CourseView, reason: str) -> str:
            courses.withdraw_consent(user, course.id, reason)
            return f"Consent to course {course.id} withdrawn: no session is made from now on."

        self._with_reason("Withdraw the consent to", "Withdraw", "as the patient said it", withdraw)

    def _with_reason(
        self, title: str, go: str, hint: str, act: Callable[[CourseView, str], str]
    ) -> None:
        """A change of the chosen course that needs only a reason: pause, resume, end,
        withdraw."""
        course = self._course_or_say()
        if course is None:
            return
        self.ask(
            Form(
                f"{title} course {course.id}",
                [FormField("reason", "Reason", hint)],
                lambda values: act(course, values["reason"]),
                go=go,
            ),
            self._done,
        )

    def action_inject(self) -> None:
        course = self._course_or_say()
        if course is None:
            return
        recorded = {i.session for i in course.injections}
        held = [
            s.number
            for s in course.sessions
            if s.line.standing is Standing.HELD and s.number not in recorded
        ]
        if not held:
            self.say(f"No held session of course {course.id} waits for its record.", error=True)
            return
        courses, user = self.services.courses, self.user.name
        planned = ", ".join(f"{z.zone} {z.volume_said}" for z in course.zones)

        def submit(values: Values) -> str:
            if not values["session"].strip().isdigit():
                raise CourseRefused(f"'{values['session']}' is not a session number")
            number = int(values["session"])
            how = Technique(
                values["technique"], values["depth"], values["needle"], values["by"], values["note"]
            )
            courses.record_injection(
                user, course.id, number, courses.read_zones(values["zones"]), how
            )
            return f"Injection of session {number} recorded."

        self.ask(
            Form(
                f"What was injected, course {course.id}",
                [
                    FormField("session", "Session", value=str(held[0])),
                    FormField("zones", "Zones", value=planned),
                    FormField("technique", "Technique", "nappage, point by point, papule"),
                    FormField("depth", "Depth", "2 mm"),
                    FormField("needle", "Needle", "30G 4 mm"),
                    FormField("by", "Injected by", value=user),
                    FormField("note", "Note"),
                ],
                submit,
                go="Record",
            ),
            self._done,
        )

    def action_change(self) -> None:
        course = self._course_or_say()
        if course is None:
            return
        courses, user = self.services.courses, self.user.name

        def submit(values: Values) -> str:
            changed = courses.change(
                user,
                course.id,
                values["reason"],
                schedule=values["schedule"],
                formula=values["formula"],
                zones=courses.read_zones(values["zones"]),
            )
            return f"Course {course.id} is now version {changed.version}."

        self.ask(
            Form(
                f"Change course {course.id}",
                [
                    FormField("schedule", "Schedule", value=course.schedule.said),
                    FormField(
                        "formula", "Formula", choices=self._formulas, value=course.formula_code
                    ),
                    FormField(
                        "zones",
                        "Zones",
                        value=", ".join(f"{z.zone} {z.volume_said}" for z in course.zones),
                    ),
                    FormField("reason", "Reason", "why it changes"),
                ],
                submit,
                go="Change",
                intro="From the next session on; the sessions held keep their version.",
            ),
            self._done,
        )

    def action_pause(self) -> None:
        chosen = self._courses.get(self._chosen or "")
        courses, user = self.services.courses, self.user.name

        def pause(course: CourseView, reason: str) -> str:
            courses.pause(user, course.id, reason)
            return f"Course {course.id} paused."

        def resume(course: CourseView, reason: str) -> str:
            courses.resume(user, course.id, reason or "resumed")
            return f"Course {course.id} resumed."

        if chosen is not None and chosen.status == "paused":
            self._with_reason("Resume", "Resume", "why", resume)
        else:
            self._with_reason("Pause", "Pause", "why", pause)

    def action_end(self) -> None:
        courses, user = self.services.courses, self.user.name

        def end(course: CourseView, reason: str) -> str:
            courses.end(user, course.id, reason)
            return f"Course {course.id} ended."

        self._with_reason("End", "End", "completed, no response, moved away…", end)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CourseRefused(f"'{text.strip()}' is not a date: type it as 2026-12-10") from None
