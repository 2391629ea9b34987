"""Who may do what: one matrix, denied by default, consulted by every service."""

from __future__ import annotations

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
    VIEW_PATIENTS = "view patients"
    SIGN_OVERRIDE = "sign an override"
    RECORD_ALLERGY = "record allergies"


_ALLOWED: dict[Action, frozenset[Role]] = {
    Action.CHECK_MIXTURE: frozenset({Role.STAFF, Role.PRACTITIONER}),
    Action.DISPENSE: frozenset({Role.STAFF, Role.PRACTITIONER}),
    Action.VIEW_STOCK: frozenset(Role),
    Action.RECEIVE: frozenset({Role.MANAGER}),
    Action.VIEW_PATIENTS: frozenset({Role.STAFF, Role.PRACTITIONER}),
    Action.SIGN_OVERRIDE: frozenset({Role.PRACTITIONER}),
    Action.RECORD_ALLERGY: frozenset({Role.PRACTITIONER}),
}


def allowed(role: Role, action: Action) -> bool:
    return role in _ALLOWED.get(action, frozenset())
