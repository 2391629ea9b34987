"""A practitioner's signature is a sign-in: it counts towards the same lockout, is refused while
the account is locked or deactivated, clears the count when right, and every attempt — in the
dispense or in the override dialog — leaves a row in the trail, even when the dispense rolls back.
On SQLite and on PostgreSQL; the clinic's clock is in Paris, so times are said in its own hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from mesomix.bootstrap import Services, Settings, build
from mesomix.clock import FixedClock
from mesomix.db.tables import UserRow
from mesomix.services.accounts import SignatureRefused, SignInRefused
from mesomix.services.errors import PermissionDenied, ServiceError
from mesomix.services.mixtures import Signature
from mesomix.services.signing import LOCKOUT
from mesomix.services.uow import unit_of_work
from tests.factories import PASSWORD, add_allergy, audit_rows, counts, mixture, receive, seed_people

PROCAINE = "procain_steigerwald_1pct_5ml_amp"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 in Paris
PROCAINE_20MG = mixture(("procaine", "20 mg"))


@pytest.fixture(params=["sqlite", "postgresql"])
def signing(request, tmp_path) -> Iterator[Services]:
    """P-1 has a confirmed, high-criticality procaine allergy (a block a practitioner may sign
    off); procaine is on the shelf."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'signatures.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").create_database(
            f"signatures_{request.node.name.split('[')[0][5:40]}"
        )
    services = build(Settings(database_url=url, clock=FixedClock(NOW, ZoneInfo("Europe/Paris"))))
    seed_people(services)
    add_allergy(
        services, "P-1", substance_code="procaine_hcl", verification="confirmed", criticality="high"
    )
    receive(services, PROCAINE, "PRO1", 10)
    yield services
    services.close()


def block_key(services: Services) -> str:
    (block,) = [
        f
        for f in services.mixtures.check(PROCAINE_20MG, "sam").findings
        if f.severity.value == "block"
    ]
    return block.key


def signed(key: str, password: str = PASSWORD, who: str = "drchen") -> list[Signature]:
    return [Signature(key, who, password, "tolerated_before", "had procaine in 2024, no reaction")]


def account(services: Services, name: str = "drchen") -> UserRow:
    with unit_of_work(services.engine) as session:
        return session.exec(select(UserRow).where(UserRow.name == name)).one()


def test_five_wrong_signature_passwords_lock_the_account(signing):
    key, before = block_key(signing), counts(signing)
    for attempt in range(1, 5):
        with pytest.raises(SignatureRefused) as refused:
            signing.mixtures.dispense(PROCAINE_20MG, "sam", signed(key, "not her password"))
        assert str(refused.value) == (
            "not dispensed: the signature of drchen was refused: wrong password for drchen: "
            f"{5 - attempt} more and the account locks for 15 minutes"
        )
        assert (
            account(signing).failed_attempts == attempt
        )  # counted, though the dispense rolled back
    with pytest.raises(SignatureRefused, match="is now locked until 10:15 after repeated wrong"):
        signing.mixtures.dispense(PROCAINE_20MG, "sam", signed(key, "not her password"))
    row = account(signing)
    assert row.failed_attempts == 5 and row.locked_until == NOW + LOCKOUT
    actions = [r.action for r in audit_rows(signing)]
    assert actions.count("signature.failed") == 5 and "account.locked" in actions
    assert counts(signing) == before  # nothing dispensed
    # the same lockout as signing in: her right password opens neither now
    with pytest.raises(SignInRefused, match="locked until 10:15"):
        signing.accounts.sign_in("drchen", PASSWORD)
    with pytest.raises(SignatureRefused, match="locked until 10:15"):
        signing.mixtures.dispense(PROCAINE_20MG, "sam", signed(key))
    signing.clock.advance(LOCKOUT + timedelta(seconds=1))
    assert signing.mixtures.dispense(PROCAINE_20MG, "sam", signed(key)).batch_id
    assert account(signing).failed_attempts == 0


def test_a_locked_practitioner_cannot_sign_even_with_her_password(signing):
    key = block_key(signing)
    for _ in range(5):
        with pytest.raises(SignInRefused):
            signing.accounts.sign_in("drchen", "guessing at the counter")
    before, trail = counts(signing), len(audit_rows(signing))
    with pytest.raises(SignatureRefused) as refused:
        signing.mixtures.dispense(PROCAINE_20MG, "sam", signed(key))
    assert str(refused.value) == (
        "not dispensed: the signature of drchen was refused: the account 'drchen' is locked until "
        "10:15 after repeated wrong passwords: wait until then, or ask an admin to unlock it"
    )
    assert counts(signing) == before
    row = account(signing)
    assert row.failed_attempts == 5 and row.locked_until == NOW + LOCKOUT  # unchanged
    added = audit_rows(signing)[trail:]
    refusal = next(r for r in added if r.action == "signature.refused")
    assert (refusal.user_name, refusal.reason) == ("drchen", "account locked")
    assert refusal.new == {
        "checked": "dispense",
        "dispensing": "sam",
        "patient": "P-1",
        "findings": [key],
    } | {"not dispensed": str(refused.value)}
    # the override dialog says the same, and counts nothing either
    with pytest.raises(SignatureRefused, match=r"is locked until 10:15.*ask an admin"):
        signing.accounts.sign("drchen", PASSWORD, "sam", "P-1", [key])
    assert account(signing).failed_attempts == 5
    # an admin unlocks: she signs
    signing.accounts.unlock("root", "drchen")
    assert signing.mixtures.dispense(PROCAINE_20MG, "sam", signed(key)).batch_id


def test_a_deactivated_practitioner_is_refused(signing):
    key = block_key(signing)
    signing.accounts.deactivate("root", "drchen")
    before = counts(signing)
    with pytest.raises(SignatureRefused, match="the account 'drchen' is deactivated: ask an admin"):
        signing.mixtures.dispense(PROCAINE_20MG, "sam", signed(key))
    with pytest.raises(SignatureRefused, match="deactivated"):
        signing.accounts.sign("drchen", PASSWORD, "sam", "P-1", [key])
    assert counts(signing) == before
    refusals = [r for r in audit_rows(signing) if r.action == "signature.refused"]
    assert [(r.user_name, r.reason, r.new["checked"]) for r in refusals] == [
        ("drchen", "account deactivated", "dispense"),
        ("drchen", "account deactivated", "override dialog"),
    ]
    assert account(signing).failed_attempts == 0


def test_a_right_signature_clears_the_count_as_signing_in_does(signing):
    key = block_key(signing)
    for _ in range(3):
        with pytest.raises(SignatureRefused, match="wrong password for drchen"):
            signing.accounts.sign("drchen", "a wrong guess!", "sam", "P-1", [key])
    with pytest.raises(SignatureRefused, match="1 more and the account locks"):
        signing.mixtures.dispense(PROCAINE_20MG, "sam", signed(key, "another wrong one"))
    assert account(signing).failed_attempts == 4  # the dialog and the dispense count alike
    result = signing.mixtures.dispense(PROCAINE_20MG, "sam", signed(key))
    assert account(signing).failed_attempts == 0
    good = [r for r in audit_rows(signing) if r.action == "signature"]
    assert len(good) == 1 and good[0].user_name == "drchen"
    assert good[0].new == {
        "checked": "dispense",
        "dispensing": "sam",
        "patient": "P-1",
        "findings": [key],
    }
    dispensed = next(r for r in audit_rows(signing) if r.action == "dispense")
    assert (
        good[0].patient_id == dispensed.patient_id and str(result.batch_id) == dispensed.record_id
    )


def test_every_attempt_leaves_a_row_even_when_the_dispense_rolls_back(signing):
    key = block_key(signing)
    # one password for two overrides (as the command line signs them) is one attempt, counted once
    two = [
        *signed(key, "wrong twice over"),
        *signed("allergy.direct_match/x/y/z", "wrong twice over"),
    ]
    with pytest.raises(SignatureRefused):
        signing.mixtures.dispense(PROCAINE_20MG, "sam", two)
    assert account(signing).failed_attempts == 1
    # a right signature on a dispense refused for another reason: still in the trail, and counted
    bad_key = [*signed(key), *signed("allergy.direct_match/x/y/z")]
    before = counts(signing)
    with pytest.raises(ServiceError, match="not dispensed") as refused:
        signing.mixtures.dispense(PROCAINE_20MG, "sam", bad_key)
    assert counts(signing) == before and account(signing).failed_attempts == 0
    rows = [r for r in audit_rows(signing) if r.action.startswith("signature")]
    assert [(r.action, r.user_name) for r in rows] == [
        ("signature.failed", "drchen"),
        ("signature", "drchen"),
    ]
    assert rows[0].reason == "wrong password (1 in a row)"
    assert rows[1].new["not dispensed"] == str(refused.value)
    assert rows[1].new["findings"] == [key, "allergy.direct_match/x/y/z"]
    assert all(r.patient_id is not None and r.new["dispensing"] == "sam" for r in rows)
    # a name no one has is an attempt too; a role that may not sign is refused before its
    # password is looked at (nothing counted, the refusal of sam's dispense in the trail)
    with pytest.raises(ServiceError, match="no user named 'drchne'"):
        signing.mixtures.dispense(PROCAINE_20MG, "sam", signed(key, who="drchne"))
    assert audit_rows(signing)[-2].action == "signature.failed"
    with pytest.raises(PermissionDenied, match=r"nadia \(manager\) may not sign"):
        signing.mixtures.dispense(PROCAINE_20MG, "sam", signed(key, "not hers", who="nadia"))
    assert account(signing, "nadia").failed_attempts == 0
    assert (audit_rows(signing)[-1].action, audit_rows(signing)[-1].user_name) == ("denied", "sam")


def test_the_idle_lock_says_locked_not_wrong(signing):
    with pytest.raises(SignInRefused, match=r"^wrong password for sam: 4 more"):
        signing.accounts.reopen("sam", "not my password")
    for _ in range(4):
        with pytest.raises(SignInRefused):
            signing.accounts.reopen("sam", "not my password")
    with pytest.raises(SignInRefused) as refused:
        signing.accounts.reopen("sam", PASSWORD)
    assert str(refused.value) == (
        "the account 'sam' is locked until 10:15 after repeated wrong passwords: wait until then, "
        "or ask an admin to unlock it"
    )
    assert account(signing, "sam").failed_attempts == 5
    assert audit_rows(signing)[-1].action == "sign_in.refused"
