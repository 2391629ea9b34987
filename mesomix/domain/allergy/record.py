"""An allergy as recorded (FHIR AllergyIntolerance semantics) and its reactions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from mesomix.domain.catalog import Catalog, Coding, NoKnownAllergy, UnrelatedAllergen

CLINICAL_STATUSES = ("active", "inactive", "resolved")


VERIFICATIONS = ("unconfirmed", "confirmed", "refuted", "entered-in-error")  # FHIR R4


CRITICALITIES = ("low", "high", "unable-to-assess")


REACTION_SEVERITIES = ("mild", "moderate", "severe")


@dataclass(frozen=True)
class Reaction:
    manifestation: str
    severity: str = ""  # mild | moderate | severe


@dataclass(frozen=True)
class Allergy:
    """FHIR AllergyIntolerance, as much of it as a compounding room needs."""

    id: int | None = None
    substance: str | None = None  # a substance code, or
    group: str | None = None  # an allergen group code, or
    text: str = ""  # free text that is not coded (yet)
    clinical_status: str = "active"
    verification: str = "unconfirmed"
    criticality: str = "unable-to-assess"
    reactions: tuple[Reaction, ...] = ()
    note: str = ""
    tolerated: tuple[str, ...] = ()  # substance codes given before without reaction
    recorded_by: str = ""
    recorded_on: date | None = None
    # The allergen as other systems code it (SNOMED CT, RxNorm...), from an import or a statement.
    codings: tuple[Coding, ...] = ()
    # The FHIR resource as received and the allergy as first read from it (fhir.py): what was
    # given is exported as given, with mesomix's own changes merged. Not a medical fact.
    origin: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def coded(self) -> bool:
        return bool(self.substance or self.group)

    def no_known(self, catalog: Catalog) -> NoKnownAllergy | None:
        """The statement this is when it says no allergy of a kind is known: not an allergen."""
        return next(
            (catalog.no_known[c.key] for c in self.codings if c.key in catalog.no_known), None
        )

    def unrelated(self, catalog: Catalog) -> UnrelatedAllergen | None:
        """What its code says when that code is known to relate to nothing mesomix holds."""
        if self.coded:
            return None
        return next(
            (catalog.unrelated[c.key] for c in self.codings if c.key in catalog.unrelated), None
        )

    def by_code(self, catalog: Catalog) -> Allergy:
        """Free text whose code is that of a substance or group mesomix holds, coded to it."""
        if self.coded:
            return self
        for coding in self.codings:
            found = catalog.by_code(coding)
            if found is not None:
                return replace(self, substance=found[0], group=found[1])
        return self

    @property
    def alerts(self) -> bool:
        """Refuted, mistaken, inactive and resolved allergies raise nothing."""
        return self.clinical_status == "active" and self.verification not in (
            "refuted",
            "entered-in-error",
        )

    @property
    def firm(self) -> bool:
        """Confirmed, and high or unassessed criticality (unknown is taken as high)."""
        return self.verification == "confirmed" and self.criticality in ("high", "unable-to-assess")

    def label(self, catalog: Catalog) -> str:
        statement = self.no_known(catalog)
        if statement is not None:
            return statement.name
        if self.substance:
            found = catalog.substances.get(self.substance)
            return found.short_name if found else self.substance
        if self.group:
            found_group = catalog.groups.get(self.group)
            return found_group.name if found_group else self.group
        return f"'{self.text}'"

    def why(self) -> str:
        reaction = self.reactions[0].manifestation if self.reactions else ""
        facts = [self.verification, f"criticality {self.criticality}"]
        if reaction:
            facts.append(f"reaction: {reaction}")
        return ", ".join(facts)
