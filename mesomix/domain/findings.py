"""Findings: one result of a check, with a stable code and a message a person understands."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum

from mesomix.domain.text import readable


class Severity(Enum):
    """Block stops dispensing; warn needs attention; info is for the record."""

    BLOCK = "block"
    WARN = "warn"
    INFO = "info"

    @property
    def word(self) -> str:
        return {"block": "BLOCK", "warn": "WARNING", "info": "NOTE"}[self.value]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str  # stable, dotted: "amount.invalid", "draw.too_small"
    message: str
    ingredient: int | None = None  # position in the draft (0-based), None for the whole mixture
    overridable: bool = False  # whether a practitioner may sign it off
    subject: str = ""  # what it is about (allergy and substance, substance and limit...)

    def __post_init__(self) -> None:
        # Messages quote what was typed: keep them safe to show (and to hash for the key).
        object.__setattr__(self, "message", readable(self.message))

    @property
    def key(self) -> str:
        """Stable within one draft: what an override names to sign this finding off."""
        where = "mix" if self.ingredient is None else str(self.ingredient + 1)
        # The digest ties a signature to the finding exactly as shown (amounts, products): sign
        # off 210 mg and it will not cover 1000 mg.
        digest = hashlib.sha256(self.message.encode()).hexdigest()[:8]
        return "/".join(part for part in (self.code, where, self.subject, digest) if part)

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "ingredient": self.ingredient,
            "overridable": self.overridable,
        }
