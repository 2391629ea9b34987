"""People who use mesomix: signing in, lockout, and the admin's work on accounts.

Everyone signs in as themselves. Five failed attempts lock an account for a while (audited);
an admin can unlock, reset and deactivate. Passwords are argon2id, rehashed on sign-in when the
parameters change. Every change, and every failed or refused sign-in, leaves an audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, func, select

from mesomix.clock import Clock
from mesomix.db.tables import UserRow
from mesomix.domain.permissions import Action, Role
from mesomix.domain.text import readable, storable
from mesomix.services.actors import require
from mesomix.services.audit import Entry, append, denials_recorded
from mesomix.services.errors import NotFound, ServiceError
from mesomix.services.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from mesomix.services.uow import unit_of_work

MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)
ROLES = tuple(role.value for role in Role)


class SignInRefused(ServiceError):
    """Wrong name or password, a locked or a deactivated account: the message says which it may."""


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    name: str
    display_name: str
    role: str
    at: datetime


class AccountService:
    def __init__(self, engine: sa.Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    # --- signing in -----------------------------------------------------------------------

    def sign_in(self, name: str, password: str) -> SignedIn:
        """The person, if the password is theirs and the account is open; each failure counts."""
        now = self._clock.now()
        outcome: SignedIn | str
        with unit_of_work(self._engine, write=True) as session:
            user = _user(session, name)
            outcome = self._attempt(session, user, name, password, now)
        if isinstance(outcome, str):
            raise SignInRefused(outcome)
        return outcome

    def _attempt(
        self, session: Session, user: UserRow | None, name: str, password: str, now: datetime
    ) -> SignedIn | str:
        """Runs in the sign-in transaction so failures are counted and audited even on refusal."""
        connection = session.connection()
        if user is None:
            append(
                connection,
                now,
                Entry("sign_in.failed", user_name=readable(name[:80]), reason="unknown user name"),
            )
            return "wrong user name or password"
        who = {
            "user_id": user.id,
            "user_name": user.name,
            "record_type": "user",
            "record_id": str(user.id),
        }
        if not user.active:
            append(connection, now, Entry("sign_in.refused", **who, reason="account deactivated"))
            return f"the account '{user.name}' is deactivated: ask an admin"
        if user.locked_until is not None and user.locked_until > now:
            append(connection, now, Entry("sign_in.refused", **who, reason="account locked"))
            local = user.locked_until.astimezone(self._clock.zone)
            return f"the account '{user.name}' is locked until {local:%H:%M} after repeated failed sign-ins: ask an admin to unlock it"
        if not verify_password(user.password_hash, password):
            user.failed_attempts += 1
            append(
                connection,
                now,
                Entry(
                    "sign_in.failed",
                    **who,
                    reason=f"wrong password ({user.failed_attempts} in a row)",
                ),
            )
            if user.failed_attempts >= MAX_FAILED_ATTEMPTS:
                user.locked_until = now + LOCKOUT
                append(
                    connection,
                    now,
                    Entry(
                        "account.locked", **who, reason=f"{user.failed_attempts} failed sign-ins"
                    ),
                )
            session.add(user)
            return "wrong user name or password"
        user.failed_attempts, user.locked_until = 0, None
        if needs_rehash(user.password_hash or ""):
            user.password_hash = hash_password(password)
            append(
                connection,
                now,
                Entry("account.rehashed", **who, reason="password hash parameters changed"),
            )
        session.add(user)
        append(connection, now, Entry("sign_in", **who))
        return SignedIn(user.id or 0, user.name, user.display_name, user.role, now)

    def sign_out(self, name: str, reason: str) -> None:
        """Someone leaves the terminal (or another person takes it over at the idle lock): the
        audit trail shows whose session ended, so a later sign-in is not read as theirs."""
        with unit_of_work(self._engine, write=True) as session:
            user = _user(session, name)
            if user is None:
                raise NotFound(f"no user named '{readable(name[:80])}'")
            append(session.connection(), self._clock.now(), Entry(
                "sign_out", user_id=user.id, user_name=user.name, record_type="user",
                record_id=str(user.id), reason=reason,
            ))  # fmt: skip

    def verify(self, name: str, password: str) -> bool:
        """Unlock an idle session: the same checks as signing in."""
        try:
            self.sign_in(name, password)
        except SignInRefused:
            return False
        return True

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
            append(session.connection(), self._clock.now(), Entry(
                "user.create", user_id=user.id, user_name=user.name, record_type="user",
                record_id=str(user.id), new={"name": user.name, "role": "admin"}, reason="first admin",
            ))  # fmt: skip
            return user.id or 0

    def create_user(
        self, admin: str, name: str, display_name: str, role: str, password: str
    ) -> int:
        _check_new(name, display_name, role, password)
        with (
            denials_recorded(self._engine, self._clock, admin, "create a user"),
            unit_of_work(self._engine, write=True) as session,
        ):
            actor = require(session, admin, Action.MANAGE_USERS)
            if session.exec(select(UserRow).where(UserRow.name == name)).first():
                raise ServiceError(f"the user name '{name}' is taken")
            user = self._add(session, name, display_name, role, password)
            self._audit(session, actor, "user.create", user, new={"name": name, "role": role})
            return user.id or 0

    def unlock(self, admin: str, name: str) -> None:
        self._change(admin, name, "user.unlock", failed_attempts=0, locked_until=None)

    def deactivate(self, admin: str, name: str) -> None:
        if admin.strip() == name.strip():
            raise ServiceError("an admin cannot deactivate their own account")
        self._change(admin, name, "user.deactivate", active=False)

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
        with (
            denials_recorded(self._engine, self._clock, user, action.value),
            unit_of_work(self._engine) as session,
        ):
            require(session, user, action)

    def users(self, admin: str) -> list[UserRow]:
        with (
            denials_recorded(self._engine, self._clock, admin, "list users"),
            unit_of_work(self._engine) as session,
        ):
            require(session, admin, Action.MANAGE_USERS)
            return list(session.exec(select(UserRow).order_by(UserRow.name)))

    def _change(self, admin: str, name: str, action: str, **values: object) -> None:
        with (
            denials_recorded(self._engine, self._clock, admin, action),
            unit_of_work(self._engine, write=True) as session,
        ):
            actor = require(session, admin, Action.MANAGE_USERS)
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
            name=name, display_name=display_name, role=role,
            password_hash=hash_password(password), created_at=self._clock.now(),
        )  # fmt: skip
        session.add(user)
        session.flush()
        return user

    def _audit(
        self, session: Session, actor: UserRow, action: str, user: UserRow, **changes: object
    ) -> None:
        append(session.connection(), self._clock.now(), Entry(
            action, user_id=actor.id, user_name=actor.name, record_type="user",
            record_id=str(user.id), **changes,  # type: ignore[arg-type]
        ))  # fmt: skip


def _user(session: Session, name: str) -> UserRow | None:
    """The account of that name as typed (surrounding spaces aside); None for text no name holds."""
    name = name.strip()
    if not storable(name):
        return None
    return session.exec(select(UserRow).where(UserRow.name == name)).first()


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
