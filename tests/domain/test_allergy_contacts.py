"""What the patient meets goes beyond the label's actives: stoppers and reconstitution diluents."""

from mesomix.domain.allergy import Allergy
from mesomix.domain.checks import PatientFacts, check_mixture
from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.reference import catalog_from_records
from tests.domain.conftest import RECORDS

CATALOG = catalog_from_records(RECORDS)


def findings(ingredients, allergy, **draft):
    plan = check_mixture(
        DraftMixture(tuple(DraftIngredient(*i) for i in ingredients), patient="P-1", **draft),
        CATALOG,
        None,
        PatientFacts("P-1", "Patient", None, (allergy,)),
    )
    return [f for f in plan.findings if f.code.startswith("allergy.")]


def test_a_latex_stopper_is_met_even_when_no_excipient_says_so():
    (found,) = findings(
        [("biotin", "5 mg")],
        Allergy(
            id=1, substance="natural_rubber_latex", verification="confirmed", criticality="high"
        ),
        final_volume="5 mL",
        diluent="saline_latex_stopper",
    )
    assert found.severity.value == "block" and "stopper of" in found.message


def test_what_a_powder_is_reconstituted_with_is_met_too():
    (found,) = findings(
        [("glutathione", "300 mg")],
        Allergy(id=1, group="benzyl_alcohol", verification="confirmed", criticality="high"),
    )
    assert "reconstituted with" in found.message
