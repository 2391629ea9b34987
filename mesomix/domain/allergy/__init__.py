"""Allergies checked against what is really in the syringe: every active substance and every
excipient of every product drawn, climbing from product to substance to allergen group.

Tiering against alert fatigue (each finding says why it has its tier):
- the recorded allergen itself, or a member of the recorded allergen group, confirmed and of high
  (or unassessed) criticality: BLOCK, which a practitioner may override;
- the same with an unconfirmed allergy or low criticality: WARN;
- a cross-sensitivity (another member of a group, or a group that cross-reacts): WARN;
- free text that very probably means a substance in the syringe — its name or synonym, an
  allergen group's name, or a near spelling of one ("lidocain", "prokaine", "sulphites"), read the
  way the allergy form reads it — is checked as if it were coded to that substance or group, with
  the tiers above ("allergy.free_text_likely_match");
- free text that otherwise mentions something in the syringe (a name among other words, a group's
  trigger word such as "peanut" or "bee sting"): WARN; free text that matches nothing coded: WARN
  "not coded" until someone codes it;
- refuted, entered in error, inactive or resolved allergies, and substances the patient has
  tolerated before: no alert.

record.py holds the allergy as recorded; contacts.py what the patient will meet; free_text.py how
typed text is read; check.py the tiers; concerns.py what an allergy concerns ("no known allergy").
"""

from mesomix.domain.allergy.check import check_allergies
from mesomix.domain.allergy.concerns import categories, concerned_groups, no_known_typed, sets_aside
from mesomix.domain.allergy.contacts import LATEX, Contact, GroupGraph, contacts, group_graph
from mesomix.domain.allergy.free_text import (
    FreeTextIndex,
    Likely,
    allergen_guesses,
    code_typed,
    free_text_groups,
    free_text_index,
    free_text_substances,
    likely_allergens,
)
from mesomix.domain.allergy.record import (
    CLINICAL_STATUSES,
    CRITICALITIES,
    REACTION_SEVERITIES,
    VERIFICATIONS,
    Allergy,
    Reaction,
)

__all__ = [
    "CLINICAL_STATUSES",
    "CRITICALITIES",
    "LATEX",
    "REACTION_SEVERITIES",
    "VERIFICATIONS",
    "Allergy",
    "Contact",
    "FreeTextIndex",
    "GroupGraph",
    "Likely",
    "Reaction",
    "allergen_guesses",
    "categories",
    "check_allergies",
    "code_typed",
    "concerned_groups",
    "contacts",
    "free_text_groups",
    "free_text_index",
    "free_text_substances",
    "group_graph",
    "likely_allergens",
    "no_known_typed",
    "sets_aside",
]
