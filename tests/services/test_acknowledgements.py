"""Every WARNING present at dispense is acknowledged by the person dispensing, by its key as shown
(or every one shown at once); the acknowledgement — who, when, the finding exactly as shown — is
kept with the batch, in the audit trail, on the label and in the patient's history. A changed
mixture's warnings have other keys, so an acknowledgement does not carry over to them."""

from __future__ import annotations

import pytest
from sqlmodel import select

from mesomix.bootstrap import Settings, build
from mesomix.db.tables import AcknowledgementRow, BatchRow
from mesomix.domain.findings import Severity
from mesomix.services.errors import ServiceError
from mesomix.services.labels import ACKNOWLEDGED, OVERRIDDEN
from mesomix.services.mixtures import DispenseRefused, Signature
from mesomix.services.uow import unit_of_work
from tests.factories import (
    PASSWORD,
    add_allergy,
    audit_rows,
    mixture,
    receive,
    seed_people,
    snapshot,
)

BACTERIOSTATIC = "bacteriostatic_water_30ml_mdv"  # benzyl alcohol 0.9 %
AMPOULE = "lidocaine_2pct_2ml_amp"
PROCAINE = "procain_steigerwald_1pct_5ml_amp"


def with_two_warnings(services) -> None:
    """P-1 as in the trial: a confirmed benzyl-alcohol allergy of low criticality and an
    uncoded 'nickel' — two WARNINGs against a mixture made up with bacteriostatic water."""
    add_allergy(
        services, "P-1", group_code="benzyl_alcohol", verification="confirmed", criticality="low"
    )
    add_allergy(services, "P-1", text="nickel", verification="confirmed", criticality="low")
    receive(services, BACTERIOSTATIC, "BW0001", 5)
    receive(services, AMPOULE, "LID001", 10)


def draft(amount: str = "20 mg"):
    return mixture(("lidocaine", amount), final="5 mL", diluent=BACTERIOSTATIC)


def warnings_of(services, amount: str = "20 mg"):
    plan = services.mixtures.check(draft(amount), "sam")
    return [f for f in plan.findings if f.severity is Severity.WARN]


def acknowledgements(services) -> list[AcknowledgementRow]:
    with unit_of_work(services.engine) as session:
        return list(session.exec(select(AcknowledgementRow).order_by(AcknowledgementRow.id)))


@pytest.fixture(params=["sqlite", "postgresql"])
def shop(request, tmp_path, clock):
    """The clinic on SQLite or PostgreSQL, with P-1's two warnings ready."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ack.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"ack_{tmp_path.name[-20:]}")
    services = build(Settings(database_url=url, clock=clock))
    seed_people(services)
    with_two_warnings(services)
    yield services
    services.close()


def test_warnings_not_acknowledged_are_refused_naming_each_and_nothing_is_written(shop):
    allergy, nickel = warnings_of(shop)
    before = snapshot(shop)
    with pytest.raises(DispenseRefused) as refused:
        shop.mixtures.dispense(draft(), "sam")
    assert refused.value.unacknowledged == [allergy, nickel]
    said = str(refused.value)
    assert f"[{allergy.key}]" in said and f"[{nickel.key}]" in said
    assert "acknowledged by the person dispensing" in said
    with pytest.raises(DispenseRefused) as refused:  # one of two is not enough
        shop.mixtures.dispense(draft(), "sam", acknowledged=[allergy.key])
    assert refused.value.unacknowledged == [nickel]
    assert snapshot(shop) == before


def test_acknowledged_by_key_the_batch_keeps_who_when_and_the_finding_as_shown(shop):
    allergy, nickel = warnings_of(shop)
    result = shop.mixtures.dispense(draft(), "sam", acknowledged=[nickel.key, allergy.key])
    assert result.acknowledged == (allergy, nickel)
    rows = acknowledgements(shop)
    assert [(r.batch_id, r.finding_key, r.finding_code, r.finding_message, r.at) for r in rows] == [
        (result.batch_id, f.key, f.code, f.message, shop.clock.now()) for f in (allergy, nickel)
    ]
    with unit_of_work(shop.engine) as session:
        batch = session.get(BatchRow, result.batch_id)
        assert {r.user_id for r in rows} == {batch.actor_id}  # the person dispensing
    trail = [r for r in audit_rows(shop) if r.action == "warning.acknowledged"]
    assert [(r.user_name, r.record_id, r.new) for r in trail] == [
        ("sam", str(result.batch_id), {"finding": f.key, "message": f.message})
        for f in (allergy, nickel)
    ]


def test_the_label_and_the_history_name_each_warning_read(shop):
    allergy, nickel = warnings_of(shop)
    result = shop.mixtures.dispense(draft(), "sam", acknowledge_all=True)
    lines = result.label.splitlines()
    at = lines.index(f"{ACKNOWLEDGED}: allergy to Benzyl alcohol")
    assert lines[at + 1] == "  read by Sam Ortega before dispensing"
    assert lines[at + 2 : at + 6] == [  # wrapped at the paper's 80 columns, nothing cut
        f"{ACKNOWLEDGED}: allergy recorded as free text 'nickel' matches nothing mesomix",
        "  knows",
        "  read by Sam Ortega before dispensing",
        lines[at + 5],
    ]
    assert lines[at + 5].startswith("USE BY")
    assert shop.labels.label("sam", result.batch_id).text == result.label  # kept as printed
    (batch,) = shop.people.history("drchen", "P-1")
    assert [(a.finding, a.read_by) for a in batch.acknowledged] == [
        (allergy.message, "Sam Ortega"),
        (nickel.message, "Sam Ortega"),
    ]


def test_a_changed_mixture_drops_the_acknowledgements(shop):
    """The nickel warning reads the same for any amount, the benzyl alcohol one names the
    product drawn: acknowledged for 20 mg it still holds; made up with another diluent whose
    warning differs, it does not."""
    allergy, nickel = warnings_of(shop)
    receive(shop, "cyanocobalamin_1000mcg_1ml_vial", "B12001", 5)  # benzyl alcohol 1.5 %
    changed = mixture(
        ("lidocaine", "20 mg"), ("cyanocobalamin", "500 mcg"), final="5 mL", diluent=BACTERIOSTATIC
    )
    with pytest.raises(DispenseRefused) as refused:
        shop.mixtures.dispense(changed, "sam", acknowledged=[allergy.key, nickel.key])
    (new,) = refused.value.unacknowledged
    assert new.code == "allergy.direct_match" and new.key != allergy.key
    assert acknowledgements(shop) == []


def test_a_key_that_names_no_warning_is_refused(shop):
    allergy, nickel = warnings_of(shop)
    before = snapshot(shop)
    with pytest.raises(ServiceError, match=r"no warning 'allergy\.direct_match/mix/1:x/00000000'"):
        shop.mixtures.dispense(
            draft(),
            "sam",
            acknowledged=[allergy.key, nickel.key, "allergy.direct_match/mix/1:x/00000000"],
        )
    assert snapshot(shop) == before


def test_notes_need_no_acknowledgement(clinic):
    receive(clinic, AMPOULE, "LID001", 10)
    plan = clinic.mixtures.check(mixture(("lidocaine", "20 mg")), "sam")
    assert {f.severity for f in plan.findings} == {Severity.INFO}
    result = clinic.mixtures.dispense(mixture(("lidocaine", "20 mg")), "sam")
    assert result.acknowledged == () and ACKNOWLEDGED not in result.label


def test_overrides_and_acknowledgements_together(clinic):
    """A block signed by a practitioner and a warning read by the person dispensing."""
    add_allergy(
        clinic, "P-1", substance_code="procaine_hcl", verification="confirmed", criticality="high"
    )
    add_allergy(clinic, "P-1", text="nickel", verification="confirmed", criticality="low")
    receive(clinic, PROCAINE, "PRO1", 10)
    plan = clinic.mixtures.check(mixture(("procaine", "20 mg")), "sam")
    (block,) = [f for f in plan.findings if f.severity is Severity.BLOCK]
    (warning,) = [f for f in plan.findings if f.severity is Severity.WARN]
    signature = Signature(block.key, "drchen", PASSWORD, "tolerated_before", "given in 2025")
    with pytest.raises(DispenseRefused) as refused:
        clinic.mixtures.dispense(mixture(("procaine", "20 mg")), "sam", [signature])
    assert refused.value.unsigned == [warning]
    result = clinic.mixtures.dispense(
        mixture(("procaine", "20 mg")), "sam", [signature], acknowledged=[warning.key]
    )
    lines = result.label.splitlines()
    assert lines.index(f"{OVERRIDDEN}: allergy to Procaine hydrochloride") < lines.index(
        f"{ACKNOWLEDGED}: allergy recorded as free text 'nickel' matches nothing mesomix"
    )
