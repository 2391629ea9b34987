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

read.py reads resources in; export.py writes them out; systems.py holds what both share.
"""

from mesomix.domain.fhir.export import to_bundle, to_resource
from mesomix.domain.fhir.read import from_json
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

__all__ = [
    "CLINICAL_SYSTEM",
    "GROUP_SYSTEM",
    "SUBSTANCE_SYSTEM",
    "TOLERATED_EXTENSION",
    "VERIFICATION_SYSTEM",
    "FhirError",
    "ImportedAllergy",
    "from_json",
    "read_as",
    "to_bundle",
    "to_resource",
]
