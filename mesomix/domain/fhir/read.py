"""Allergies in: resources read and validated, each problem with its path, codes mesomix knows
coded, anything else kept as free text."""

from __future__ import annotations

import copy
from dataclasses import replace
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
from mesomix.domain.catalog import Catalog, Coding
from mesomix.domain.fhir.systems import (
    CLINICAL_SYSTEM,
    GROUP_SYSTEM,
    SUBSTANCE_SYSTEM,
    TOLERATED_EXTENSION,
    VERIFICATION_SYSTEM,
    FhirError,
    ImportedAllergy,
    read_as,
)


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
            origin = {"resource": copy.deepcopy(resource), "read_as": read_as(found)}
            imported.append(ImportedAllergy(replace(found, origin=origin), path))
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
    substance, group, text, codings = _allergen(
        resource.get("code"), f"{path}.code", catalog, errors
    )
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
            codings=codings,
        ),
        [],
    )


def _allergen(
    code: Any, path: str, catalog: Catalog, errors: list[str]
) -> tuple[str | None, str | None, str, tuple[Coding, ...]]:
    """(substance, group, free text, other systems' codings) of `code`: coded by a mesomix
    code, by another system's code mesomix knows, or by an unambiguous name; the text kept as
    given (code.text before any coding's display: it is what the other system's user read)."""
    if not isinstance(code, dict):
        errors.append(f"{path}: required — what the patient is allergic to")
        return None, None, "", ()
    codings = code.get("coding", [])
    if not isinstance(codings, list):
        errors.append(f"{path}.coding: expected a list")
        codings = []
    names: list[str] = [code["text"]] if isinstance(code.get("text"), str) else []
    foreign: list[Coding] = []
    found: tuple[str | None, str | None] | None = None
    for index, coding in enumerate(codings):
        if not isinstance(coding, dict):
            errors.append(f"{path}.coding[{index}]: expected a Coding")
            continue
        system, value = coding.get("system"), coding.get("code")
        if system in (SUBSTANCE_SYSTEM, GROUP_SYSTEM) and not isinstance(value, str):
            errors.append(f"{path}.coding[{index}].code: expected text")
            continue
        display = coding.get("display")
        if system == SUBSTANCE_SYSTEM:
            if value in catalog.substances:
                found = found or (value, None)
            else:
                errors.append(f"{path}.coding[{index}].code: unknown substance '{value}'")
        elif system == GROUP_SYSTEM:
            if value in catalog.groups:
                found = found or (None, value)
            else:
                errors.append(f"{path}.coding[{index}].code: unknown allergen group '{value}'")
        elif isinstance(system, str) and isinstance(value, str) and system and value:
            other = Coding(system, value, display if isinstance(display, str) else "")
            foreign.append(other)
            found = found or catalog.by_code(other)
        if isinstance(display, str):
            names.append(display)
    codes = tuple(foreign)
    if found is not None:
        return found[0], found[1], "", codes
    known = (*catalog.no_known, *catalog.unrelated)
    if not any(c.key in known for c in codes):  # a code mesomix knows says more than words
        for name in names:
            substance, group, _ = code_typed(name, catalog)
            if substance or group:
                return substance, group, "", codes
    text = next((n.strip() for n in names if n.strip()), "")
    if len(text) > 200:
        errors.append(f"{path}.text: longer than 200 characters")
    if not text and not errors:
        errors.append(f"{path}: neither a known coding nor any text")
    return None, None, text, codes


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
