"""Formulas through the services: saved and versioned by practitioners, read and started by staff,
scaled, recorded on the batch they became; each write audited, each refusal writing nothing."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa
from sqlmodel import select

from mesomix.bootstrap import Settings, build
from mesomix.db.tables import BatchRow, FormulaVersionRow
from mesomix.domain.findings import Severity
from mesomix.services.audit import verify
from mesomix.services.demo import demo_formulas
from mesomix.services.errors import NotFound, PermissionDenied
from mesomix.services.formulas import (
    FormulaNotFound,
    FormulaRefused,
    ScaleRefused,
    VersionUnchanged,
)
from mesomix.services.uow import unit_of_work
from tests.factories import audit_rows, mixture, receive, seed_people, snapshot

B12 = "cyanocobalamin_1000mcg_1ml_vial"
LIDOCAINE = "lidocaine_2pct_2ml_amp"
SALINE = "sodium_chloride_09_10ml_vial"
RECIPE = mixture(("cyanocobalamin", "500 mcg"), ("lidocaine", "20 mg"), final="5 mL")


def save(services, user="drchen", name="Hair restoration", draft=RECIPE, **extra):
    return services.formulas.save(user, name, draft, extra.pop("purpose", "hair loss"), **extra)


def batch_row(services, batch_id: int) -> BatchRow:
    with unit_of_work(services.engine) as session:
        row = session.get(BatchRow, batch_id)
        assert row is not None
        return row


def test_a_practitioner_saves_a_formula_and_its_versions(clinic):
    assert save(clinic, description="scalp", note="first try") == ("hair_restoration", 1)
    changed = mixture(("cyanocobalamin", "1000 mcg"), ("lidocaine", "20 mg"), final="5 mL")
    assert save(clinic, draft=changed, note="more B12") == ("hair_restoration", 2)

    (summary,) = clinic.formulas.formulas("sam")
    assert (summary.code, summary.name, summary.purpose, summary.latest_version) == (
        "hair_restoration", "Hair restoration", "hair loss", 2,
    )  # fmt: skip
    assert (summary.description, summary.final_volume, summary.ingredients) == ("scalp", "5 mL", 2)
    first, second = clinic.formulas.versions("sam", "hair_restoration")
    assert [i.amount for i in first.ingredients] == ["500 mcg", "20 mg"]  # unchanged by version 2
    assert [i.amount for i in second.ingredients] == ["1000 mcg", "20 mg"]
    assert (first.note, second.note, second.created_by) == ("first try", "more B12", "drchen")
    assert clinic.formulas.version("sam", "hair_restoration") == second
    assert clinic.formulas.version("sam", "hair_restoration", 1) == first

    created, versioned = [r for r in audit_rows(clinic) if r.action.startswith("formula.")]
    assert (created.action, created.user_name, created.record_id) == (
        "formula.create", "drchen", "hair_restoration",
    )  # fmt: skip
    assert created.new == {
        "version": 1,
        "version_id": first.id,
        "name": "Hair restoration",
        "purpose": "hair loss",
    }
    assert (versioned.action, versioned.old, versioned.new) == (
        "formula.version", {"version": 1}, {"version": 2, "version_id": second.id},
    )  # fmt: skip
    assert verify(clinic.engine).intact


def test_a_name_is_the_same_formula_whatever_its_case_or_accents(clinic):
    save(clinic, name="Réjuvénation")
    code, number = save(
        clinic,
        name="  rejuvenation ",
        draft=mixture(("lidocaine", "10 mg")),
        purpose="facial rejuvenation",
    )
    assert (code, number) == ("rejuvenation", 2)
    (summary,) = clinic.formulas.formulas("drchen")
    assert (summary.name, summary.purpose) == ("Réjuvénation", "facial rejuvenation")


def test_the_same_recipe_again_is_refused_and_writes_nothing(clinic):
    save(clinic)
    before, trail = snapshot(clinic), len(audit_rows(clinic))
    same = dataclasses.replace(RECIPE, patient="P-2", purpose="pain")
    with pytest.raises(VersionUnchanged, match="version 1 already: no new version was saved"):
        save(clinic, draft=same, note="again", description="new words")
    assert snapshot(clinic) == before and len(audit_rows(clinic)) == trail


def test_starting_a_mixture_from_a_formula_and_scaling_it(clinic):
    save(clinic)
    save(clinic, draft=mixture(("cyanocobalamin", "250 mcg"), ("lidocaine", "20 mg"), final="5 mL"))
    first, second = clinic.formulas.versions("sam", "hair_restoration")
    draft = clinic.formulas.start("sam", "hair_restoration", "P-1")
    assert [i.amount for i in draft.ingredients] == ["250 mcg", "20 mg"]
    assert (draft.patient, draft.purpose, draft.final_volume) == ("P-1", "hair loss", "5 mL")
    assert draft.formula_version == second.id
    older = clinic.formulas.start("sam", "hair_restoration", "P-1", final_volume="10 mL", version=1)
    assert [i.amount for i in older.ingredients] == ["1000 mcg", "40 mg"]
    assert (older.final_volume, older.formula_version) == ("10 mL", first.id)
    details = clinic.formulas.scaling("sam", "hair_restoration", "P-1", "3 mL", version=1)
    assert [i.amount for i in details.draft.ingredients] == ["300 mcg", "12 mg"]
    assert details.factor_text == "0.6" and details.rounded == ()


def test_dispensing_a_draft_from_a_formula_records_the_version_on_the_batch(clinic):
    for product, containers in ((B12, 5), (LIDOCAINE, 5), (SALINE, 5)):
        receive(clinic, product, f"L-{product[:4]}", containers)
    save(clinic)
    (version,) = clinic.formulas.versions("sam", "hair_restoration")
    draft = clinic.formulas.start("sam", "hair_restoration", "P-1", final_volume="4 mL")
    result = clinic.mixtures.dispense(draft, "sam")
    assert batch_row(clinic, result.batch_id).formula_version_id == version.id
    plain = clinic.mixtures.dispense(RECIPE, "sam")
    assert batch_row(clinic, plain.batch_id).formula_version_id is None


def test_a_draft_naming_a_version_that_does_not_exist_is_not_dispensed(clinic):
    for product in (B12, LIDOCAINE, SALINE):
        receive(clinic, product, "L1", 5)
    before, trail = snapshot(clinic), len(audit_rows(clinic))
    with pytest.raises(NotFound, match="formula version 999, which does not exist"):
        clinic.mixtures.dispense(dataclasses.replace(RECIPE, formula_version=999), "sam")
    assert snapshot(clinic) == before and len(audit_rows(clinic)) == trail


def test_retiring_a_formula(clinic):
    save(clinic)
    clinic.formulas.retire("drchen", "hair_restoration", "replaced by the new protocol")
    assert clinic.formulas.formulas("sam") == []
    (retired,) = clinic.formulas.formulas("sam", include_retired=True)
    assert not retired.active
    assert clinic.formulas.version("sam", "hair_restoration").number == 1  # still readable
    row = audit_rows(clinic)[-1]
    assert (row.action, row.old, row.new, row.reason) == (
        "formula.retire", {"active": True, "version": 1}, {"active": False}, "replaced by the new protocol",
    )  # fmt: skip
    before, trail = snapshot(clinic), len(audit_rows(clinic))
    with pytest.raises(FormulaRefused, match="is retired: it can no longer be started"):
        clinic.formulas.start("sam", "hair_restoration", "P-1")
    with pytest.raises(FormulaRefused, match="is retired: save the recipe under another name"):
        save(clinic, draft=mixture(("lidocaine", "10 mg")))
    with pytest.raises(FormulaRefused, match="retired already"):
        clinic.formulas.retire("drchen", "hair_restoration")
    assert snapshot(clinic) == before and len(audit_rows(clinic)) == trail


@pytest.mark.parametrize(
    ("call", "error", "says"),
    [
        (lambda s: save(s, name=""), FormulaRefused, "give the formula a name"),
        (lambda s: save(s, name="x" * 81), FormulaRefused, "at most 80 characters"),
        (lambda s: save(s, name="Hair\x1b[31m"), FormulaRefused, "control character"),
        (lambda s: save(s, purpose="baldness"), FormulaRefused, "unknown purpose 'baldness'"),
        (lambda s: save(s, draft=mixture()), FormulaRefused, "no ingredients"),
        (lambda s: save(s, draft=mixture(("unobtainium", "5 mg"))), FormulaRefused, "not saved: 'unobtainium' is not a substance"),
        (lambda s: save(s, draft=mixture(("lidocaine", "5 ML"))), FormulaRefused, "megalitres"),
        (lambda s: save(s, draft=mixture(("lidocaine", "200 mg"), final="5 mL")), FormulaRefused, "more than the final volume"),
        (lambda s: save(s, draft=mixture(("lidocaine", "20 mg"), diluent="lidocaine_2pct_2ml_amp", final="5 mL")), FormulaRefused, "is not a diluent"),
        (lambda s: save(s, draft=dataclasses.replace(RECIPE, storage="freezer")), FormulaRefused, "unknown storage 'freezer'"),
        (lambda s: save(s, note="x" * 501), FormulaRefused, "the note has at most 500"),
        (lambda s: s.formulas.start("sam", "nothing", "P-1"), FormulaNotFound, "no formula 'nothing'"),
        (lambda s: s.formulas.start("sam", "hair_restoration", "P-404"), NotFound, "no patient with reference 'P-404'"),
        (lambda s: s.formulas.start("sam", "hair_restoration", " "), FormulaRefused, "choose the patient"),
        (lambda s: s.formulas.start("sam", "hair_restoration", "P-1", final_volume="0 mL"), ScaleRefused, "more than zero"),
        (lambda s: s.formulas.start("sam", "hair_restoration", "P-1", final_volume="20 mg"), ScaleRefused, "a mass where a volume"),
        (lambda s: s.formulas.start("sam", "hair_restoration", "P-1", final_volume="1 L"), ScaleRefused, "more than 100×"),
        (lambda s: s.formulas.version("sam", "hair_restoration", 7), FormulaRefused, "no version 7"),
        (lambda s: s.formulas.retire("drchen", "nothing"), FormulaNotFound, "no formula"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_and_writes_nothing(clinic, call, error, says):
    save(clinic)
    before, trail = snapshot(clinic), len(audit_rows(clinic))
    with pytest.raises(error, match=says):
        call(clinic)
    assert snapshot(clinic) == before and len(audit_rows(clinic)) == trail


def test_a_formula_without_a_final_volume_starts_but_does_not_scale(clinic):
    save(clinic, draft=mixture(("lidocaine", "20 mg")))
    assert clinic.formulas.start("sam", "hair_restoration", "P-1").final_volume == ""
    with pytest.raises(ScaleRefused, match="has no final volume"):
        clinic.formulas.start("sam", "hair_restoration", "P-1", final_volume="5 mL")


@pytest.mark.parametrize(
    ("user", "call"),
    [
        ("sam", lambda s, u: save(s, user=u, name="Staff recipe")),
        ("nadia", lambda s, u: save(s, user=u, name="Manager recipe")),
        ("root", lambda s, u: save(s, user=u, name="Admin recipe")),
        ("sam", lambda s, u: s.formulas.retire(u, "hair_restoration")),
        ("nadia", lambda s, u: s.formulas.formulas(u)),
        ("root", lambda s, u: s.formulas.start(u, "hair_restoration", "P-1")),
    ],
)
def test_only_practitioners_save_and_retire_and_managers_do_not_read(clinic, user, call):
    save(clinic)
    before, trail = snapshot(clinic), len(audit_rows(clinic))
    with pytest.raises(PermissionDenied, match=f"{user} \\(.*\\) may not"):
        call(clinic, user)
    assert snapshot(clinic) == before
    rows = audit_rows(clinic)
    assert len(rows) == trail + 1 and (rows[-1].action, rows[-1].user_name) == ("denied", user)


def test_staff_read_and_start_formulas(clinic):
    save(clinic)
    assert [f.code for f in clinic.formulas.formulas("sam")] == ["hair_restoration"]
    assert clinic.formulas.start("sam", "hair_restoration", "P-2").patient == "P-2"


def test_every_demo_formula_checks_clean_for_a_weighed_patient_without_allergies(demo):
    shipped = demo_formulas()
    assert 5 <= len(shipped) <= 6
    assert all(f.note.startswith("Source: ") and len(f.note) > 30 for f in shipped)
    listed = demo.formulas.formulas("sam")
    assert sorted(f.name for f in listed) == sorted(f.name for f in shipped)
    for summary in listed:
        for patient in ("P-0003", "P-0011", "P-0015"):  # adults, weighed, no allergies
            for volume in (None, "10 mL", "2.5 mL"):
                draft = demo.formulas.start("sam", summary.code, patient, volume)
                plan = demo.mixtures.check(draft, "sam")
                blocks = [f.message for f in plan.findings if f.severity is Severity.BLOCK]
                assert blocks == [], (summary.name, patient, volume)
    made = demo.mixtures.dispense(demo.formulas.start("sam", listed[0].code, "P-0003"), "sam")
    assert batch_row(demo, made.batch_id).formula_version_id is not None


def test_formulas_on_postgresql(postgres, clock):
    services = build(Settings(database_url=postgres.create_database("formulas"), clock=clock))
    try:
        seed_people(services)
        save(services)
        assert save(services, draft=mixture(("lidocaine", "30 mg"), final="5 mL")) == (
            "hair_restoration",
            2,
        )
        with pytest.raises(VersionUnchanged):
            save(services, draft=mixture(("lidocaine", "30 mg"), final="5 mL"))
        for product in (B12, LIDOCAINE, SALINE):
            receive(services, product, "L1", 5)
        draft = services.formulas.start(
            "sam", "hair_restoration", "P-1", final_volume="2.5 mL", version=1
        )
        batch = services.mixtures.dispense(draft, "sam").batch_id
        with unit_of_work(services.engine) as session:
            stored = session.exec(
                select(FormulaVersionRow.version)
                .join(BatchRow, BatchRow.formula_version_id == FormulaVersionRow.id)
                .where(BatchRow.id == batch)
            ).one()
        assert stored == 1
        services.formulas.retire("drchen", "hair_restoration")
        assert services.formulas.formulas("sam") == []
        with (
            pytest.raises(sa.exc.IntegrityError),
            unit_of_work(services.engine, write=True) as session,
        ):
            session.execute(sa.insert(FormulaVersionRow.__table__).values(
                formula_id=1, version=1, ingredients=[], final_volume="", storage="room", note="",
                created_at=clock.now(), created_by=2,
            ))  # fmt: skip
        with pytest.raises(sa.exc.DatabaseError, match="formula versions are never changed"):
            _edit_a_stored_version(services)
        assert verify(services.engine).intact
    finally:
        services.close()


def _edit_a_stored_version(services) -> None:
    with unit_of_work(services.engine, write=True) as session:
        session.execute(sa.update(FormulaVersionRow).values(final_volume="50 mL"))


def test_a_stored_version_cannot_be_edited_even_behind_the_services_back(clinic):
    save(clinic)
    with pytest.raises(sa.exc.DatabaseError, match="formula versions are never changed"):
        _edit_a_stored_version(clinic)
    assert clinic.formulas.version("sam", "hair_restoration").final_volume == "5 mL"
