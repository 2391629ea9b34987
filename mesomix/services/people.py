"""Patients and users as the other screens need them (editing them is a later capability)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import select

from mesomix.db.tables import AllergyRow, PatientRow, UserRow
from mesomix.services.uow import unit_of_work


@dataclass(frozen=True)
class AllergySummary:
    what: str  # substance or group code, or the free text
    coded: bool
    criticality: str
    verification: str
    reaction: str


@dataclass(frozen=True)
class PatientSummary:
    ref: str
    name: str
    date_of_birth: date | None
    weight_kg: Decimal | None
    allergies: tuple[AllergySummary, ...]


class PeopleService:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def patients(self) -> list[PatientSummary]:
        with unit_of_work(self._engine) as session:
            allergies: dict[int, list[AllergySummary]] = {}
            for row in session.exec(select(AllergyRow).order_by(AllergyRow.id)):
                what = row.substance_code or row.group_code or row.text
                allergies.setdefault(row.patient_id, []).append(
                    AllergySummary(
                        what,
                        bool(row.substance_code or row.group_code),
                        row.criticality,
                        row.verification,
                        row.reaction,
                    )
                )
            return [
                PatientSummary(
                    p.ref,
                    p.name,
                    p.date_of_birth,
                    Decimal(p.weight_g) / 1000 if p.weight_g is not None else None,
                    tuple(allergies.get(p.id or 0, ())),
                )
                for p in session.exec(select(PatientRow).order_by(PatientRow.name))
            ]

    def users(self) -> list[UserRow]:
        with unit_of_work(self._engine) as session:
            return list(session.exec(select(UserRow).order_by(UserRow.name)))
