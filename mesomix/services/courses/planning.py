"""A practitioner plans a course, changes it (a new version, the old one kept), pauses, resumes
and ends it: each one transaction with its audit row, or nothing written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from mesomix.db.tables import (
    CourseRow,
    CourseVersionRow,
    FormulaRow,
    FormulaVersionRow,
    PatientRow,
    UserRow,
)
from mesomix.domain.course import Schedule
from mesomix.domain.course.plan import ZoneVolume, check_start, check_volumes, check_zones
from mesomix.domain.permissions import Action
from mesomix.domain.units import Field, QuantityError, parse_quantity
from mesomix.services.courses.base import CourseBase, given_reason, refusals
from mesomix.services.courses.reading import (
    CourseRefused,
    CourseView,
    course_row,
    indication_of,
    latest_version,
    session_rows,
    zones_of,
)
from mesomix.services.errors import NotFound


class Planning(CourseBase):
    def plan(
        self,
        user: str,
        patient_ref: str,
        indication: str,
        formula: str,
        zones: tuple[ZoneVolume, ...],
        starts_on: date,
        schedule: str = "",
    ) -> CourseView:
        """A new course for the patient: the indication's usual schedule unless one is typed,
        each session made from the formula's latest version, the zones with their volumes.
        Refused: an unknown patient, indication or formula, a retired formula, a start that is
        past or over a year off, zones that take more than the formula makes, and a second
        active course of the same indication (change that one instead)."""
        with self.writing(user, Action.PLAN_COURSE) as (session, actor), refusals():
            patient = patient_row(session, patient_ref)
            if not patient.active:
                raise CourseRefused(
                    f"{patient.name} ({patient.ref}) is inactive: make them active again "
                    "before planning a course"
                )
            known = indication_of(self._templates, indication)
            planned = Schedule.parse(schedule) if schedule.strip() else known.schedule
            check_start(starts_on, self._clock.today())
            zones = check_zones(list(zones))
            for zone in zones:
                self._zone(zone.zone)
            version_row = self._formula(session, formula, zones)
            clash = session.exec(
                select(CourseRow.id).where(
                    CourseRow.patient_id == patient.id,
                    CourseRow.indication == known.code,
                    col(CourseRow.status).in_(["active", "paused"]),
                )
            ).first()
            if clash is not None:
                raise CourseRefused(
                    f"{patient.name} already has course {clash} for {known.name}: change, "
                    "pause or end that one"
                )
            now = self._clock.now()
            course = CourseRow(
                patient_id=patient.id or 0,
                indication=known.code,
                starts_on=starts_on,
                created_at=now,
                created_by=actor.id or 0,
            )
            session.add(course)
            session.flush()
            version = self._version(session, course, actor, 1, 1, planned, version_row, zones, "")
            self.audit(
                session,
                actor,
                "course.plan",
                ("course", course.id),
                patient_id=patient.id,
                new=_said(version, known.code, starts_on),
            )
            return self._view(session, course)

    def change(
        self,
        user: str,
        course_id: int,
        reason: str,
        *,
        schedule: str = "",
        formula: str = "",
        zones: tuple[ZoneVolume, ...] = (),
    ) -> CourseView:
        """A new version of the plan, from the first session not yet held; what is not given is
        kept. Refused: an ended course, no reason, nothing changed, fewer sessions than held."""
        with self.writing(user, Action.PLAN_COURSE) as (session, actor), refusals():
            course = course_row(session, course_id)
            if course.status == "ended":
                raise CourseRefused(f"course {course_id} has ended: plan a new one")
            reason = given_reason(reason, "a change")
            old = latest_version(session, course_id)
            planned = Schedule.parse(schedule) if schedule.strip() else Schedule.parse(old.schedule)
            kept_zones = check_zones(list(zones)) if zones else zones_of(old)
            for zone in kept_zones:
                self._zone(zone.zone)
            if formula.strip():
                version_row = self._formula(session, formula, kept_zones)
            else:
                kept = session.get(FormulaVersionRow, old.formula_version_id)
                assert kept is not None  # a foreign key
                self._volumes(session, kept, kept_zones)
                version_row = kept
            held = sum(1 for s in session_rows(session, course_id).values() if s.held_at)
            if len(planned.steps) < held:
                raise CourseRefused(
                    f"{held} sessions of course {course_id} are held; the new schedule plans "
                    f"{len(planned.steps)}"
                )
            if (planned.said, version_row.id, kept_zones) == (
                old.schedule,
                old.formula_version_id,
                zones_of(old),
            ):
                raise CourseRefused(f"course {course_id}: nothing changed, no new version")
            version = self._version(
                session,
                course,
                actor,
                old.version + 1,
                held + 1,
                planned,
                version_row,
                kept_zones,
                reason,
            )
            self.audit(
                session,
                actor,
                "course.change",
                ("course", course_id),
                patient_id=course.patient_id,
                old=_said(old, course.indication, course.starts_on),
                new=_said(version, course.indication, course.starts_on),
                reason=reason,
            )
            return self._view(session, course)

    def pause(self, user: str, course_id: int, reason: str) -> CourseView:
        return self._status(user, course_id, "paused", reason, ("active",))

    def resume(self, user: str, course_id: int, reason: str = "resumed") -> CourseView:
        return self._status(user, course_id, "active", reason, ("paused",))

    def end(self, user: str, course_id: int, reason: str) -> CourseView:
        return self._status(user, course_id, "ended", reason, ("active", "paused"))

    def _status(
        self, user: str, course_id: int, status: str, reason: str, before: tuple[str, ...]
    ) -> CourseView:
        """A course paused, resumed or ended, with the practitioner's reason."""
        with self.writing(user, Action.PLAN_COURSE) as (session, actor), refusals():
            course = course_row(session, course_id)
            if course.status not in before:
                raise CourseRefused(
                    f"course {course_id} is {course.status}: it cannot be {status} now"
                )
            reason = given_reason(reason, f"a course {status}")
            old = course.status
            course.status, course.status_reason = status, reason
            session.add(course)
            self.audit(
                session,
                actor,
                f"course.{status}",
                ("course", course_id),
                patient_id=course.patient_id,
                old={"status": old},
                new={"status": status},
                reason=reason,
            )
            return self._view(session, course)

    # --- helpers ---------------------------------------------------------------------------

    def _formula(
        self, session: Session, code: str, zones: tuple[ZoneVolume, ...]
    ) -> FormulaVersionRow:
        """The formula's latest version, which must be in use and make enough for the zones."""
        formula = session.exec(
            select(FormulaRow).where(FormulaRow.code == code.strip().lower())
        ).first()
        if formula is None:
            raise NotFound(f"no formula '{code.strip()}'")
        if not formula.active:
            raise CourseRefused(f"formula '{formula.name}' is retired: a course cannot use it")
        version = session.exec(
            select(FormulaVersionRow)
            .where(FormulaVersionRow.formula_id == formula.id)
            .order_by(col(FormulaVersionRow.version).desc())
        ).first()
        assert version is not None  # a formula is saved with its first version
        self._volumes(session, version, zones)
        return version

    @staticmethod
    def _volumes(
        session: Session, version: FormulaVersionRow, zones: tuple[ZoneVolume, ...]
    ) -> None:
        if not version.final_volume.strip():
            return  # the sum of what is drawn: only the plan knows it, and Compose shows it
        formula = session.get(FormulaRow, version.formula_id)
        try:
            makes = parse_quantity(version.final_volume, Field.VOLUME)
        except QuantityError:
            return  # a stored version was checked when saved; its plan refuses it if not
        makes_ul = int(Decimal(makes.to("microliter").magnitude))
        name = formula.name if formula else "the formula"
        check_volumes(zones, makes_ul, f"{name} (version {version.version})")

    def _version(
        self,
        session: Session,
        course: CourseRow,
        actor: UserRow,
        number: int,
        from_session: int,
        schedule: Schedule,
        formula: FormulaVersionRow,
        zones: tuple[ZoneVolume, ...],
        reason: str,
    ) -> CourseVersionRow:
        row = CourseVersionRow(
            course_id=course.id or 0,
            version=number,
            from_session=from_session,
            schedule=schedule.said,
            formula_version_id=formula.id or 0,
            zones=[{"zone": z.zone, "volume_ul": z.volume_ul} for z in zones],
            reason=reason,
            created_at=self._clock.now(),
            created_by=actor.id or 0,
        )
        session.add(row)
        session.flush()
        return row


def patient_row(session: Session, ref: str) -> PatientRow:
    ref = (ref or "").strip()
    if not ref:
        raise CourseRefused("a course is planned for one patient: choose the patient first")
    row = session.exec(select(PatientRow).where(PatientRow.ref == ref)).first()
    if row is None:
        raise NotFound(f"no patient with reference '{ref}'")
    return row


def _said(version: CourseVersionRow, indication: str, starts_on: date) -> dict[str, Any]:
    return {
        "version": version.version,
        "indication": indication,
        "starts_on": starts_on.isoformat(),
        "schedule": version.schedule,
        "formula_version_id": version.formula_version_id,
        "zones": version.zones,
        "from_session": version.from_session,
    }
