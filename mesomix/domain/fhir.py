"""FHIR R4 AllergyIntolerance: allergies in and out as JSON resources.

Pure mapping and validation. Codes mesomix knows travel in its own code systems; on the way in, a
code (SNOMED CT, RxNorm...) or text that names a known substance or allergen group is coded, a
"no known allergy" code is kept as that statement, and anything else is kept as free text ("not
coded"). Every problem of a resource is reported with its path; a bundle with any invalid
resource is refused whole.

What another system gave is kept whole (`Allergy.origin`: the resource as received, and the
allergy as first read from it) and exported as given: identifier, onset, recorder, asserter,
reactions' codes, dates to the second. Which is the truth when both have something to say: for
the elements mesomix models, mesomix's record once it changed them (a practitioner confirmed,
refuted, coded or set aside the allergy here), merged into the resource — a coding added beside
the original ones, a note added after the original notes; for everything else, the resource as
received. A changed resource loses its narrative (`text`), which would say what is no longer so.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from mesomix.domain.allergy import (
    CLINICAL_STATUSES,
    CRITICALITIES,
    REACTION_SEVERITIES,
    VERIFICATIONS,
    Allergy,
    Reaction,
    categories,
    code_typed,
)
from mesomix.domain.catalog import Catalog, Coding

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
    """One AllergyIntolerance resource: what was imported, as given, with mesomix's changes."""
    own = _own(allergy, patient_ref, catalog)
    if allergy.origin is None:
        return own
    return _merged(allergy, own, allergy.origin)


def _own(allergy: Allergy, patient_ref: str, catalog: Catalog) -> dict[str, Any]:
    """The resource as mesomix writes it from its own record."""
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": f"mesomix-allergy-{allergy.id}",
        "verificationStatus": _concept(VERIFICATION_SYSTEM, allergy.verification),
        "type": "allergy",
    }
    kinds = categories(allergy, catalog) if allergy.no_known(catalog) is None else frozenset()
    if kinds:
        resource["category"] = sorted(kinds)
    resource |= {
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
        resource["extension"] = _tolerated_extensions(allergy)
    return resource


def _tolerated_extensions(allergy: Allergy) -> list[dict[str, Any]]:
    return [
        {
            "url": TOLERATED_EXTENSION,
            "valueCodeableConcept": {"coding": [{"system": SUBSTANCE_SYSTEM, "code": code}]},
        }
        for code in allergy.tolerated
    ]


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


def _merged(allergy: Allergy, own: dict[str, Any], origin: Any) -> dict[str, Any]:
    """The resource as received, with the elements mesomix changed since written its way."""
    resource = copy.deepcopy(origin.get("resource")) if isinstance(origin, dict) else None
    was = origin.get("read_as") if isinstance(origin, dict) else None
    if not isinstance(resource, dict) or not isinstance(was, dict):
        return own  # nothing usable was kept: mesomix's own record is all there is
    now = read_as(allergy)
    changed = {key for key, value in now.items() if was.get(key) != value}
    if "verification" in changed:
        resource["verificationStatus"] = own["verificationStatus"]
    if "clinical_status" in changed or "verification" in changed:
        if "clinicalStatus" in own:
            if "clinical_status" in changed or "clinicalStatus" not in resource:
                resource["clinicalStatus"] = own["clinicalStatus"]
        else:
            resource.pop("clinicalStatus", None)  # entered in error: ait-2
    if "criticality" in changed:
        resource["criticality"] = own["criticality"]
    if changed & {"substance", "group", "text", "codings"}:
        resource["code"] = _merged_code(resource.get("code"), own["code"])
    if "reactions" in changed:
        _put(resource, "reaction", own.get("reaction"))
    if "note" in changed:
        before = str(was.get("note") or "")
        given_notes = resource.get("note")
        notes = given_notes if isinstance(given_notes, list) else []
        if allergy.note.startswith(before) and (added := allergy.note[len(before) :].strip()):
            _put(resource, "note", [*notes, {"text": added}])  # added here, after what was given
        else:
            _put(resource, "note", own.get("note"))
    if "tolerated" in changed:
        extensions = resource.get("extension")
        given = extensions if isinstance(extensions, list) else []
        others = [
            e for e in given if not (isinstance(e, dict) and e.get("url") == TOLERATED_EXTENSION)
        ]
        _put(resource, "extension", others + _tolerated_extensions(allergy))
    resource["id"] = own["id"]
    if not isinstance(resource.get("patient"), dict):
        resource["patient"] = own["patient"]
    if changed:
        resource.pop("text", None)  # the narrative says what was received, no longer all true
    return resource


def _merged_code(given: Any, own: dict[str, Any]) -> dict[str, Any]:
    """The code as received, mesomix's own coding (if any) beside the original codings."""
    code = dict(given) if isinstance(given, dict) else {}
    given_codings = code.get("coding")
    codings = given_codings if isinstance(given_codings, list) else []
    kept = [
        c for c in codings
        if not (isinstance(c, dict) and c.get("system") in (SUBSTANCE_SYSTEM, GROUP_SYSTEM))
    ]  # fmt: skip
    mine = [c for c in own.get("coding", []) if c.get("system") in (SUBSTANCE_SYSTEM, GROUP_SYSTEM)]
    if kept or mine:
        code["coding"] = kept + mine
    if not isinstance(code.get("text"), str) and "text" in own:
        code["text"] = own["text"]
    return code


def _put(resource: dict[str, Any], key: str, value: Any) -> None:
    if value:
        resource[key] = value
    else:
        resource.pop(key, None)


def to_bundle(allergies: list[Allergy], patient_ref: str, catalog: Catalog) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": to_resource(a, patient_ref, catalog)} for a in allergies],
    }


def _concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _code(allergy: Allergy, catalog: Catalog) -> dict[str, Any]:
    foreign = [
        {"system": c.system, "code": c.code, **({"display": c.display} if c.display else {})}
        for c in allergy.codings
    ]
    statement = allergy.no_known(catalog)
    if statement is not None:
        return {"coding": foreign, "text": allergy.text or statement.name}
    if allergy.substance or allergy.group:
        name = allergy.label(catalog)
        system = SUBSTANCE_SYSTEM if allergy.substance else GROUP_SYSTEM
        mine = {"system": system, "code": allergy.substance or allergy.group, "display": name}
        return {"coding": [*foreign, mine], "text": allergy.text or name}
    return {**({"coding": foreign} if foreign else {}), "text": allergy.text}


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
