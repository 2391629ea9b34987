"""Overrides and acknowledgements: what a person decides about a finding before dispensing.

An override is a practitioner's signed decision to dispense despite one blocking finding. Only
findings marked overridable (allergy, dose, a label's advice against mixing) can be signed off; an expired lot, missing stock or a
unit error never can. An acknowledgement is the person dispensing saying they have read one
WARNING. Both name the finding by its key (code/ingredient/subject/digest of the message), so a
changed mixture — other amounts, other words — is not covered by them, and both hold for one
dispense.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from mesomix.domain.findings import Finding, Severity
from mesomix.errors import Refused

REASONS = {
    "tolerated_before": "tolerated before",
    "benefit_outweighs_risk": "benefit outweighs risk",
    "allergy_entered_in_error": "allergy entered in error",
    "allergy_not_relevant_to_route": "allergy not relevant to this route or amount",
    "dose_clinically_justified": "dose clinically justified",
    "weight_verified_verbally": "weight verified with the patient",
}


@dataclass(frozen=True)
class Override:
    finding_key: str
    practitioner: str  # user name; the service checks the role and the password
    reason_code: str
    reason_text: str


class OverrideError(Refused, ValueError):
    """An override that cannot be accepted; the message says why."""


def unsigned_blocks(findings: Sequence[Finding], overrides: Sequence[Override]) -> list[Finding]:
    """Blocking findings no valid override covers; refuses overrides that cannot apply."""
    blocking = {f.key: f for f in findings if f.severity is Severity.BLOCK}
    for override in overrides:
        if override.reason_code not in REASONS:
            raise OverrideError(
                f"unknown override reason '{override.reason_code}': use one of {', '.join(REASONS)}"
            )
        if len(override.reason_text.strip()) < 3:
            raise OverrideError(
                "an override needs a few words saying why, besides the coded reason"
            )
        if len(override.reason_text) > 500 or not override.reason_text.isprintable():
            raise OverrideError("an override's why is at most 500 printable characters")
        finding = blocking.get(override.finding_key)
        if finding is None:
            raise OverrideError(
                f"no blocking finding '{override.finding_key}' in this mixture: it may have changed"
            )
        if not finding.overridable:
            raise OverrideError(f"'{finding.key}' can never be overridden: {finding.message}")
    signed = {o.finding_key for o in overrides}
    return [f for key, f in blocking.items() if key not in signed]


def read_warnings(
    findings: Sequence[Finding], keys: Collection[str], every: bool = False
) -> tuple[list[Finding], list[Finding]]:
    """(the warnings acknowledged, the warnings not): by their keys, or `every` one shown.
    Notes need no acknowledgement."""
    warnings = [f for f in findings if f.severity is Severity.WARN]
    read = [f for f in warnings if every or f.key in keys]
    return read, [f for f in warnings if not (every or f.key in keys)]


def stray_acknowledgements(findings: Sequence[Finding], keys: Collection[str]) -> list[str]:
    """Keys acknowledged that name no warning of this mixture: it changed, or a key was mistyped."""
    warnings = {f.key for f in findings if f.severity is Severity.WARN}
    return [key for key in keys if key not in warnings]
