"""How the Patients screen and its forms put a patient's record in words: an allergy (coded, kept
as free text, or a statement that none is known) and a weight."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text

from mesomix.domain.allergy import Allergy
from mesomix.domain.catalog import Catalog
from mesomix.services.people import PatientSummary


@dataclass(frozen=True)
class AllergyWords:
    """An allergy in words, by the catalogue (None until it is read: the words as recorded)."""

    catalog: Catalog | None = None

    def statement(self, allergy: Allergy) -> bool:
        """A "no known allergy" statement: never an allergen, never coded."""
        return self.catalog is not None and allergy.no_known(self.catalog) is not None

    def unrelated(self, allergy: Allergy) -> str:
        """Its code, when known to relate to nothing mesomix holds: there is nothing to code."""
        found = allergy.unrelated(self.catalog) if self.catalog else None
        return str(replace(found.coding, display="")) if found else ""

    def needs_coding(self, allergy: Allergy) -> bool:
        return not allergy.coded and not self.statement(allergy) and not self.unrelated(allergy)

    def allergen(self, allergy: Allergy) -> str:
        label = allergy.label(self.catalog) if self.catalog else allergy.text
        if code := self.unrelated(allergy):
            return f"{label} ({code}: relates to nothing mesomix holds)"
        return f"{label} (not coded)" if self.needs_coding(allergy) else label

    def line(self, allergy: Allergy) -> Text:
        """The allergen, then how sure and how serious, then the reaction: wrapped to the
        column, never cut (criticality is what a practitioner reads first after the name)."""
        if self.statement(allergy):
            return self._statement_line(allergy)
        refuted = allergy.verification == "refuted"
        line = Text(self.allergen(allergy), style="strike dim" if refuted else "bold")
        line.append(f" · {allergy.verification}")
        if not refuted:
            line.append(" · criticality ")
            line.append(allergy.criticality, style="bold" if allergy.criticality != "low" else "")
        reactions = "; ".join(r.manifestation for r in allergy.reactions)
        if reactions:
            line.append(f" · {reactions}")
        if allergy.clinical_status != "active":
            line.append(f" · {allergy.clinical_status}: no longer current")
        return line

    def _statement_line(self, allergy: Allergy) -> Text:
        """A statement in words: what it says, and whether it still stands."""
        name = allergy.label(self.catalog) if self.catalog else allergy.text
        if allergy.clinical_status == "active" and allergy.verification not in (
            "refuted",
            "entered-in-error",
        ):
            line = Text(name, style="bold")
            line.append(f" · {allergy.verification} · a statement, not an allergen: none known")
        else:
            line = Text(name, style="strike dim")
            line.append(" · SET ASIDE: an allergy of that kind is recorded · kept for the history")
        return line


def weight_text(patient: PatientSummary, missing: str = "weight not recorded") -> str:
    if patient.weight_kg is None:
        return missing
    return f"{patient.weight_kg.normalize():f} kg"
