"""Dose limits count what the patient already received in the limit's period: earlier batches of
the session (and of the day, for daily limits) are added to the mixture now composed, salts also
as their element, and the finding says which batches, when, and how much."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal

from mesomix.domain.checks import PatientFacts, check_mixture
from mesomix.domain.dose import PriorBatch, Received
from mesomix.domain.findings import Severity
from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.reference import catalog_from_records, load_catalog
from tests.domain.conftest import RECORDS, SOURCE

CATALOG = load_catalog()
TODAY = date(2026, 11, 24)
AT_10_42 = datetime(2026, 11, 24, 10, 42, tzinfo=UTC)
SESSION = frozenset({"session", "day"})


def lidocaine(amount: str) -> DraftMixture:
    return DraftMixture((DraftIngredient("lidocaine", amount),), patient="P-1")


def patient(*batches: PriorBatch, weight: str | None = "70") -> PatientFacts:
    return PatientFacts(
        "P-1",
        "Amélie Laurent",
        Decimal(weight) if weight else None,
        received=Received(TODAY, batches),
    )


def earlier(batch_id: int, mg: str, at: datetime = AT_10_42, periods=SESSION) -> PriorBatch:
    return PriorBatch(batch_id, at, {"lidocaine_hcl": (Decimal(mg), "mass")}, periods)


def dose_findings(draft: DraftMixture, facts: PatientFacts, catalog=CATALOG):
    plan = check_mixture(draft, catalog, None, facts)
    return [f for f in plan.findings if f.code.startswith("dose.")]


def test_190_mg_after_250_mg_in_the_session_blocks_and_says_the_sum():
    assert dose_findings(lidocaine("190 mg"), patient()) == []  # alone, it is within the limit
    (finding,) = dose_findings(lidocaine("190 mg"), patient(earlier(7, "250")))
    assert (finding.severity, finding.code, finding.overridable) == (
        Severity.BLOCK,
        "dose.over_maximum",
        True,
    )
    assert finding.message.startswith(
        "Lidocaine hydrochloride 250 mg dispensed today at 10:42 (batch 7) + 190 mg now = 440 mg > 200 mg maximum"
    )


def test_every_earlier_batch_of_the_session_is_named_in_order():
    (finding,) = dose_findings(
        lidocaine("50 mg"),
        patient(
            earlier(3, "100", datetime(2026, 11, 24, 8, 5, tzinfo=UTC)),
            earlier(4, "60", datetime(2026, 11, 24, 9, 30, tzinfo=UTC)),
        ),
    )
    assert finding.message.startswith(
        "Lidocaine hydrochloride 100 mg dispensed today at 08:05 (batch 3) + 60 mg dispensed today at 09:30 "
        "(batch 4) + 50 mg now = 210 mg > 200 mg maximum"
    )


def test_a_batch_outside_the_session_does_not_count():
    outside = earlier(7, "250", periods=frozenset({"day"}))  # the day, but not the session
    assert dose_findings(lidocaine("190 mg"), patient(outside)) == []


def test_the_per_kg_limit_counts_the_session_with_the_current_weight():
    # 30 kg: 4.5 mg/kg × 30 kg = 135 mg binds before the 200 mg cap.
    (finding,) = dose_findings(lidocaine("40 mg"), patient(earlier(7, "100"), weight="30"))
    assert finding.code == "dose.over_per_kg"
    assert "100 mg dispensed today at 10:42 (batch 7) + 40 mg now = 140 mg > 135 mg" in (
        finding.message
    )
    assert "4.5 mg/kg × 30 kg = 135 mg" in finding.message


def test_no_weight_still_blocks_as_before_whatever_was_received():
    (finding,) = dose_findings(lidocaine("40 mg"), patient(earlier(7, "100"), weight=None))
    assert (finding.code, finding.severity) == ("dose.no_weight", Severity.BLOCK)
    assert dose_findings(lidocaine("40 mg"), patient(weight=None)) == [finding]


def test_yesterday_is_said_so():
    late = datetime(2026, 11, 23, 23, 10, tzinfo=UTC)
    (finding,) = dose_findings(lidocaine("190 mg"), patient(earlier(6, "250", at=late)))
    assert "250 mg dispensed yesterday at 23:10 (batch 6) + 190 mg now" in finding.message


def test_a_signature_for_the_mixture_alone_does_not_cover_the_sum():
    """The key's digest is of the message, and the message now says the sum."""
    (alone,) = dose_findings(lidocaine("250 mg"), patient())
    (summed,) = dose_findings(lidocaine("250 mg"), patient(earlier(7, "10")))
    assert alone.key.rsplit("/", 1)[0] == summed.key.rsplit("/", 1)[0]
    assert alone.key != summed.key


def zinc_catalog():
    """The small catalogue with a limit on zinc and an ampoule of one of its salts."""
    records = copy.deepcopy(RECORDS)
    zinc = next(s for s in records["substance"] if s["code"] == "zinc")
    zinc["dose_limit"] = [{"max": "20 mg", "per": "session", "source": SOURCE}]
    records["product"].append(
        {
            "code": "znso4_amp",
            "name": "Zinc sulfate 10 mg/mL 1 mL ampoule",
            "container": "single_dose",
            "container_volume": "1 mL",
            "strength": [{"substance": "zinc_sulfate_heptahydrate", "per_ml": "10 mg/mL"}],
        }
    )
    return catalog_from_records(records)


def test_a_salt_received_counts_towards_its_element():
    catalog = zinc_catalog()
    salt = PriorBatch(5, AT_10_42, {"zinc_sulfate_heptahydrate": (Decimal(80), "mass")}, SESSION)
    draft = DraftMixture((DraftIngredient("zinc sulfate heptahydrate", "10 mg"),), patient="P-1")
    assert dose_findings(draft, patient(), catalog) == []
    # 80 mg of the heptahydrate is 18.19 mg of zinc; with 2.27 mg now, 20.46 mg > 20 mg.
    (finding,) = dose_findings(draft, patient(salt), catalog)
    assert finding.message.startswith(
        "Zinc 18.189 mg dispensed today at 10:42 (batch 5) + 2.274 mg now = 20.463 mg > 20 mg"
    )


def test_a_daily_limit_counts_the_day_and_a_session_limit_does_not():
    records = copy.deepcopy(RECORDS)
    biotin = next(s for s in records["substance"] if s["code"] == "biotin")
    biotin["dose_limit"] = [{"max": "10 mg", "per": "day", "source": SOURCE}]
    catalog = catalog_from_records(records)
    draft = DraftMixture((DraftIngredient("biotin", "5 mg"),), patient="P-1")
    prior = PriorBatch(2, AT_10_42, {"biotin": (Decimal(6), "mass")}, frozenset({"day"}))
    (finding,) = dose_findings(draft, patient(prior), catalog)
    assert (finding.code, finding.severity) == ("dose.over_advisory", Severity.WARN)
    assert "6 mg dispensed today at 10:42 (batch 2) + 5 mg now = 11 mg > 10 mg maximum per day" in (
        finding.message
    )


def test_what_was_received_is_read_only_for_mixtures_that_may_meet_a_limit():
    from mesomix.domain.dose import may_meet_a_limit

    assert may_meet_a_limit({"lidocaine_2pct_2ml_amp", "sodium_chloride_09_10ml_vial"}, CATALOG)
    assert not may_meet_a_limit({"bepamedin_500mg_2ml_amp", "no_such_product"}, CATALOG)
    assert may_meet_a_limit({"znso4_amp"}, zinc_catalog())  # through the element
