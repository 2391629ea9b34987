"""Patients and their allergies, read as the checks and the screens need them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from mesomix.db.tables import AllergyRow, PatientRow
from mesomix.domain.allergy import Allergy, Reaction
from mesomix.domain.catalog import Coding
from mesomix.domain.checks import PatientFacts
from mesomix.domain.text import storable

_PATIENT = PatientRow.__table__
_ALLERGY = AllergyRow.__table__
# One round trip for the patient and every allergy (a patient without allergies gives one row).
_PATIENT_WITH_ALLERGIES = (
    sa.select(
        _PATIENT.c.id.label("patient_pk"),
        _PATIENT.c.ref,
        _PATIENT.c.name,
        _PATIENT.c.weight_g,
        _ALLERGY,
    )
    .select_from(_PATIENT.outerjoin(_ALLERGY, _ALLERGY.c.patient_id == _PATIENT.c.id))
    .where(_PATIENT.c.ref == sa.bindparam("ref"))
    .order_by(_ALLERGY.c.id)
)


def allergy_from_row(row: AllergyRow | sa.Row[Any]) -> Allergy:
    return Allergy(
        id=row.id,
        substance=row.substance_code,
        group=row.group_code,
        text=row.text,
        clinical_status=row.clinical_status,
        verification=row.verification,
        criticality=row.criticality,
        reactions=tuple(
            Reaction(r.get("manifestation", ""), r.get("severity", "")) for r in row.reactions or ()
        ),
        note=row.note,
        tolerated=tuple(row.tolerated or ()),
        recorded_on=row.recorded_on,
        codings=tuple(
            Coding(c.get("system", ""), c.get("code", ""), c.get("display", ""))
            for c in row.codings or ()
        ),
        origin=row.fhir_origin,
    )


def weight_kg(weight_g: int | None) -> Decimal | None:
    return Decimal(weight_g) / 1000 if weight_g is not None else None


def patient_facts(connection: sa.Connection, ref: str) -> tuple[Any, PatientFacts] | None:
    """The patient's row and what the checks need (weight, allergies), in the caller's transaction."""
    ref = ref.strip()
    if not storable(ref):
        return None
    rows = connection.execute(_PATIENT_WITH_ALLERGIES, {"ref": ref}).all()
    if not rows:
        return None
    patient = rows[0]
    allergies = tuple(allergy_from_row(row) for row in rows if row.id is not None)
    facts = PatientFacts(patient.ref, patient.name, weight_kg(patient.weight_g), allergies)
    return patient, facts


def patient_by_ref(session: Session, ref: str) -> PatientRow | None:
    """The patient under a reference as typed (surrounding spaces aside, as it was stored)."""
    ref = ref.strip()
    if not storable(ref):
        return None  # text no reference can hold (NUL, a lone surrogate)
    return session.exec(select(PatientRow).where(PatientRow.ref == ref)).first()
