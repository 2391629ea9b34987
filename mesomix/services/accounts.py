"""People who use mesomix: signing in, lockout, and the admin's work on accounts.

Everyone signs in as themselves. Five wrong passwords in a row lock an account for a while
(audited); an admin can unlock, reset and deactivate. Passwords are argon2id, rehashed on sign-in
when the parameters change. Every change, and every failed or refused sign-in, leaves an audit row.

A password typed is always one attempt, judged and written by services/signing.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func, select

from mesomix.db.sites import site_of
from mesomix.db.tables import PatientRow, UserRow, UserSiteRow
from mesomix.domain.permissions import Action, Role
from mesomix.domain.text import readable, storable
from mesomix.services.audit import Entry, append, denials_recorded
from mesomix.services.base import Service
from mesomix.services.errors import NotFound, PermissionDenied, ServiceError
from mesomix.services.passwords import (
    hash_password,
    password_problem,
)
from mesomix.services.signing import (
    SIGN_IN,
    SIGNATURE,
    UNLOCK,
    Attempt,
    judge,
    settle,
    signature_context,
)
from mesomix.services.uow import transaction, unit_of_work

ROLES = tuple(role.value for role in Role)
_PATIENT = PatientRow.__table__
_FIND_PATIENT = sa.select(_PATIENT.c.id).where(_PATIENT.c.ref == sa.bindparam("ref"))


class SignInRefused(ServiceError):
    """Wrong name or password, a locked or a deactivated account: the message says which it may."""


class SignatureRefused(PermissionDenied):
    """A practitioner's signature was not taken: wrong password, a locked or deactivated account."""


@dataclass(frozen=True)
class Account:
    """An account as the admin sees it: never its password hash."""

    name: str
    display_name: str
    role: str
    active: bool
    locked_until: datetime | None
    failed_attempts: int

    def state(self, now: datetime) -> str:
        """In words, the first that holds: deactivated, locked, active."""
        if not self.active:
            return "deactivated"
        if self.locked_until is not None and self.locked_until > now:
            return "locked"
        return "active"


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    name: str
    display_name: str
    role: str
    at: datetime


class AccountService(Service):
    _writes = True  # ReadOnlyAccounts checks passwords without writing

    # --- signing in, the idle lock, signatures ------------------------------------------

    def sign_in(self, name: str, password: str) -> SignedIn:
        """The person, if the password is theirs and the account is open; each failure counts."""
        now = self._clock.now()
        user = self._open(SIGN_IN, name, password, now)
        return SignedIn(user.id, user.name, user.display_name, user.role, now)

    def reopen(self, name: str, password: str) -> None:
        """The idle lock, opened by the same person: a sign-in, refused, counted and audited alike
        (SignInRefused says whether the password was wrong or the account is locked, until when)."""
        self._open(UNLOCK, name, password, self._clock.now())

    def sign(
        self,
        name: str,
        password: str,
        dispensing: str,
        patient: str | None,
        findings: Sequence[str],
    ) -> None:
        """A practitioner's signature checked in the override dialog, while they are at the
        terminal: an attempt like a sign-in (SignatureRefused says why); dispensing checks it again."""
        now = self._clock.now()
        with (
            denials_recorded(self._engine, self._clock, dispensing, Action.SIGN_OVERRIDE.value),
            transaction(self._engine, write=self._writes) as connection,
        ):
            attempt = judge(
                connection,
                now,
                SIGNATURE,
                name,
                password,
                needs=Action.SIGN_OVERRIDE,
                context=signature_context("override dialog", dispensing, patient, findings),
                patient_id=_patient_id(connection, patient),
            )
            refused = self._settle(connection, now, attempt)
        if refused:
            raise SignatureRefused(refused)

    def _open(self, kind: str, name: str, password: str, now: datetime) -> sa.Row[Any]:
        with transaction(self._engine, write=self._writes) as connection:
            attempt = judge(connection, now, kind, name, password)
            refused = self._settle(connection, now, attempt)
        if refused:
            raise SignInRefused(refused)
        assert attempt.user is not None
        return attempt.user

    def _settle(self, connection: sa.Connection, now: datetime, attempt: Attempt) -> str:
        return settle(connection, now, self._clock.zone, attempt)

    def sign_out(self, name: str, reason: str) -> None:
        """Someone leaves the terminal (or another person takes it over at the idle lock): the
        audit trail shows whose session ended, so a later sign-in is not read as theirs."""
        with unit_of_work(self._engine, write=True) as session:
            user = _user(session, name)
            if user is None:
                raise NotFound(f"no user named '{readable(name[:80])}'")
            append(
                session.connection(),
                self._clock.now(),
                Entry(
                    "sign_out",
                    user_id=user.id,
                    user_name=user.name,
                    record_type="user",
                    record_id=str(user.id),
                    reason=reason,
                ),
            )

    # --- the first admin, and the admin's work --------------------------------------------

    def has_users(self) -> bool:
        with unit_of_work(self._engine) as session:
            return bool(session.exec(select(func.count()).select_from(UserRow)).one())

    def create_first_admin(self, name: str, display_name: str, password: str) -> int:
        """Only on a database with no users yet: whoever installs mesomix becomes its admin."""
        _check_new(name, display_name, "admin", password)
        with unit_of_work(self._engine, write=True) as session:
            if session.exec(select(func.count()).select_from(UserRow)).one():
                raise ServiceError("this database already has users: ask its admin for an account")
            user = self._add(session, name, display_name, "admin", password)
            append(
                session.connection(),
                self._clock.now(),
                Entry(
                    "user.create",
                    user_id=user.id,
                    user_name=user.name,
                    record_type="user",
                    record_id=str(user.id),
                    new={"name": user.name, "role": "admin"},
                    reason="first admin",
                ),
            )
            return user.id or 0

    def create_user(
        self, admin: str, name: str, display_name: str, role: str, password: str
    ) -> int:
        _check_new(name, display_name, role, password)
        work = self.writing(admin, Action.MANAGE_USERS, denied_as="create a user")
        with work as (session, actor):
            if session.exec(select(UserRow).where(UserRow.name == name)).first():
                raise ServiceError(f"the user name '{name}' is taken")
            user = self._add(session, name, display_name, role, password)
            self._audit(session, actor, "user.create", user, new={"name": name, "role": role})
            return user.id or 0

    def unlock(self, admin: str, name: str) -> None:
        self._change(admin, name, "user.unlock", failed_attempts=0, locked_until=None)

    def deactivate(self, admin: str, name: str) -> None:
        if admin.strip() == name.strip():
            raise ServiceError(
                "an admin cannot deactivate their own account: another admin can, so nobody "
                "locks the clinic out of its accounts"
            )
        self._change(admin, name, "user.deactivate", active=False)

    def set_role(self, admin: str, name: str, role: str) -> None:
        """Change what an account may do. An admin's own role is changed by another admin, as
        their own deactivation is: so the last active admin, who is the one acting, always keeps
        it, and the clinic is never left with nobody to manage the accounts."""
        if role not in ROLES:
            raise ServiceError(f"role '{role}' is not one of {', '.join(ROLES)}")
        if admin.strip() == name.strip() and role != Role.ADMIN.value:
            raise ServiceError(
                "an admin cannot take the admin role from their own account: another admin can, "
                "so nobody locks the clinic out of its accounts"
            )
        self._change(admin, name, "user.role", role=role)

    def reactivate(self, admin: str, name: str) -> None:
        self._change(admin, name, "user.reactivate", active=True)

    def reset_password(self, admin: str, name: str, new_password: str) -> None:
        problem = password_problem(new_password)
        if problem:
            raise ServiceError(problem)
        self._change(
            admin,
            name,
            "user.reset_password",
            password_hash=hash_password(new_password),
            failed_attempts=0,
            locked_until=None,
        )

    def require(self, user: str, action: Action) -> None:
        """Refuse (and audit) a user whose role does not allow the action: for reads elsewhere."""
        with self.reading(user, action):
            pass

    def users(self, admin: str) -> list[Account]:
        with self.reading(admin, Action.MANAGE_USERS, denied_as="list users") as (session, _):
            return [
                Account(r.name, r.display_name, r.role, r.active, r.locked_until, r.failed_attempts)
                for r in session.exec(select(UserRow).order_by(UserRow.name))
            ]

    def _change(self, admin: str, name: str, action: str, **values: object) -> None:
        with self.writing(admin, Action.MANAGE_USERS, denied_as=action) as (session, actor):
            user = _user(session, name)
            if user is None:
                raise NotFound(f"no user named '{name}'")
            shown = {k: v for k, v in values.items() if k != "password_hash"}
            old = {k: _plain(getattr(user, k)) for k in shown}
            for key, value in values.items():
                setattr(user, key, value)
            session.add(user)
            self._audit(
                session, actor, action, user, old=old, new={k: _plain(v) for k, v in shown.items()}
            )

    def _add(
        self, session: Session, name: str, display_name: str, role: str, password: str
    ) -> UserRow:
        user = UserRow(
            name=name,
            display_name=display_name,
            role=role,
            password_hash=hash_password(password),
            created_at=self._clock.now(),
        )
        session.add(user)
        session.flush()
        session.add(UserSiteRow(user_id=user.id or 0, site_id=site_of(session.connection())))
        return user

    def _audit(
        self,
        session: Session,
        actor: UserRow,
        action: str,
        user: UserRow,
        old: dict[str, Any] | None = None,
        new: dict[str, Any] | None = None,
    ) -> None:
        self.audit(session, actor, action, ("user", user.id), old=old, new=new)


def _user(session: Session, name: str) -> UserRow | None:
    """The account of that name as typed (surrounding spaces aside); None for text no name holds."""
    name = name.strip()
    if not storable(name):
        return None
    return session.exec(select(UserRow).where(UserRow.name == name)).first()


def _patient_id(connection: sa.Connection, ref: str | None) -> int | None:
    if not ref or not storable(ref):
        return None
    return connection.execute(_FIND_PATIENT, {"ref": ref}).scalar()


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def _check_new(name: str, display_name: str, role: str, password: str) -> None:
    if (
        not name
        or not name.isascii()
        or not name.replace(".", "").replace("-", "").isalnum()
        or len(name) > 40
    ):
        raise ServiceError("a user name is 1 to 40 letters, digits, dots or dashes")
    if not display_name.strip() or not display_name.isprintable() or len(display_name) > 80:
        raise ServiceError("a display name is 1 to 80 printable characters")
    if role not in ROLES:
        raise ServiceError(f"role '{role}' is not one of {', '.join(ROLES)}")
    problem = password_problem(password)
    if problem:
        raise ServiceError(problem)
