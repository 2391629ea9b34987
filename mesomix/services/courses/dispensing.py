"""What a course says of a mixture about to be made, inside the check's or the dispense's own
transaction (Core SQL on its connection, like the rest of that hot path).

For a session of a course: the course is the patient's and active, a consent is in force, the
session is the next one not held, and it keeps its least gap after the one before (a BLOCK a
practitioner may sign off; a WARNING to read when it was booked early on a practitioner's
reason for today). For every mixture of a patient holding a substance a label limits across
sessions (deoxycholic acid: at most 6 treatments, a month apart): the limits, counted over
every batch the patient received, a session's batches as one treatment and, outside courses,
a day's batches as one. Then `hold` marks the session held by the batch, guarded so that two
terminals cannot both make it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from mesomix.clock import Clock
from mesomix.db.tables import (
    BatchLineRow,
    BatchRow,
    ConsentRow,
    CourseRow,
    CourseSessionRow,
    CourseVersionRow,
    UserRow,
)
from mesomix.domain.catalog import Catalog
from mesomix.domain.course import CourseLimit, GivenSession, Schedule, check_course
from mesomix.domain.findings import Finding, Severity
from mesomix.domain.mixture import DraftMixture, Plan
from mesomix.services.batches import amount_of
from mesomix.services.errors import ServiceError

_COURSE = CourseRow.__table__
_SESSION = CourseSessionRow.__table__
_CONSENT = ConsentRow.__table__
_VERSION = CourseVersionRow.__table__
_BATCH = BatchRow.__table__
_LINE = BatchLineRow.__table__
_USER = UserRow.__table__
_Treatment = tuple[date, dict[str, Decimal], list[int]]
_UNIT_DIMENSION = {"mg": "mass", "IU": "IU", "mEq": "mEq", "mmol": "mmol"}

_LATEST_VERSION = (
    sa.select(_VERSION.c.id, _VERSION.c.schedule)
    .where(_VERSION.c.course_id == sa.bindparam("course"))
    .order_by(_VERSION.c.version.desc())
    .limit(1)
)
# Every line the patient ever received, with the course session its batch was made for.
_RECEIVED = (
    sa.select(
        _BATCH.c.id,
        _BATCH.c.created_at,
        _SESSION.c.course_id,
        _SESSION.c.number,
        _LINE.c.delivered,
    )
    .select_from(
        _BATCH.join(_LINE, _LINE.c.batch_id == _BATCH.c.id).outerjoin(
            _SESSION, _SESSION.c.id == _BATCH.c.course_session_id
        )
    )
    .where(_BATCH.c.patient_id == sa.bindparam("patient"))
    .order_by(_BATCH.c.created_at, _BATCH.c.id)
)


def session_findings(
    connection: sa.Connection,
    draft: DraftMixture,
    patient_pk: int,
    clock: Clock,
    use_by: datetime | None = None,
) -> list[Finding]:
    """What the course says of making this session today; none when the draft is no session.
    `use_by` is the mixture's beyond-use date: a session booked after it gets a mixture
    already past it, so that is a WARNING to read."""
    if draft.course is None:
        return []
    course = connection.execute(sa.select(_COURSE).where(_COURSE.c.id == draft.course)).first()
    if course is None or course.patient_id != patient_pk:
        return [_block("course.unknown", f"course {draft.course} is not this patient's")]
    if course.status != "active":
        return [_block("course.not_active", f"course {course.id} is {course.status}")]
    found: list[Finding] = []
    consent = connection.execute(
        sa.select(_CONSENT.c.id).where(
            _CONSENT.c.course_id == course.id, _CONSENT.c.withdrawn_at.is_(None)
        )
    ).first()
    if consent is None:
        found.append(
            _block(
                "course.no_consent",
                f"course {course.id} has no consent in force: the practitioner takes the "
                "patient's consent before a session is made",
            )
        )
    version = connection.execute(_LATEST_VERSION, {"course": course.id}).one()
    schedule = Schedule.parse(version.schedule)
    rows = {
        r.number: r
        for r in connection.execute(sa.select(_SESSION).where(_SESSION.c.course_id == course.id))
    }
    held = sorted(n for n, r in rows.items() if r.held_at is not None)
    number, total = draft.session or 0, len(schedule.steps)
    following = next(n for n in range(1, total + 2) if n not in held)
    if not 1 <= number <= total:
        return [*found, _block("course.session", f"course {course.id} has sessions 1 to {total}")]
    if number in held:
        return [*found, _block("course.session_held", f"session {number} is already held")]
    if number != following:
        return [
            *found,
            _block("course.session_order", f"session {following} comes before session {number}"),
        ]
    previous = rows.get(number - 1)
    today, zone = clock.today(), clock.zone
    before = _day(previous.held_at, zone) if previous is not None else None
    too_soon = schedule.too_soon(number, before, today)
    if too_soon:
        found.append(_early(connection, rows.get(number), too_soon, today, zone))
    booked = rows[number].booked_for if number in rows else None
    if booked is not None and use_by is not None and booked > use_by:
        when, until = booked.astimezone(zone), use_by.astimezone(zone)
        found.append(
            Finding(
                Severity.WARN,
                "course.made_too_early",
                f"session {number} is booked for {when:%Y-%m-%d %H:%M}, after this mixture's "
                f"beyond-use date ({until:%Y-%m-%d %H:%M}): make it closer to the session",
            )
        )
    return found


def limit_findings(
    connection: sa.Connection,
    catalog: Catalog,
    draft: DraftMixture,
    plan: Plan,
    patient_pk: int,
    zone: tzinfo,
    today: date,
) -> list[Finding]:
    """The label's limits across sessions for each substance of the mixture that has any."""
    limits = [
        limit
        for code in plan.sums
        if code in catalog.substances
        for limit in catalog.substances[code].course_limits
    ]
    if not limits:
        return []
    planned = GivenSession(
        draft.session or 0,
        today,
        _amounts(limits, {code: value for code, value in plan.sums.items()}),
        "" if draft.session else "this mixture",
    )
    history = _history(connection, limits, patient_pk, draft.course, zone)
    return check_course(limits, history, planned)


def hold(connection: sa.Connection, draft: DraftMixture, now: datetime) -> int | None:
    """The session marked held now, by its course's current version; its id for the batch.
    Refused when another terminal made it meanwhile (the session was held in between)."""
    if draft.course is None or draft.session is None:
        return None
    version = connection.execute(_LATEST_VERSION, {"course": draft.course}).one()
    row = connection.execute(
        sa.select(_SESSION.c.id).where(
            _SESSION.c.course_id == draft.course, _SESSION.c.number == draft.session
        )
    ).first()
    if row is None:
        return int(
            connection.execute(
                sa.insert(_SESSION)
                .values(
                    course_id=draft.course,
                    number=draft.session,
                    early_reason="",
                    held_at=now,
                    course_version_id=version.id,
                )
                .returning(_SESSION.c.id)
            ).scalar_one()
        )
    changed = connection.execute(
        sa.update(_SESSION)
        .where(_SESSION.c.id == row.id, _SESSION.c.held_at.is_(None))
        .values(held_at=now, course_version_id=version.id)
    ).rowcount
    if changed != 1:
        raise ServiceError(
            f"not dispensed: session {draft.session} of course {draft.course} was made at "
            "another terminal meanwhile"
        )
    return int(row.id)


def _history(
    connection: sa.Connection,
    limits: Sequence[CourseLimit],
    patient_pk: int,
    course: int | None,
    zone: tzinfo,
) -> list[GivenSession]:
    """Each treatment the patient had with a limited substance: a course session's batches as
    one, and outside courses each day's batches as one."""
    wanted = {limit.substance for limit in limits}
    grouped: dict[tuple[int | None, int | None, date | None], _Treatment] = {}
    for batch_id, at, course_id, number, delivered in connection.execute(
        _RECEIVED, {"patient": patient_pk}
    ):
        if not wanted & set(delivered):
            continue
        day = _day(at, zone)
        key = (course_id, number, None) if course_id is not None else (None, None, day)
        _, sums, batches = grouped.setdefault(key, (day, {}, []))
        if batch_id not in batches:
            batches.append(batch_id)
        for code, text in delivered.items():
            if code in wanted:
                value, dimension = amount_of(text, batch_id)
                sums[code] = sums.get(code, Decimal(0)) + _in_limit_unit(
                    limits, code, value, dimension
                )
    given: list[GivenSession] = []
    for index, ((course_id, number, _), (day, sums, batches)) in enumerate(
        grouped.items(), start=1
    ):
        if course_id is not None and course_id == course and number is not None:
            label = ""
        elif course_id is not None:
            number, label = -index, f"course {course_id} session {number}"
        else:
            number = -index
            label = ("batch " if len(batches) == 1 else "batches ") + ", ".join(map(str, batches))
        given.append(GivenSession(number, day, sums, label))
    return given


def _amounts(
    limits: Sequence[CourseLimit], sums: dict[str, tuple[Decimal, str]]
) -> dict[str, Decimal]:
    return {
        limit.substance: _in_limit_unit(limits, limit.substance, *sums[limit.substance])
        for limit in limits
        if limit.substance in sums
    }


def _in_limit_unit(
    limits: Sequence[CourseLimit], code: str, value: Decimal, dimension: str
) -> Decimal:
    """An amount in its canonical unit is in the limit's unit when their dimensions agree (mg
    for a mass); an amount of another dimension is not one the limit's cap can add up."""
    unit = next((limit.unit for limit in limits if limit.substance == code), "mg")
    return value if _UNIT_DIMENSION.get(unit) == dimension else Decimal(0)


def _early(
    connection: sa.Connection,
    row: sa.Row[Any] | None,
    too_soon: str,
    today: date,
    zone: tzinfo,
) -> Finding:
    """Too soon after the session before: a WARNING to read when a practitioner booked it for
    today on a reason, else a BLOCK for a practitioner to sign off."""
    if (
        row is not None
        and row.early_signed_by is not None
        and row.booked_for is not None
        and _day(row.booked_for, zone) == today
    ):
        signer = connection.execute(
            sa.select(_USER.c.display_name).where(_USER.c.id == row.early_signed_by)
        ).scalar_one()
        return Finding(
            Severity.WARN,
            "course.booked_early",
            f"{too_soon}; booked early by {signer}: {row.early_reason}",
        )
    return Finding(Severity.BLOCK, "course.too_soon", too_soon, overridable=True)


def _block(code: str, message: str) -> Finding:
    return Finding(Severity.BLOCK, code, message)


def _day(at: datetime, zone: tzinfo) -> date:
    return at.astimezone(zone).date()
