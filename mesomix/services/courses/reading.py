"""A course as the screens and the command line show it, read in one transaction.

The rows hold what was decided (the course, its versions, the bookings, the consents, the
injections); where each session stands today is the domain's to say (domain/course/sessions),
from the sessions held and booked and the clinic's today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from sqlmodel import Session, col, select

from mesomix.db.repositories.reactions import REACTION, VERSION, as_they_stand
from mesomix.db.tables import (
    BatchRow,
    ConsentRow,
    CourseRow,
    CourseSessionRow,
    CourseVersionRow,
    FormulaRow,
    FormulaVersionRow,
    InjectionRow,
    PatientRow,
    UserRow,
)
from mesomix.domain.course import Indication, Schedule, SessionLine, Standing, standing
from mesomix.domain.course.plan import ZoneVolume
from mesomix.reference import CourseTemplates
from mesomix.services.errors import NotFound, ServiceError


class CourseRefused(ServiceError):
    """A course, booking, consent or injection record refused; nothing was written."""


@dataclass(frozen=True)
class ConsentView:
    id: int
    template_version: int
    text: str
    statement: str
    explained_by: str  # display name
    signed_at: datetime
    withdrawn_at: datetime | None
    withdrawn_reason: str

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None


@dataclass(frozen=True)
class InjectionView:
    session: int
    zone: str
    volume_ul: int
    technique: str
    depth: str
    needle: str
    injected_by: str  # display name
    note: str
    recorded_at: datetime


@dataclass(frozen=True)
class SessionView:
    """One session: where it stands today, when it is booked for, and what was done."""

    line: SessionLine
    total: int
    booked_for: datetime | None  # in the clinic's time
    held_at: datetime | None
    early_reason: str  # a practitioner's reason to book it before its least gap

    @property
    def number(self) -> int:
        return self.line.number

    @property
    def said(self) -> str:
        text = self.line.said(self.total)
        if self.booked_for is not None and self.line.standing is Standing.BOOKED:
            text += f" at {self.booked_for:%H:%M}"
        return text + (f" (early: {self.early_reason})" if self.early_reason else "")


@dataclass(frozen=True)
class CourseView:
    id: int
    patient_ref: str
    patient_name: str
    indication: Indication
    status: str  # active | paused | ended
    status_reason: str
    starts_on: date
    version: int
    schedule: Schedule
    formula_code: str
    formula_name: str
    formula_version: int  # the version's number within its formula
    formula_version_id: int
    zones: tuple[ZoneVolume, ...]
    consents: tuple[ConsentView, ...]
    sessions: tuple[SessionView, ...]
    injections: tuple[InjectionView, ...]
    reactions: tuple[str, ...] = ()  # each reaction after a session, as it stands, in words

    @property
    def consent(self) -> ConsentView | None:
        """The consent in force, if any."""
        return next((c for c in self.consents if c.in_force), None)

    @property
    def held(self) -> int:
        return sum(1 for s in self.sessions if s.line.standing is Standing.HELD)

    @property
    def next_session(self) -> SessionView | None:
        return next((s for s in self.sessions if s.line.standing is not Standing.HELD), None)


def course_row(session: Session, course_id: int) -> CourseRow:
    row = session.get(CourseRow, course_id)
    if row is None:
        raise NotFound(f"no course {course_id}")
    return row


def latest_version(session: Session, course_id: int) -> CourseVersionRow:
    row = session.exec(
        select(CourseVersionRow)
        .where(CourseVersionRow.course_id == course_id)
        .order_by(col(CourseVersionRow.version).desc())
    ).first()
    if row is None:  # a course is written with its first version, in one transaction
        raise NotFound(f"course {course_id} has no plan")
    return row


def session_rows(session: Session, course_id: int) -> dict[int, CourseSessionRow]:
    rows = session.exec(
        select(CourseSessionRow).where(CourseSessionRow.course_id == course_id)
    ).all()
    return {row.number: row for row in rows}


def zones_of(version: CourseVersionRow) -> tuple[ZoneVolume, ...]:
    return tuple(ZoneVolume(z["zone"], int(z["volume_ul"])) for z in version.zones)


def indication_of(templates: CourseTemplates, code: str) -> Indication:
    indication = templates.indications.get(code)
    if indication is None:
        raise CourseRefused(
            f"'{code}' is not an indication; the indications are "
            f"{', '.join(sorted(templates.indications))}"
        )
    return indication


def view(
    session: Session, templates: CourseTemplates, row: CourseRow, today: date, zone: tzinfo
) -> CourseView:
    """The whole course as it stands on `today` (the clinic's date, in `zone`)."""
    assert row.id is not None
    version = latest_version(session, row.id)
    schedule = Schedule.parse(version.schedule)
    patient = session.get(PatientRow, row.patient_id)
    formula_version = session.get(FormulaVersionRow, version.formula_version_id)
    assert patient is not None and formula_version is not None
    formula = session.get(FormulaRow, formula_version.formula_id)
    assert formula is not None
    names = {u.id: u.display_name for u in session.exec(select(UserRow)).all()}
    sessions = session_rows(session, row.id)
    held_rows = sorted(
        (s for s in sessions.values() if s.held_at is not None), key=lambda s: s.number
    )
    held = [s.held_at.astimezone(zone).date() for s in held_rows if s.held_at is not None]
    booked = {
        s.number: s.booked_for.astimezone(zone).date()
        for s in sessions.values()
        if s.booked_for is not None and s.held_at is None
    }
    lines = standing(schedule, row.starts_on, held, booked, today)
    total = len(lines)
    consents = session.exec(
        select(ConsentRow).where(ConsentRow.course_id == row.id).order_by(col(ConsentRow.id))
    ).all()
    session_ids = {s.id: s.number for s in sessions.values()}
    injections = session.exec(
        select(InjectionRow)
        .where(col(InjectionRow.course_session_id).in_(list(session_ids)))
        .order_by(col(InjectionRow.id))
    ).all()
    return CourseView(
        reactions=_reactions_after(session, session_ids),
        id=row.id,
        patient_ref=patient.ref,
        patient_name=patient.name,
        indication=indication_of(templates, row.indication),
        status=row.status,
        status_reason=row.status_reason,
        starts_on=row.starts_on,
        version=version.version,
        schedule=schedule,
        formula_code=formula.code,
        formula_name=formula.name,
        formula_version=formula_version.version,
        formula_version_id=version.formula_version_id,
        zones=zones_of(version),
        consents=tuple(
            ConsentView(
                c.id or 0,
                c.template_version,
                c.text,
                c.statement,
                names.get(c.explained_by, "?"),
                c.signed_at,
                c.withdrawn_at,
                c.withdrawn_reason,
            )
            for c in consents
        ),
        sessions=tuple(
            SessionView(
                line,
                total,
                _local(sessions[line.number].booked_for, zone) if line.number in sessions else None,
                sessions[line.number].held_at if line.number in sessions else None,
                sessions[line.number].early_reason if line.number in sessions else "",
            )
            for line in lines
        ),
        injections=tuple(
            InjectionView(
                session_ids[i.course_session_id],
                i.zone,
                i.volume_ul,
                i.technique,
                i.depth,
                i.needle,
                names.get(i.injected_by, "?"),
                i.note,
                i.recorded_at,
            )
            for i in injections
        ),
    )


def _local(at: datetime | None, zone: tzinfo) -> datetime | None:
    return at.astimezone(zone) if at is not None else None


def _reactions_after(session: Session, session_ids: dict[int | None, int]) -> tuple[str, ...]:
    """The reactions after the course's sessions, as they stand (their latest version)."""
    if not session_ids:
        return ()
    batch = BatchRow.__table__
    rows = session.connection().execute(
        as_they_stand(
            REACTION.c.id,
            batch.c.course_session_id,
            VERSION.c.kind,
            VERSION.c.severity,
            VERSION.c.outcome,
            VERSION.c.confirmed_by,
        )
        .join(batch, batch.c.id == REACTION.c.batch_id)
        .where(batch.c.course_session_id.in_([i for i in session_ids if i is not None]))
        .order_by(REACTION.c.id)
    )
    return tuple(
        f"reaction {rid} after session {session_ids[held]}: {severity} {kind}, {outcome}"
        + ("" if confirmed else " (not confirmed)")
        for rid, held, kind, severity, outcome, confirmed in rows
    )


def course_lines(course: CourseView, zones: dict[str, str]) -> list[str]:
    """The course in words, a line each, as the command line prints it and a screen lists it;
    `zones` names each zone code."""
    consent = course.consent
    lines = [
        f"course {course.id}: {course.patient_name} ({course.patient_ref}), "
        f"{course.indication.name}, {course.status}"
        + (f" ({course.status_reason})" if course.status_reason else "")
        + f", version {course.version}",
        f"formula: {course.formula_name} (version {course.formula_version})",
        "zones: " + ", ".join(f"{zones.get(z.zone, z.zone)} {z.volume_said}" for z in course.zones),
        f"schedule: {course.schedule.said}, from {course.starts_on:%Y-%m-%d}",
        (
            f"consent: signed {consent.signed_at:%Y-%m-%d} by {consent.explained_by} "
            f"(template version {consent.template_version})"
            if consent
            else "consent: none in force"
        ),
    ]
    lines += [s.said for s in course.sessions]
    lines += [
        f"injected at session {i.session}: {zones.get(i.zone, i.zone)} "
        f"{ZoneVolume('', i.volume_ul).volume_said}, {i.technique}, {i.depth}, {i.needle}, "
        f"by {i.injected_by}"
        for i in course.injections
    ]
    return lines + list(course.reactions)
