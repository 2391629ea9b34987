"""Finding the person who acts, and asking the permission matrix whether they may."""

from __future__ import annotations

from sqlmodel import Session, select

from mesomix.db.sites import elsewhere, site_of
from mesomix.db.tables import SiteRow, UserRow, UserSiteRow
from mesomix.domain.permissions import Action, Role, allowed
from mesomix.domain.text import storable
from mesomix.services.errors import NotFound, PermissionDenied


def require(session: Session, user_name: str, action: Action) -> UserRow:
    """The active user of that name, if their role allows the action and they work at this
    site; otherwise a refusal."""
    name = user_name.strip()
    user = (
        session.exec(select(UserRow).where(UserRow.name == name)).first()
        if storable(name)
        else None
    )
    if user is None:
        raise NotFound(f"no user named '{user_name}'")
    check_permission(user.name, user.role, user.active, action)
    if user.role != Role.ADMIN.value and not user.all_sites:
        here = site_of(session.connection())
        if session.get(UserSiteRow, (user.id, here)) is None:
            site = session.get(SiteRow, here)
            if site is None:
                raise NotFound(f"there is no site {here}")
            raise PermissionDenied(elsewhere(user.name, site.name, site.code))
    return user


def check_permission(name: str, role: str, active: bool, action: Action) -> None:
    """Refuse a deactivated user, or a role the matrix does not allow for the action."""
    if not active:
        raise PermissionDenied(f"user '{name}' is deactivated")
    if not allowed(Role(role), action):
        raise PermissionDenied(f"{name} ({role}) may not {action.value}")
