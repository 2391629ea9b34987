"""Finding the person who acts, and asking the permission matrix whether they may."""

from __future__ import annotations

from sqlmodel import Session, select

from mesomix.db.tables import UserRow
from mesomix.domain.permissions import Action, Role, allowed
from mesomix.services.errors import NotFound, PermissionDenied


def require(session: Session, user_name: str, action: Action) -> UserRow:
    """The active user of that name, if their role allows the action; otherwise a refusal."""
    user = session.exec(select(UserRow).where(UserRow.name == user_name.strip())).first()
    if user is None:
        raise NotFound(f"no user named '{user_name}'")
    if not user.active:
        raise PermissionDenied(f"user '{user.name}' is deactivated")
    if not allowed(Role(user.role), action):
        raise PermissionDenied(f"{user.name} ({user.role}) may not {action.value}")
    return user
