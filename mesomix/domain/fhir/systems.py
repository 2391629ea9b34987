"""What both directions share: the code systems and extension mesomix writes, the error of a
resource that cannot be read, and the facts of an allergy mesomix models, as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mesomix.domain.allergy import Allergy
from mesomix.errors import Refused

CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"


VERIFICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"


SUBSTANCE_SYSTEM = "urn:mesomix:substance"


GROUP_SYSTEM = "urn:mesomix:allergen-group"


TOLERATED_EXTENSION = "urn:mesomix:fhir:tolerated-substance"


class FhirError(Refused, ValueError):
    """Resources that cannot be read; `problems` lists each one with its path."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class ImportedAllergy:
    allergy: Allergy
    path: str  # where it came from, for messages


def read_as(allergy: Allergy) -> dict[str, Any]:
    """The facts of an allergy that mesomix models, as JSON: kept at import, compared at export
    to tell mesomix's changes from what was received."""
    return {
        "substance": allergy.substance,
        "group": allergy.group,
        "text": allergy.text,
        "codings": [[c.system, c.code, c.display] for c in allergy.codings],
        "clinical_status": allergy.clinical_status,
        "verification": allergy.verification,
        "criticality": allergy.criticality,
        "reactions": [[r.manifestation, r.severity] for r in allergy.reactions],
        "note": allergy.note,
        "tolerated": list(allergy.tolerated),
    }
