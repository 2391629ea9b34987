"""Password hashing: argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1) or stronger.

A password is asked again to sign an override: a signature, not a click.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mesomix.domain.text import encodable

_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
MIN_LENGTH = 12
# Said before a new password is typed (the admin's forms, the command line's prompt), so nobody
# learns the rule from a refusal.
PASSWORD_RULE = f"A password has at least {MIN_LENGTH} characters; a phrase of a few words is best."


def password_problem(password: str) -> str | None:
    """Why a new password cannot be taken, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password has at least {MIN_LENGTH} characters"
    if not encodable(password):
        return (
            "a password cannot hold a character that is not text (a lone surrogate: was it typed "
            "on a terminal that does not send UTF-8?)"
        )
    return None


def hash_password(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True only for the right password; a user without a password can never sign."""
    if not stored_hash or not password or not encodable(password):
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker (or other) parameters than today's."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
