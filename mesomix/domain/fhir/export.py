"""Allergies out: mesomix's record as AllergyIntolerance resources, merged into what was received."""

from __future__ import annotations

import copy
from typing import Any

from mesomix.domain.allergy import Allergy, categories
from mesomix.domain.catalog import Catalog
from mesomix.domain.fhir.systems import (
    CLINICAL_SYSTEM,
    GROUP_SYSTEM,
    SUBSTANCE_SYSTEM,
    TOLERATED_EXTENSION,
    VERIFICATION_SYSTEM,
    read_as,
)


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
        c
        for c in codings
        if not (isinstance(c, dict) and c.get("system") in (SUBSTANCE_SYSTEM, GROUP_SYSTEM))
    ]
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
