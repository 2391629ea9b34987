"""A dose limit per session counts every batch the patient received in the session window (the
clinic's calendar day unless MESOMIX_SESSION_HOURS says otherwise) plus the mixture now composed;
the check and the dispense's re-check read the same batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mesomix.bootstrap import Settings, build
from mesomix.clock import FixedClock
from mesomix.services.mixtures import DispenseRefused, Signature
from tests.factories import PASSWORD, counts, mixture, receive, seed_people

AMPOULE = "lidocaine_2pct_2ml_amp"  # 20 mg/mL, 2 mL
PARIS = ZoneInfo("Europe/Paris")
WHY = "planned regional block, weight checked"


def dose_findings(services, amount: str, patient: str = "P-1"):
    plan = services.mixtures.check(mixture(("lidocaine", amount), patient=patient), "sam")
    return [f for f in plan.findings if f.code.startswith("dose.")]


def dispense_overridden(services, amount: str, patient: str = "P-1") -> int:
    """A dose block signed off by Dr Chen, as the trial's 250 mg was."""
    (block,) = dose_findings(services, amount, patient)
    signature = Signature(block.key, "drchen", PASSWORD, "dose_clinically_justified", WHY)
    draft = mixture(("lidocaine", amount), patient=patient)
    return services.mixtures.dispense(draft, "sam", [signature]).batch_id


def make(url: str, clock: FixedClock, session_hours: int | None = None):
    services = build(Settings(database_url=url, clock=clock, session_hours=session_hours))
    seed_people(services)
    services.people.set_weight("drchen", "P-2", "70 kg")
    receive(services, AMPOULE, "LID001", 60)
    return services


@pytest.fixture(params=["sqlite", "postgresql"])
def shop(request, tmp_path, clock):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'dose.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"dose_{tmp_path.name[-20:]}")
    services = make(url, clock)
    yield services
    services.close()


def test_250_mg_overridden_then_190_mg_blocks_in_the_check_and_the_dispense(shop):
    first = dispense_overridden(shop, "250 mg")
    shop.clock.advance(timedelta(minutes=7))
    (finding,) = dose_findings(shop, "190 mg")
    assert (finding.code, finding.severity.value, finding.overridable) == (
        "dose.over_maximum",
        "block",
        True,
    )
    assert finding.message.startswith(
        f"Lidocaine hydrochloride 250 mg dispensed today at 09:00 (batch {first}) + 190 mg now "
        "= 440 mg > 200 mg maximum"
    )
    before = counts(shop)
    with pytest.raises(DispenseRefused) as refused:
        shop.mixtures.dispense(mixture(("lidocaine", "190 mg")), "sam")
    assert refused.value.unsigned == [finding]  # the re-check says the same, key and all
    assert counts(shop) == before


def test_another_patients_batch_does_not_count(shop):
    dispense_overridden(shop, "250 mg", patient="P-2")
    assert dose_findings(shop, "190 mg") == []
    shop.mixtures.dispense(mixture(("lidocaine", "190 mg")), "sam")


def test_yesterdays_batch_does_not_count(shop):
    dispense_overridden(shop, "250 mg")
    shop.clock.advance(timedelta(days=1))
    assert dose_findings(shop, "190 mg") == []


def test_the_session_is_the_clinics_calendar_day_not_utcs(tmp_path):
    """23:50 in Paris is 22:50 UTC: ten minutes later it is another day at the clinic (so the
    batch no longer counts), though the same day in UTC."""
    clock = FixedClock(datetime(2026, 11, 24, 22, 50, tzinfo=UTC), zone=PARIS)
    services = make(f"sqlite:///{tmp_path / 'paris.sqlite'}", clock)
    first = dispense_overridden(services, "250 mg")
    clock.advance(timedelta(minutes=9))  # 23:59 in Paris: still the same day
    (finding,) = dose_findings(services, "190 mg")
    assert f"250 mg dispensed today at 23:50 (batch {first}) + 190 mg now" in finding.message
    clock.advance(timedelta(minutes=2))  # 00:01 in Paris
    assert dose_findings(services, "190 mg") == []
    services.close()


def test_a_session_window_in_hours_reaches_across_midnight(tmp_path):
    clock = FixedClock(datetime(2026, 11, 24, 22, 50, tzinfo=UTC), zone=PARIS)
    services = make(f"sqlite:///{tmp_path / 'hours.sqlite'}", clock, session_hours=4)
    first = dispense_overridden(services, "250 mg")
    clock.advance(timedelta(hours=1))  # 00:50 in Paris, the next day
    (finding,) = dose_findings(services, "190 mg")
    assert f"250 mg dispensed yesterday at 23:50 (batch {first}) + 190 mg now" in finding.message
    clock.advance(timedelta(hours=3, minutes=1))  # more than 4 hours after
    assert dose_findings(services, "190 mg") == []
    services.close()


def test_a_per_kg_limit_counts_the_session_with_the_weight_now(clinic):
    """P-1 weighs 61.5 kg (4.5 mg/kg: 276.75 mg, capped at 200 mg); at 40 kg the per-kg limit
    (180 mg) binds."""
    receive(clinic, AMPOULE, "LID001", 60)
    clinic.mixtures.dispense(mixture(("lidocaine", "100 mg")), "sam")
    assert dose_findings(clinic, "90 mg") == []
    clinic.people.set_weight("drchen", "P-1", "40 kg", confirmed=True)
    (finding,) = dose_findings(clinic, "90 mg")
    assert finding.code == "dose.over_per_kg"
    assert "+ 90 mg now = 190 mg > 180 mg maximum" in finding.message
    assert "4.5 mg/kg × 40 kg = 180 mg" in finding.message


def test_no_weight_blocks_as_before(clinic):
    """P-2 has no weight: the per-kg limit blocks, received or not."""
    receive(clinic, AMPOULE, "LID001", 60)
    (finding,) = dose_findings(clinic, "20 mg", patient="P-2")
    assert finding.code == "dose.no_weight"
