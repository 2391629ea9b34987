"""Who may do what: one matrix, denied by default, consulted by every service.

The catalogue (substances, products, conversions) is reference knowledge everyone may read, so it
is not an action here; everything about patients, stock, batches, accounts and the trail is."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum


class Role(Enum):
    STAFF = "staff"
    PRACTITIONER = "practitioner"
    MANAGER = "manager"
    ADMIN = "admin"


class Action(Enum):
    CHECK_MIXTURE = "check a mixture"
    DISPENSE = "dispense a mixture"
    VIEW_STOCK = "view stock"
    RECEIVE = "receive stock"
    ADJUST_STOCK = "adjust, waste, return or count stock"
    SET_LOT_STATUS = "quarantine, release or recall a lot"
    SET_REORDER = "set reorder levels"
    EDIT_CATALOGUE = "add products to the catalogue"
    VIEW_REPORTS = "see reports"
    VIEW_PATIENTS = "view patients"
    EDIT_PATIENTS = "edit patients"
    SIGN_OVERRIDE = "sign an override"
    RECORD_ALLERGY = "record allergies"
    MANAGE_USERS = "manage users"
    VIEW_AUDIT = "view the audit trail"
    LOAD_DEMO = "load the demo data"
    EDIT_FORMULAS = "save or retire formulas"
    VIEW_COURSES = "view courses of treatment"
    PLAN_COURSE = "plan, change, pause or end a course"
    BOOK_SESSION = "book or cancel a session"
    SIGN_CONSENT = "record a patient's consent"
    WITHDRAW_CONSENT = "record a consent withdrawn"
    RECORD_INJECTION = "record what was injected"
    RECORD_REACTION = "record or correct a reaction"
    CONFIRM_REACTION = "confirm a reaction"
    VIEW_VIGILANCE = "see reactions and lot signals"
    SET_BENCH_RULE = "require or relax scanning at the bench"
    MANAGE_SITES = "add a site"
    TRANSFER_STOCK = "send stock to another site"


STAFF, PRACTITIONER, MANAGER, ADMIN = Role.STAFF, Role.PRACTITIONER, Role.MANAGER, Role.ADMIN

# The one place that says who may do what; anything not listed is refused.
_ALLOWED: dict[Action, frozenset[Role]] = {
    Action.CHECK_MIXTURE: frozenset({STAFF, PRACTITIONER}),
    Action.DISPENSE: frozenset({STAFF, PRACTITIONER}),
    Action.VIEW_STOCK: frozenset(Role),
    Action.RECEIVE: frozenset({MANAGER}),
    Action.ADJUST_STOCK: frozenset({MANAGER}),
    Action.SET_LOT_STATUS: frozenset({MANAGER}),
    Action.SET_REORDER: frozenset({MANAGER}),
    Action.EDIT_CATALOGUE: frozenset({MANAGER}),
    Action.VIEW_REPORTS: frozenset({MANAGER}),
    Action.VIEW_PATIENTS: frozenset({STAFF, PRACTITIONER}),
    Action.EDIT_PATIENTS: frozenset({PRACTITIONER}),
    Action.SIGN_OVERRIDE: frozenset({PRACTITIONER}),
    Action.RECORD_ALLERGY: frozenset({PRACTITIONER}),
    Action.MANAGE_USERS: frozenset({ADMIN}),
    Action.MANAGE_SITES: frozenset({ADMIN}),  # a clinic joining the chain: its own audit chain
    Action.TRANSFER_STOCK: frozenset({MANAGER}),
    Action.VIEW_AUDIT: frozenset({MANAGER, ADMIN}),
    Action.LOAD_DEMO: frozenset({ADMIN}),
    # A formula is a standing order others will make for other patients: choosing its doses is
    # a prescribing decision, so practitioners save and retire them (see services/formulas.py).
    Action.EDIT_FORMULAS: frozenset({PRACTITIONER}),
    # Courses (services/courses): staff prepare and book sessions; planning a course, taking
    # the patient's consent and recording what was injected are the practitioner's. A consent
    # withdrawn may be taken by whoever the patient tells, so nothing more is made for them.
    Action.VIEW_COURSES: frozenset({STAFF, PRACTITIONER}),
    Action.PLAN_COURSE: frozenset({PRACTITIONER}),
    Action.BOOK_SESSION: frozenset({STAFF, PRACTITIONER}),
    Action.SIGN_CONSENT: frozenset({PRACTITIONER}),
    Action.WITHDRAW_CONSENT: frozenset({STAFF, PRACTITIONER}),
    Action.RECORD_INJECTION: frozenset({PRACTITIONER}),
    # Reactions (services/reactions.py): staff record what a patient reports, for the
    # practitioner to confirm; a practitioner's own record is confirmed as it is made. Managers
    # and practitioners see the lots' signals, to quarantine a lot and call its patients.
    Action.RECORD_REACTION: frozenset({STAFF, PRACTITIONER}),
    Action.CONFIRM_REACTION: frozenset({PRACTITIONER}),
    Action.VIEW_VIGILANCE: frozenset({PRACTITIONER, MANAGER}),
    Action.SET_BENCH_RULE: frozenset({MANAGER}),
}


def allowed(role: Role, action: Action) -> bool:
    return role in _ALLOWED.get(action, frozenset())


def may_do(role: Role, needs: Mapping[str, Action], action: str) -> bool:
    """Whether a role may run a screen's action: one it lists in `needs`, else any."""
    needed = needs.get(action)
    return needed is None or allowed(role, needed)


def matrix() -> dict[Action, frozenset[Role]]:
    """The whole matrix, for the help screen and the tests."""
    return {action: _ALLOWED.get(action, frozenset()) for action in Action}
