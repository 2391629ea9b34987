"""FHIR R4 AllergyIntolerance: allergies in and out as JSON resources.

Pure mapping and validation. Codes mesomix knows travel in its own code systems; on the way in, a
coding or text that names a known substance or allergen group is coded, and anything else is kept
as free text ("not coded"). Every problem of a resource is reported with its path; a bundle with
any invalid resource is refused whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from mesomix.domain.allergy import (
    CLINICAL_STATUSES,
    CRITICALITIES,
    REACTION_SEVERITIES,
    VERIFICATIONS,
    Allergy,
    Reaction,
    code_typed,
)
from mesomix.domain.catalog import Catalog

CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
SUBSTANCE_SYSTEM = "urn:mesomix:substance"
GROUP_SYSTEM = "urn:mesomix:allergen-group"
TOLERATED_EXTENSION = "urn:mesomix:fhir:tolerated-substance"


class FhirError(ValueError):
    """Resources that cannot be read; `problems` lists each one with its path."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class ImportedAllergy:
    allergy: Allergy
    path: str  # where it came from, for messages


def to_resource(allergy: Allergy, patient_ref: str, catalog: Catalog) -> dict[str, Any]:
    """One AllergyIntolerance resource."""
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": f"mesomix-allergy-{allergy.id}",
        "verificationStatus": _concept(VERIFICATION_SYSTEM, allergy.verification),
        "type": "allergy",
        "category": ["medication"],
        "criticality": allergy.criticality,
        "code": _code(allergy, catalog),
        "patient": {"reference": f"Patient/{patient_ref}"},
    }
    if allergy.verification != "entered-in-error":  # FHIR invariant ait-2
        resource["clinicalStatus"] = _concept(CLINICAL_SYSTEM, allergy.clinical_status)
    if allergy.recorded_on:
        resource["recordedDate"] = allergy.recorded_on.isoformat()
    if allergy.reactions:
        resource["reaction"] = [
            {
                "manifestation": [{"text": r.manifestation}],
                **({"severity": r.severity} if r.severity else {}),
            }
            for r in allergy.reactions
        ]
    if allergy.note:
        resource["note"] = [{"text": allergy.note}]
    if allergy.tolerated:
        resource["extension"] = [
            {
                "url": TOLERATED_EXTENSION,
                "valueCodeableConcept": {"coding": [{"system": SUBSTANCE_SYSTEM, "code": code}]},
            }
            for code in allergy.tolerated
        ]
    return resource


def to_bundle(allergies: list[Allergy], patient_ref: str, catalog: Catalog) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": to_resource(a, patient_ref, catalog)} for a in allergies],
    }


def _concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _code(allergy: Allergy, catalog: Catalog) -> dict[str, Any]:
    if allergy.substance:
        name = allergy.label(catalog)
        return {
            "coding": [{"system": SUBSTANCE_SYSTEM, "code": allergy.substance, "display": name}],
            "text": name,
        }
    if allergy.group:
        name = allergy.label(catalog)
        return {
            "coding": [{"system": GROUP_SYSTEM, "code": allergy.group, "display": name}],
            "text": name,
        }
    return {"text": allergy.text}


def from_json(data: Any, patient_ref: str, catalog: Catalog) -> list[ImportedAllergy]:
    """Allergies from a resource or a bundle of them; FhirError lists every problem found."""
    problems: list[str] = []
    resources: list[tuple[str, Any]] = []
    if not isinstance(data, dict):
        raise FhirError(["the file must hold one JSON object: an AllergyIntolerance or a Bundle"])
    if data.get("resourceType") == "Bundle":
        entries = data.get("entry")
        if not isinstance(entries, list) or not entries:
            raise FhirError(["Bundle.entry: the bundle holds no resources"])
        for index, entry in enumerate(entries):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            resources.append((f"Bundle.entry[{index}].resource", resource))
    else:
        resources.append(("AllergyIntolerance", data))
    imported = []
    for path, resource in resources:
        found, errors = _read(resource, path, patient_ref, catalog)
        problems += errors
        if found is not None:
            imported.append(ImportedAllergy(found, path))
    if problems:
        raise FhirError(problems)
    return imported


def _coded_value(
    concept: Any, path: str, system: str, allowed: tuple[str, ...], errors: list[str]
) -> str | None:
    if concept is None:
        return None
    codings = concept.get("coding") if isinstance(concept, dict) else None
    if not isinstance(codings, list) or not codings or not isinstance(codings[0], dict):
        errors.append(f"{path}: expected a CodeableConcept with a coding")
        return None
    coding = codings[0]
    if coding.get("system") not in (None, system):
        errors.append(f"{path}.coding[0].system: expected {system}")
    code = coding.get("code")
    if code not in allowed:
        errors.append(f"{path}.coding[0].code: '{code}' is not one of {', '.join(allowed)}")
        return None
    return str(code)


def _read(
    resource: Any, path: str, patient_ref: str, catalog: Catalog
) -> tuple[Allergy | None, list[str]]:
    errors: list[str] = []
    if not isinstance(resource, dict) or resource.get("resourceType") != "AllergyIntolerance":
        return None, [f"{path}: not an AllergyIntolerance resource"]
    verification = _coded_value(
        resource.get("verificationStatus"),
        f"{path}.verificationStatus",
        VERIFICATION_SYSTEM,
        VERIFICATIONS,
        errors,
    )
    clinical = _coded_value(
        resource.get("clinicalStatus"),
        f"{path}.clinicalStatus",
        CLINICAL_SYSTEM,
        CLINICAL_STATUSES,
        errors,
    )
    if verification == "entered-in-error" and clinical is not None:
        errors.append(
            f"{path}.clinicalStatus: must be absent when the allergy was entered in error (ait-2)"
        )
    if verification != "entered-in-error" and clinical is None and "clinicalStatus" not in resource:
        errors.append(f"{path}.clinicalStatus: required unless entered in error (ait-1)")
    criticality = resource.get("criticality", "unable-to-assess")
    if criticality not in CRITICALITIES:
        errors.append(
            f"{path}.criticality: '{criticality}' is not one of {', '.join(CRITICALITIES)}"
        )
    patient = resource.get("patient")
    reference = patient.get("reference") if isinstance(patient, dict) else None
    if reference is not None and reference != f"Patient/{patient_ref}":
        errors.append(f"{path}.patient.reference: '{reference}' is not Patient/{patient_ref}")
    substance, group, text = _allergen(resource.get("code"), f"{path}.code", catalog, errors)
    reactions = _reactions(resource.get("reaction", []), f"{path}.reaction", errors)
    recorded = _date(resource.get("recordedDate"), f"{path}.recordedDate", errors)
    note = resource.get("note", [])
    if not isinstance(note, list) or not all(
        isinstance(n, dict) and isinstance(n.get("text", ""), str) for n in note
    ):
        errors.append(f"{path}.note: expected a list of annotations with text")
        note = []
    tolerated = _tolerated(resource.get("extension", []), f"{path}.extension", catalog, errors)
    if errors:
        return None, errors
    return (
        Allergy(
            substance=substance,
            group=group,
            text=text,
            clinical_status=clinical or "active",
            verification=verification or "unconfirmed",
            criticality=criticality,
            reactions=tuple(reactions),
            note="\n".join(n.get("text", "") for n in note).strip(),
            tolerated=tuple(tolerated),
            recorded_on=recorded,
        ),
        [],
    )


def _allergen(
    code: Any, path: str, catalog: Catalog, errors: list[str]
) -> tuple[str | None, str | None, str]:
    if not isinstance(code, dict):
        errors.append(f"{path}: required — what the patient is allergic to")
        return None, None, ""
    codings = code.get("coding", [])
    if not isinstance(codings, list):
        errors.append(f"{path}.coding: expected a list")
        codings = []
    names: list[str] = []
    for index, coding in enumerate(codings):
        if not isinstance(coding, dict):
            errors.append(f"{path}.coding[{index}]: expected a Coding")
            continue
        system, value = coding.get("system"), coding.get("code")
        if system in (SUBSTANCE_SYSTEM, GROUP_SYSTEM) and not isinstance(value, str):
            errors.append(f"{path}.coding[{index}].code: expected text")
            continue
        if system == SUBSTANCE_SYSTEM:
            if value in catalog.substances:
                return value, None, ""
            errors.append(f"{path}.coding[{index}].code: unknown substance '{value}'")
        elif system == GROUP_SYSTEM:
            if value in catalog.groups:
                return None, value, ""
            errors.append(f"{path}.coding[{index}].code: unknown allergen group '{value}'")
        if isinstance(coding.get("display"), str):
            names.append(coding["display"])
    if isinstance(code.get("text"), str):
        names.append(code["text"])
    for name in names:
        substance, group, _ = code_typed(name, catalog)
        if substance or group:
            return substance, group, ""
    text = next((n.strip() for n in names if n.strip()), "")
    if not text and not errors:
        errors.append(f"{path}: neither a known coding nor any text")
    if len(text) > 200:
        errors.append(f"{path}.text: longer than 200 characters")
    return None, None, text


def _reactions(raw: Any, path: str, errors: list[str]) -> list[Reaction]:
    if not isinstance(raw, list):
        errors.append(f"{path}: expected a list")
        return []
    reactions = []
    for index, reaction in enumerate(raw):
        where = f"{path}[{index}]"
        if not isinstance(reaction, dict):
            errors.append(f"{where}: expected an object")
            continue
        manifestations = reaction.get("manifestation")
        if not isinstance(manifestations, list) or not manifestations:
            errors.append(f"{where}.manifestation: required (at least one)")
            continue
        words = []
        for concept in manifestations:
            if not isinstance(concept, dict):
                continue
            codings = concept.get("coding")
            coding = codings[0] if isinstance(codings, list) and codings else None
            shown = concept.get("text") or (
                coding.get("display") if isinstance(coding, dict) else None
            )
            if isinstance(shown, str):
                words.append(shown)
        severity = reaction.get("severity", "")
        if severity and severity not in REACTION_SEVERITIES:
            errors.append(
                f"{where}.severity: '{severity}' is not one of {', '.join(REACTION_SEVERITIES)}"
            )
        reactions.append(
            Reaction(
                ", ".join(w for w in words if w), severity if isinstance(severity, str) else ""
            )
        )
    return reactions


def _date(raw: Any, path: str, errors: list[str]) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(str(raw)[:10])
    except ValueError:
        errors.append(f"{path}: '{raw}' is not a date")
        return None


def _tolerated(raw: Any, path: str, catalog: Catalog, errors: list[str]) -> list[str]:
    if not isinstance(raw, list):
        errors.append(f"{path}: expected a list")
        return []
    codes = []
    for index, extension in enumerate(raw):
        if not isinstance(extension, dict) or extension.get("url") != TOLERATED_EXTENSION:
            continue
        concept = extension.get("valueCodeableConcept")
        codings = concept.get("coding") if isinstance(concept, dict) else None
        coding = codings[0] if isinstance(codings, list) and codings else None
        code = coding.get("code") if isinstance(coding, dict) else None
        if not isinstance(code, str) or code not in catalog.substances:
            errors.append(f"{path}[{index}]: unknown tolerated substance '{code}'")
        else:
            codes.append(code)
    return codes
