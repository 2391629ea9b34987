"""Patients and users as the screens and the checks need them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mesomix.clock import Clock
from mesomix.db.repositories.patients import allergy_from_row, patient_by_ref, weight_kg
from mesomix.db.repositories.reactions import after_batches
from mesomix.db.tables import AllergyRow, BatchRow, PatientRow, UserRow
from mesomix.domain.allergy import Allergy
from mesomix.domain.permissions import Action
from mesomix.domain.units import Field, QuantityError, parse_quantity
from mesomix.services.base import Service
from mesomix.services.errors import NotFound, ServiceError
from mesomix.services.labels import (
    Acknowledged,
    RecalledLot,
    SignedOff,
    acknowledged,
    recalled_lots,
    signed_off,
    with_overrides,
    with_recalls,
)
from mesomix.services.uow import unit_of_work


@dataclass(frozen=True)
class PatientSummary:
    ref: str
    name: str
    date_of_birth: date | None
    weight_kg: Decimal | None
    allergies: tuple[Allergy, ...]


@dataclass(frozen=True)
class BatchSummary:
    """One mixture a patient received, as the patient's history lists it."""

    batch_id: int
    made_at: datetime
    final_volume_ul: int
    purpose: str
    made_by: str
    contents: str  # the ingredients as they were typed
    label: str
    overridden: tuple[SignedOff, ...] = ()  # blocks signed off to make it
    acknowledged: tuple[Acknowledged, ...] = ()  # warnings read by the person dispensing
    recalled: tuple[RecalledLot, ...] = ()  # lots drawn into it that are recalled now
    reactions: tuple[str, ...] = ()  # each reaction after it, as it stands, in words


class PeopleService(Service):
    def __init__(self, engine: sa.Engine, clock: Clock) -> None:
        super().__init__(engine, clock)

    def patients(self, user: str) -> list[PatientSummary]:
        """Patients with weight and allergies: only for the roles that need them."""
        with self.reading(user, Action.VIEW_PATIENTS) as (session, _):
            allergies: dict[int, list[Allergy]] = {}
            for row in session.exec(select(AllergyRow).order_by(col(AllergyRow.id))):
                allergies.setdefault(row.patient_id, []).append(allergy_from_row(row))
            return [
                PatientSummary(
                    p.ref,
                    p.name,
                    p.date_of_birth,
                    weight_kg(p.weight_g),
                    tuple(allergies.get(p.id or 0, ())),
                )
                for p in session.exec(select(PatientRow).order_by(PatientRow.name))
            ]

    def history(self, user: str, ref: str) -> list[BatchSummary]:
        """The mixtures a patient received, newest first."""
        with self.reading(user, Action.VIEW_PATIENTS) as (session, _):
            patient = patient_by_ref(session, ref)
            if patient is None:
                raise NotFound(f"no patient with reference '{ref}'")
            rows = session.exec(
                select(BatchRow, UserRow.display_name)
                .join(UserRow, col(UserRow.id) == col(BatchRow.actor_id))
                .where(BatchRow.patient_id == patient.id)
                .order_by(col(BatchRow.created_at).desc(), col(BatchRow.id).desc())
            ).all()
            ids = [batch.id or 0 for batch, _ in rows]
            signed, read = signed_off(session, ids), acknowledged(session, ids)
            recalled = recalled_lots(session, ids, self._clock.zone)
            after = after_batches(session.connection(), ids)
            return [
                BatchSummary(
                    batch.id or 0,
                    batch.created_at,
                    batch.final_volume_ul,
                    batch.purpose,
                    made_by,
                    contents(batch.draft),
                    with_recalls(
                        with_overrides(batch.label, signed.get(batch.id or 0, [])),
                        recalled.get(batch.id or 0, []),
                    ),
                    tuple(signed.get(batch.id or 0, ())),
                    tuple(read.get(batch.id or 0, ())),
                    tuple(recalled.get(batch.id or 0, ())),
                    tuple(
                        f"reaction {r.reaction_id}: {r.said}, {r.outcome}"
                        + ("" if r.confirmed else " (not confirmed)")
                        for r in after.get(batch.id or 0, ())
                    ),
                )
                for batch, made_by in rows
            ]

    def add_patient(
        self,
        user: str,
        ref: str,
        name: str,
        date_of_birth: date | str | None = None,
        weight: str = "",
    ) -> int:
        """A new patient; the date of birth as typed ("1984-03-07") or a date, the weight as
        typed ("70 kg"); either may be left for later."""
        ref, name = ref.strip(), name.strip()
        if not ref or len(ref) > 20 or not ref.isprintable():
            raise ServiceError("a patient reference is 1 to 20 printable characters")
        if not name or len(name) > 120 or not name.isprintable():
            raise ServiceError("a patient's name is 1 to 120 printable characters")
        date_of_birth = _born(date_of_birth, self._clock.today())
        weight_g = _weight_g(weight) if weight.strip() else None
        with self.writing(user, Action.EDIT_PATIENTS) as (session, actor):
            if session.exec(select(PatientRow).where(PatientRow.ref == ref)).first():
                raise ServiceError(f"the reference '{ref}' is taken")
            patient = PatientRow(
                ref=ref,
                name=name,
                date_of_birth=date_of_birth,
                weight_g=weight_g,
                created_at=self._clock.now(),
            )
            session.add(patient)
            session.flush()
            self._audit(
                session,
                actor,
                "patient.add",
                patient,
                None,
                {"ref": ref, "name": name, "weight_g": weight_g},
            )
            return patient.id or 0

    def set_weight(self, user: str, ref: str, weight: str, confirmed: bool = False) -> None:
        """Record a weight ("70 kg", "70.5 kg"): per-kg dose limits depend on it. One a fifth
        or more from the weight recorded is refused (WeightToConfirm, nothing written) unless
        the caller says the person confirmed it: 16.5 kg typed for 61.5 kg is a slip."""
        weight_g = _weight_g(weight)
        with self.writing(user, Action.EDIT_PATIENTS) as (session, actor):
            patient = patient_by_ref(session, ref)
            if patient is None:
                raise NotFound(f"no patient with reference '{ref}'")
            far = _far_from(weight_g, weight_kg(patient.weight_g))
            if far and not confirmed:
                raise WeightToConfirm(f"weight: {weight.strip()} is {far}")
            old: dict[str, object] = {"weight_g": patient.weight_g}
            new: dict[str, object] = {"weight_g": weight_g}
            if far:
                new["confirmed"] = far  # what the person was asked, and said yes to
            patient.weight_g = weight_g
            session.add(patient)
            self._audit(session, actor, "patient.weight", patient, old, new)

    def set_active(self, user: str, ref: str, active: bool, reason: str) -> None:
        """A patient the clinic no longer treats (moved away, died, asked to leave), or treats
        again: no new course is planned for an inactive one. The record and its history stay."""
        reason = (reason or "").strip()
        if not reason:
            raise ServiceError("a patient made inactive or active again needs a reason")
        with self.writing(user, Action.EDIT_PATIENTS) as (session, actor):
            patient = patient_by_ref(session, ref)
            if patient is None:
                raise NotFound(f"no patient with reference '{ref}'")
            if patient.active == active:
                raise ServiceError(f"{patient.ref} is {'active' if active else 'inactive'} already")
            old: dict[str, object] = {"active": patient.active}
            patient.active = active
            session.add(patient)
            self._audit(
                session, actor, "patient.active", patient, old, {"active": active, "reason": reason}
            )

    @staticmethod
    def check_weight(typed: str, recorded_kg: Decimal | None) -> list[str]:
        """What to say of a weight as it is typed: why it cannot be read, or a warning when it
        is far from the one recorded (per-kg dose limits use it; 16.5 for 61.5 is a slip)."""
        if not typed.strip():
            return []
        try:
            grams = _weight_g(typed)
        except ServiceError as exc:
            return [str(exc)]
        far = _far_from(grams, recorded_kg)
        if far:
            return [f"weight: check it — {far} (saving asks you to confirm it)"]
        return []

    def check_born(self, typed: str) -> list[str]:
        """What to say of a date of birth as it is typed: why it is refused, if it is."""
        try:
            _born(typed, self._clock.today())
        except ServiceError as exc:
            return [str(exc)]
        return []

    def _audit(
        self,
        session: Session,
        actor: UserRow,
        action: str,
        patient: PatientRow,
        old: dict[str, object] | None,
        new: dict[str, object],
    ) -> None:
        self.audit(
            session, actor, action, ("patient", patient.id), patient_id=patient.id, old=old, new=new
        )

    def patient_id(self, ref: str) -> int | None:
        with unit_of_work(self._engine) as session:
            patient = patient_by_ref(session, ref)
            return patient.id if patient else None

    def practitioners(self) -> list[tuple[str, str]]:
        """(display name, user name) of active practitioners: who may sign an override."""
        with unit_of_work(self._engine) as session:
            rows = session.exec(
                select(UserRow)
                .where(UserRow.role == "practitioner", UserRow.active)
                .order_by(UserRow.name)
            )
            return [(row.display_name, row.name) for row in rows]


def contents(draft: dict[str, Any]) -> str:
    """The ingredients of a batch's draft as typed ("lidocaine 20 mg + biotin 5 mg"); the rows
    Compose left blank are not ingredients."""
    typed = (
        f"{item.get('what') or ''} {item.get('amount') or ''}".strip()
        for item in draft.get("ingredients", [])
    )
    return " + ".join(item for item in typed if item)


MAX_WEIGHT_KG = 350


WEIGHT_CHANGE_TO_CHECK = Decimal("0.2")  # a fifth up or down: confirmed before it is saved
OLDEST_YEARS = 130  # a date of birth further back is a slip


class WeightToConfirm(ServiceError):
    """A weight a fifth or more from the one recorded, refused until the person confirms it
    (`set_weight(..., confirmed=True)`): nothing was written."""


def _far_from(grams: int, recorded_kg: Decimal | None) -> str:
    """How far a weight is from the one recorded ("50% less than the 66 kg recorded; …"), when
    it is a fifth or more; "" when it is near, or nothing was recorded."""
    if not recorded_kg:
        return ""
    change = (Decimal(grams) / 1000 - recorded_kg) / recorded_kg
    if abs(change) < WEIGHT_CHANGE_TO_CHECK:
        return ""
    more = "more" if change > 0 else "less"
    return (
        f"{abs(change):.0%} {more} than the {recorded_kg.normalize():f} kg recorded; "
        "per-kg dose limits use it"
    )


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _born(typed: date | str | None, today: date) -> date | None:
    """A date of birth as typed (YYYY-MM-DD) or given; refused if it is not a day of the
    calendar, after today, or more than OLDEST_YEARS years ago."""
    if isinstance(typed, str):
        text = typed.strip()
        if not text:
            return None
        if not _ISO_DAY.fullmatch(text):
            raise ServiceError(f"date of birth '{text}': write it as YYYY-MM-DD")
        try:
            typed = date.fromisoformat(text)
        except ValueError:
            raise ServiceError(f"date of birth {text}: not a day of the calendar") from None
    if typed is None:
        return None
    if typed > today:
        raise ServiceError(f"date of birth {typed.isoformat()}: after today ({today.isoformat()})")
    if (typed.year, typed.month, typed.day) < (today.year - OLDEST_YEARS, today.month, today.day):
        raise ServiceError(f"date of birth {typed.isoformat()}: more than {OLDEST_YEARS} years ago")
    return typed


def _weight_g(typed: str) -> int:
    """A body weight typed by a person, in whole grams; refused with a reason if implausible."""
    try:
        weight = parse_quantity(typed, Field.BODY_WEIGHT)
    except QuantityError as exc:
        raise ServiceError(f"weight: {exc}") from None
    grams = Decimal(weight.to("gram").magnitude)
    if grams > MAX_WEIGHT_KG * 1000:
        raise ServiceError(
            f"weight {typed.strip()}: more than {MAX_WEIGHT_KG} kg is not a patient's weight"
        )
    if grams < 500:
        raise ServiceError(f"weight {typed.strip()}: less than 0.5 kg is not a patient's weight")
    return int(grams.to_integral_value())
