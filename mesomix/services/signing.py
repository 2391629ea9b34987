"""A password typed is one attempt, judged and written by one mechanism (`judge`, `settle`):
signing in, unlocking the idle lock, and a practitioner's signature on an override, in the
override dialog or in the dispense itself. So a signature counts towards the same lockout, is
refused while the account is locked or deactivated, and leaves its own row in the trail.
Five wrong passwords in a row lock an account for LOCKOUT (audited)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa

from mesomix.clock import Clock
from mesomix.db.sites import FIND_PERSON, elsewhere, site_of
from mesomix.db.tables import UserRow
from mesomix.domain.permissions import Action
from mesomix.domain.text import readable, storable
from mesomix.services.actors import check_permission
from mesomix.services.audit import Entry, append
from mesomix.services.passwords import hash_password, needs_rehash, verify_password
from mesomix.services.uow import transaction

MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)

SIGN_IN = "sign_in"  # the sign-in screen, the command line's --user
UNLOCK = "unlock"  # the same person again at the idle lock
SIGNATURE = "signature"  # a practitioner signs an override with their password

_USER = UserRow.__table__
_FAILED = (
    sa.update(_USER)
    .where(_USER.c.id == sa.bindparam("user_id"))
    .values(failed_attempts=_USER.c.failed_attempts + 1)
    .returning(_USER.c.failed_attempts)
)
_LOCK = (
    sa.update(_USER)
    .where(_USER.c.id == sa.bindparam("user_id"))
    .values(locked_until=sa.bindparam("until"))
)
_OPENED = (
    sa.update(_USER)
    .where(_USER.c.id == sa.bindparam("user_id"))
    .values(failed_attempts=0, locked_until=None)
)
_REHASH = (
    sa.update(_USER)
    .where(_USER.c.id == sa.bindparam("user_id"))
    .values(password_hash=sa.bindparam("new_hash"))
)
_UNKNOWN, _DEACTIVATED, _LOCKED, _WRONG, _ELSEWHERE = (
    "unknown user name",
    "account deactivated",
    "account locked",
    "wrong password",
    "does not work at this site",
)


@dataclass(frozen=True)
class Attempt:
    """A password tried for an account, judged in the caller's transaction and not yet written:
    `settle` writes what it leads to (the count, the lock, the reset, the trail)."""

    kind: str  # SIGN_IN, UNLOCK or SIGNATURE
    typed: str  # the name as typed
    user: sa.Row[Any] | None  # the account's row as it was judged
    refused: str  # "" when the password was right and the account open; else why, for the trail
    new_hash: str | None = None  # the password hashed anew, when the parameters changed
    context: dict[str, Any] | None = None  # a signature's: who dispenses, for whom, which findings
    patient_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.refused


def judge(
    connection: sa.Connection,
    now: datetime,
    kind: str,
    name: str,
    password: str,
    *,
    needs: Action | None = None,
    context: dict[str, Any] | None = None,
    patient_id: int | None = None,
) -> Attempt:
    """Whether the password opens the account now; writes nothing. A role the action is not
    allowed to is refused before the password is looked at (PermissionDenied, not an attempt):
    naming a staff member as signer must not tell whether a password is theirs."""
    typed = name.strip()
    found = {"name": typed, "site": site_of(connection)}
    user = connection.execute(FIND_PERSON, found).first() if storable(typed) else None
    attempt = Attempt(kind, typed, user, "", context=context, patient_id=patient_id)
    if user is None:
        return replace(attempt, refused=_UNKNOWN)
    if needs is not None:
        check_permission(user.name, user.role, True, needs)  # deactivation is judged below
    if not user.active:
        return replace(attempt, refused=_DEACTIVATED)
    if user.locked_until is not None and user.locked_until > now:
        return replace(attempt, refused=_LOCKED)
    if not verify_password(user.password_hash, password):
        return replace(attempt, refused=_WRONG)
    if not user.works_here:  # said only to whoever knows the password
        return replace(attempt, refused=_ELSEWHERE)
    if kind != SIGNATURE and needs_rehash(user.password_hash or ""):
        # a sign-in's work: an argon2 hash more is kept out of the dispense's transaction
        return replace(attempt, new_hash=hash_password(password))
    return attempt


def settle(
    connection: sa.Connection, now: datetime, zone: tzinfo, attempt: Attempt, note: str = ""
) -> str:
    """Write what the attempt leads to, in the caller's transaction: a wrong password counts
    (five in a row lock the account), a right one clears the count, and each attempt leaves a
    row. Returns what to tell the person: "" when the account opened."""
    user, kind = attempt.user, attempt.kind
    action = SIGNATURE if kind == SIGNATURE else SIGN_IN
    context = dict(attempt.context or {}) | ({"not dispensed": readable(note)} if note else {})
    about: dict[str, Any] = {"patient_id": attempt.patient_id, "new": context or None}
    if user is None:
        typed = readable(attempt.typed[:80])
        append(
            connection, now, Entry(f"{action}.failed", user_name=typed, reason=_UNKNOWN, **about)
        )
        return said(attempt, zone, now)
    who = {
        "user_id": user.id,
        "user_name": user.name,
        "record_type": "user",
        "record_id": str(user.id),
        **about,
    }
    if attempt.refused in (_DEACTIVATED, _LOCKED, _ELSEWHERE):
        append(connection, now, Entry(f"{action}.refused", **who, reason=attempt.refused))
        return said(attempt, zone, now)
    if attempt.refused == _WRONG:
        failures = connection.execute(_FAILED, {"user_id": user.id}).scalar_one()
        append(
            connection,
            now,
            Entry(f"{action}.failed", **who, reason=f"wrong password ({failures} in a row)"),
        )
        if failures >= MAX_FAILED_ATTEMPTS:
            connection.execute(_LOCK, {"user_id": user.id, "until": now + LOCKOUT})
            append(
                connection,
                now,
                Entry("account.locked", **who, reason=f"{failures} wrong passwords in a row"),
            )
        return said(attempt, zone, now, failures)
    if user.failed_attempts or user.locked_until is not None:  # else no write, no row lock
        connection.execute(_OPENED, {"user_id": user.id})
    if attempt.new_hash is not None:
        connection.execute(_REHASH, {"user_id": user.id, "new_hash": attempt.new_hash})
        append(
            connection,
            now,
            Entry("account.rehashed", **who, reason="password hash parameters changed"),
        )
    append(
        connection, now, Entry(action, **who, reason="at the idle lock" if kind == UNLOCK else "")
    )
    return ""


def locked_message(name: str, until: datetime, zone: tzinfo, *, now: bool = False) -> str:
    """A locked account, said the same on every screen: until when (the clinic's time) and who
    can open it sooner."""
    return (
        f"the account '{name}' is {'now ' if now else ''}locked until "
        f"{until.astimezone(zone):%H:%M} after repeated wrong passwords: wait until then, "
        "or ask an admin to unlock it"
    )


def said(attempt: Attempt, zone: tzinfo, now: datetime, failures: int | None = None) -> str:
    """What the person is told ("" when the account opened); `failures` is the count a wrong
    password made, foreseen from the row as judged when it is not written yet. Signing in never
    says whether a name exists until the account it names locks; the lock screen and a
    signature name their account anyway."""
    user, named = attempt.user, attempt.kind != SIGN_IN
    if attempt.ok:
        return ""
    if user is None:
        return f"no user named '{attempt.typed}'" if named else "wrong user name or password"
    if attempt.refused == _DEACTIVATED:
        return f"the account '{user.name}' is deactivated: ask an admin"
    if attempt.refused == _LOCKED:
        return locked_message(user.name, user.locked_until, zone)
    if attempt.refused == _ELSEWHERE:
        return elsewhere(user.name, user.site_name, user.site_code)
    wrong = f"wrong password for {user.name}" if named else "wrong user name or password"
    failures = user.failed_attempts + 1 if failures is None else failures
    if failures >= MAX_FAILED_ATTEMPTS:
        return f"{wrong}; {locked_message(user.name, now + LOCKOUT, zone, now=True)}"
    if not named:
        return wrong
    left = MAX_FAILED_ATTEMPTS - failures
    return f"{wrong}: {left} more and the account locks for {LOCKOUT.seconds // 60} minutes"


@contextmanager
def attempts_settled(engine: sa.Engine, clock: Clock) -> Iterator[list[Attempt]]:
    """For passwords judged inside a transaction that may roll back (the dispense): what each
    attempt led to is written in that transaction, or, when it rolls back, here in one of its
    own, so a wrong signature still counts and every attempt stays in the trail."""
    attempts: list[Attempt] = []
    try:
        yield attempts
    except Exception as failed:
        if attempts:
            with transaction(engine, write=True) as connection:
                for attempt in attempts:
                    settle(connection, clock.now(), clock.zone, attempt, note=str(failed)[:300])
        raise


def signature_context(
    where: str, dispensing: str, patient: str | None, findings: Sequence[str]
) -> dict[str, Any]:
    """What a signature is for, as the trail keeps it: checked in the override dialog, then again
    in the dispense (two rows for one signature, each saying which)."""
    return {  # the keys as typed (a command line's, not yet checked), made safe to store
        "checked": where,
        "dispensing": dispensing,
        "patient": patient,
        "findings": [readable(key, 200) for key in findings],
    }
