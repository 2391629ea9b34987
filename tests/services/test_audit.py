"""The audit trail: a row for every write, append-only by trigger, and a chain that reveals an
edited, deleted, reordered or truncated row — on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from mesomix.bootstrap import Settings, build
from mesomix.domain.allergy import Allergy
from mesomix.services.audit import show, verify
from tests.factories import audit_rows, mixture, receive, seed_people, tamper_audit

B12 = "cyanocobalamin_1000mcg_1ml_vial"


def busy_day(services):
    """A little of everything a clinic writes."""
    services.accounts.sign_in("sam", "correct horse battery")
    lot = receive(services, B12, "B1", 10)
    services.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), "sam")
    allergy = services.allergies.record("P-1", "drchen", Allergy(text="latex gloves"))
    services.allergies.code(allergy, "drchen", substance="natural_rubber_latex")
    services.allergies.set_verification(allergy, "drchen", "confirmed")
    services.accounts.create_user("root", "lea", "Léa", "staff", "another long password")
    return lot


def test_every_write_leaves_a_row_with_who_what_when_and_why(clinic):
    lot = busy_day(clinic)
    rows = audit_rows(clinic)
    actions = [row.action for row in rows]
    for expected in (
        "sign_in",
        "stock.receive",
        "dispense",
        "stock.take",
        "allergy.record",
        "allergy.code",
        "allergy.verify",
        "user.create",
    ):
        assert expected in actions, expected
    dispense = next(row for row in rows if row.action == "dispense")
    assert dispense.user_name == "sam" and dispense.patient_id and dispense.at.tzinfo is not None
    code = next(row for row in rows if row.action == "allergy.code")
    assert code.old["text"] == "latex gloves" and code.new["substance"] == "natural_rubber_latex"
    assert [line.action for line in show(clinic.engine, lot_id=lot)] == [
        "stock.take",
        "stock.receive",
    ]
    assert {line.user_name for line in show(clinic.engine, user="drchen")} == {"drchen"}
    assert verify(clinic.engine).intact


def test_filters_by_time(clinic):
    busy_day(clinic)
    later = clinic.clock.now() + timedelta(hours=1)
    assert show(clinic.engine, since=later) == []
    assert show(clinic.engine, until=later)


@pytest.mark.parametrize(
    "statement", ["UPDATE audit SET reason = 'x' WHERE id = 1", "DELETE FROM audit WHERE id = 1"]
)
def test_the_database_refuses_to_change_or_delete_audit_rows(clinic, statement):
    busy_day(clinic)
    with (
        pytest.raises(sa.exc.DatabaseError, match="append-only"),
        clinic.engine.begin() as connection,
    ):
        connection.exec_driver_sql(statement)


@pytest.mark.parametrize(
    ("statements", "says"),
    [
        (["UPDATE audit SET reason = 'nothing to see' WHERE id = 3"], "row 3 was edited"),
        (["DELETE FROM audit WHERE id = 3"], "row 3 is missing"),
        (  # two rows' ids swapped: each row's id is part of what its hash covers
            [
                "UPDATE audit SET id = -4 WHERE id = 4",
                "UPDATE audit SET id = 4 WHERE id = 3",
                "UPDATE audit SET id = 3 WHERE id = -4",
            ],
            "row 3 was edited",
        ),
        (  # two rows' places in the chain swapped
            [
                "UPDATE audit SET seq = -4 WHERE seq = 4",
                "UPDATE audit SET seq = 4 WHERE seq = 3",
                "UPDATE audit SET seq = 3 WHERE seq = -4",
            ],
            "row 3 does not follow row 2",
        ),
        (
            ["DELETE FROM audit WHERE id >= (SELECT MAX(id) - 1 FROM audit)"],
            "rows were cut from the end",
        ),
    ],
    ids=["edited", "deleted", "ids swapped", "reordered", "truncated"],
)
def test_tampering_is_detected(clinic, statements, says):
    busy_day(clinic)
    assert verify(clinic.engine).intact
    tamper_audit(clinic, *statements)
    verdict = verify(clinic.engine)
    assert not verdict.intact and says in verdict.problem


def test_the_chain_and_its_guard_on_postgresql(postgres, clock):
    services = build(Settings(database_url=postgres.create_database("audit"), clock=clock))
    seed_people(services)
    busy_day(services)
    assert verify(services.engine).intact
    for statement in (
        "UPDATE audit SET reason = 'x' WHERE id = 1",
        "DELETE FROM audit WHERE id = 1",
        "TRUNCATE audit",
    ):
        with (
            pytest.raises(sa.exc.DatabaseError, match="append-only"),
            services.engine.begin() as connection,
        ):
            connection.exec_driver_sql(statement)
    services.close()


def test_a_broken_chain_is_not_anchored_and_an_anchor_past_the_break_is_not_reached(clinic):
    from mesomix.services.audit import anchor
    from mesomix.services.errors import ServiceError

    busy_day(clinic)
    head = anchor(clinic.engine, clinic.clock, "nadia")
    assert audit_rows(clinic)[-1].action == "audit.anchor" and head.row_id == len(
        audit_rows(clinic)
    )
    assert verify(clinic.engine, [head]).intact
    tamper_audit(clinic, "UPDATE audit SET reason = 'nothing to see' WHERE id = 3")
    with pytest.raises(ServiceError, match="it is not anchored"):
        anchor(clinic.engine, clinic.clock, "nadia")
    verdict = verify(clinic.engine, [head])
    assert "row 3 was edited" in verdict.problem
    assert verdict.anchor_problems == (
        f"{head.named()}: the chain breaks at row 3, before the anchored row",
    )
