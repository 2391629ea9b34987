"""Patients' weights and dates of birth: what the service refuses, whoever calls it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from mesomix.db.tables import PatientRow
from mesomix.services.errors import ServiceError
from mesomix.services.people import WeightToConfirm
from mesomix.services.uow import unit_of_work
from tests.factories import audit_rows


def patient(services, ref: str) -> PatientRow:
    with unit_of_work(services.engine) as session:
        return session.exec(select(PatientRow).where(PatientRow.ref == ref)).one()


def test_a_weight_a_fifth_or_more_away_is_refused_until_confirmed(clinic):
    before = len(audit_rows(clinic))
    with pytest.raises(WeightToConfirm) as refused:
        clinic.people.set_weight("drchen", "P-1", "16.5 kg")  # 61.5 kg recorded: a slip?
    assert str(refused.value) == (
        "weight: 16.5 kg is 73% less than the 61.5 kg recorded; per-kg dose limits use it"
    )
    assert patient(clinic, "P-1").weight_g == 61_500  # nothing written
    assert len(audit_rows(clinic)) == before
    clinic.people.set_weight("drchen", "P-1", "16.5 kg", confirmed=True)
    assert patient(clinic, "P-1").weight_g == 16_500
    last = audit_rows(clinic)[-1]
    assert last.action == "patient.weight" and "73% less" in str(last.new)


def test_a_near_weight_or_a_first_weight_needs_no_confirming(clinic):
    clinic.people.set_weight("drchen", "P-1", "50 kg")  # 19% less: under a fifth
    assert patient(clinic, "P-1").weight_g == 50_000
    clinic.people.set_weight("drchen", "P-2", "5 kg")  # none recorded: nothing to compare
    assert patient(clinic, "P-2").weight_g == 5_000
    with pytest.raises(WeightToConfirm, match="more than the 5 kg recorded"):
        clinic.people.set_weight("drchen", "P-2", "70 kg")


def test_the_note_while_typing_says_saving_asks(clinic):
    (note,) = clinic.people.check_weight("30 kg", Decimal("66.0"))
    assert note == (
        "weight: check it — 55% less than the 66 kg recorded; per-kg dose limits use it "
        "(saving asks you to confirm it)"
    )
    assert clinic.people.check_weight("30 kg", None) == []


@pytest.mark.parametrize(
    ("born", "said"),
    [
        ("2030-01-01", "date of birth 2030-01-01: after today (2026-11-24)"),
        ("2026-11-25", "date of birth 2026-11-25: after today (2026-11-24)"),
        ("1896-11-23", "date of birth 1896-11-23: more than 130 years ago"),
        ("2023-02-30", "date of birth 2023-02-30: not a day of the calendar"),
        ("07/03/1984", "date of birth '07/03/1984': write it as YYYY-MM-DD"),
        ("19840307", "date of birth '19840307': write it as YYYY-MM-DD"),
        ("1984-W10-3", "date of birth '1984-W10-3': write it as YYYY-MM-DD"),
        (date(2027, 1, 1), "date of birth 2027-01-01: after today (2026-11-24)"),
    ],
)
def test_a_date_of_birth_that_cannot_be_is_refused(clinic, born, said):
    with pytest.raises(ServiceError) as refused:
        clinic.people.add_patient("drchen", "P-0100", "Noor Haddad", born, "64.5 kg")
    assert str(refused.value) == said
    assert clinic.people.patient_id("P-0100") is None  # nothing written
    if isinstance(born, str):
        assert clinic.people.check_born(born) == [said]  # said as it is typed, too


@pytest.mark.parametrize(
    ("born", "day"),
    [
        (" 1984-03-07 ", date(1984, 3, 7)),
        ("2026-11-24", date(2026, 11, 24)),  # born today
        ("1896-11-24", date(1896, 11, 24)),  # 130 years to the day
        (date(1990, 5, 1), date(1990, 5, 1)),  # the command line gives a date
        ("", None),
        (None, None),
    ],
)
def test_a_date_of_birth_as_typed_is_kept(clinic, born, day):
    clinic.people.add_patient("drchen", "P-0100", "Noor Haddad", born)
    assert patient(clinic, "P-0100").date_of_birth == day
