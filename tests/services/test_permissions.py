"""Every action as every role: allowed ones work; denied ones are refused with a clear message,
write nothing, and leave an audit row. The matrix itself lives in mesomix/domain/permissions.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from mesomix.db.tables import BatchRow, CourseSessionRow
from mesomix.domain.allergy import Allergy
from mesomix.domain.course.plan import ZoneVolume
from mesomix.domain.permissions import Action, Role, matrix
from mesomix.domain.reactions import ReactionWords
from mesomix.reference import data_dir
from mesomix.services.courses import Technique
from mesomix.services.errors import PermissionDenied
from mesomix.services.mixtures import Signature
from mesomix.services.uow import unit_of_work
from tests.factories import PASSWORD, add_allergy, audit_rows, mixture, receive, snapshot

B12 = "cyanocobalamin_1000mcg_1ml_vial"
PROCAINE = "procain_steigerwald_1pct_5ml_amp"
SCALP = (ZoneVolume("scalp", 2000),)
BRUISE = ReactionWords("bruising", "", "0 h", "", "mild", "", "none", "resolved")
PRODUCTS_CSV = (data_dir() / "import" / "products-sample.csv").read_text(encoding="utf-8")
USER_OF = {
    Role.STAFF: "sam",
    Role.PRACTITIONER: "drchen",
    Role.MANAGER: "nadia",
    Role.ADMIN: "root",
}


def _override(services, user):
    plan = services.mixtures.check(mixture(("procaine", "20 mg"), patient="P-2"), "sam")
    (block,) = [f for f in plan.findings if f.severity.value == "block"]
    signature = Signature(
        block.key, user, PASSWORD, "tolerated_before", "given before without reaction"
    )
    services.mixtures.dispense(mixture(("procaine", "20 mg"), patient="P-2"), "sam", [signature])


ACTIONS = {
    Action.CHECK_MIXTURE: lambda s, u: s.mixtures.check(mixture(("cyanocobalamin", "1000 mcg")), u),
    Action.DISPENSE: lambda s, u: s.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), u),
    Action.VIEW_STOCK: lambda s, u: s.stock.lots(u),
    Action.RECEIVE: lambda s, u: s.stock.receive(
        u, B12, "NEW1", s.clock.today() + timedelta(days=300), 1
    ),
    Action.ADJUST_STOCK: lambda s, u: s.inventory.adjust(u, 1, 1000, "found", "behind the fridge"),
    Action.SET_LOT_STATUS: lambda s, u: s.inventory.set_status(
        u, 1, "quarantined", "cold chain in doubt"
    ),
    Action.SET_REORDER: lambda s, u: s.inventory.set_reorder(u, B12, 5, 20),
    Action.EDIT_CATALOGUE: lambda s, u: s.imports.products(u, PRODUCTS_CSV),
    Action.VIEW_REPORTS: lambda s, u: s.reports.report(u, "stock"),
    Action.VIEW_PATIENTS: lambda s, u: s.people.patients(u),
    Action.EDIT_PATIENTS: lambda s, u: s.people.set_weight(u, "P-2", "70 kg"),
    Action.SIGN_OVERRIDE: _override,
    Action.RECORD_ALLERGY: lambda s, u: s.allergies.record(
        "P-1", u, Allergy(text="surgical gloves")
    ),
    Action.MANAGE_USERS: lambda s, u: s.accounts.unlock(u, "sam"),
    Action.MANAGE_SITES: lambda s, u: s.sites.add(u, f"site-{u}", "A clinic of the chain"),
    Action.TRANSFER_STOCK: lambda s, u: s.inventory.transfer(u, 1, "north", 1),
    Action.VIEW_AUDIT: lambda s, u: s.accounts.require(u, Action.VIEW_AUDIT),
    Action.LOAD_DEMO: lambda s, u: s.accounts.require(u, Action.LOAD_DEMO),
    Action.EDIT_FORMULAS: lambda s, u: s.formulas.save(
        u, "Vitamin B12", mixture(("cyanocobalamin", "1000 mcg"), final="2 mL"), "other"
    ),
    Action.VIEW_COURSES: lambda s, u: s.courses.courses(u, "P-1"),
    Action.PLAN_COURSE: lambda s, u: s.courses.plan(
        u, "P-2", "hair", "hair_b12", SCALP, s.clock.today() + timedelta(days=1)
    ),
    Action.BOOK_SESSION: lambda s, u: s.courses.book(
        u, 2, 1, s.clock.now() + timedelta(days=1, hours=2)
    ),
    Action.SIGN_CONSENT: lambda s, u: s.courses.sign_consent(
        u, 2, s.courses.consent_text("drchen", 2), "explained; the patient agreed"
    ),
    Action.WITHDRAW_CONSENT: lambda s, u: s.courses.withdraw_consent(u, 1, "patient phoned"),
    Action.RECORD_INJECTION: lambda s, u: s.courses.record_injection(
        u, 1, 1, SCALP, Technique("nappage", "2 mm", "30G 4 mm")
    ),
    Action.RECORD_REACTION: lambda s, u: s.reactions.record(u, "P-1", 1, BRUISE),
    Action.CONFIRM_REACTION: lambda s, u: s.reactions.confirm(u, 1),
    Action.VIEW_VIGILANCE: lambda s, u: s.reactions.signals(u),
    Action.SET_BENCH_RULE: lambda s, u: s.mixtures.require_bench_scan(u, True),
}


def test_every_action_is_exercised():
    assert set(ACTIONS) == set(Action)


@pytest.fixture
def stocked(clinic):
    receive(clinic, B12, "B1", 20)
    receive(clinic, PROCAINE, "P1", 20)
    receive(clinic, "sodium_chloride_09_10ml_vial", "NS1", 5)
    add_allergy(
        clinic, "P-2", substance_code="procaine_hcl", verification="confirmed", criticality="high"
    )
    return clinic


COURSE_ACTIONS = {
    Action.VIEW_COURSES,
    Action.PLAN_COURSE,
    Action.BOOK_SESSION,
    Action.SIGN_CONSENT,
    Action.WITHDRAW_CONSENT,
    Action.RECORD_INJECTION,
}


def _courses(clinic):
    """Course 1 (hair) consented with session 1 held; course 2 (face) planned only."""
    b12 = mixture(("cyanocobalamin", "1000 mcg"), final="2 mL")
    clinic.formulas.save("drchen", "Hair B12", b12, "hair loss")
    start = clinic.clock.today() + timedelta(days=1)
    hair = clinic.courses.plan("drchen", "P-1", "hair", "hair_b12", SCALP, start)
    clinic.courses.sign_consent(
        "drchen", hair.id, clinic.courses.consent_text("drchen", hair.id), "agreed"
    )
    clinic.courses.plan(
        "drchen", "P-1", "face", "hair_b12", (ZoneVolume("face_lower", 1000),), start
    )
    batch = clinic.mixtures.dispense(b12, "sam").batch_id
    with unit_of_work(clinic.engine, write=True) as session:
        held = CourseSessionRow(course_id=hair.id, number=1, held_at=clinic.clock.now())
        session.add(held)
        session.flush()
        session.execute(
            sa.update(BatchRow).where(BatchRow.id == batch).values(course_session_id=held.id)
        )


REACTION_ACTIONS = {Action.RECORD_REACTION, Action.CONFIRM_REACTION, Action.VIEW_VIGILANCE}


def _reaction(clinic):
    """Batch 1 for P-1, and reaction 1 after it as staff recorded it (not confirmed)."""
    batch = clinic.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), "sam").batch_id
    clinic.reactions.record("sam", "P-1", batch, BRUISE)


CELLS = [(action, role) for action in Action for role in Role]


@pytest.mark.parametrize(("action", "role"), CELLS, ids=[f"{a.name}-{r.value}" for a, r in CELLS])
def test_role_action_cell(stocked, action, role):
    if action in COURSE_ACTIONS:  # set up only where a course is acted on: each takes a while
        _courses(stocked)
    if action in REACTION_ACTIONS:
        _reaction(stocked)
    if action is Action.TRANSFER_STOCK:
        stocked.sites.add("root", "north", "North clinic")
    user = USER_OF[role]
    if role in matrix()[action]:
        ACTIONS[action](stocked, user)
        return
    before_rows, before_audit = snapshot(stocked), len(audit_rows(stocked))
    with pytest.raises(PermissionDenied) as refused:
        ACTIONS[action](stocked, user)
    assert f"{user} ({role.value}) may not" in str(refused.value)
    assert snapshot(stocked) == before_rows
    trail = audit_rows(stocked)
    assert len(trail) == before_audit + 1
    assert (trail[-1].action, trail[-1].user_name) == (
        "denied",
        user if action != Action.SIGN_OVERRIDE else "sam",
    )
