"""A small hand-made catalogue, so domain expectations do not move when data/ grows."""

import pytest

from mesomix.domain.catalog import Catalog
from mesomix.reference import catalog_from_records

SOURCE = "test fixture"

RECORDS = {
    "group": [
        {"code": "amide_local_anaesthetics", "name": "Amide local anaesthetics", "source": SOURCE},
        {"code": "parabens", "name": "Parabens", "source": SOURCE},
        {"code": "natural_rubber_latex", "name": "Natural rubber latex", "source": SOURCE},
        {"code": "benzyl_alcohol", "name": "Benzyl alcohol", "source": SOURCE},
    ],
    "substance": [
        {
            "code": "lidocaine_hcl",
            "name": "Lidocaine hydrochloride",
            "synonyms": ["lidocaine", "lignocaine"],
            "molar_mass": "288.81 g/mol",
            "allergen_groups": ["amide_local_anaesthetics"],
        },
        {"code": "epinephrine", "name": "Epinephrine", "synonyms": ["adrenaline"]},
        {
            "code": "biotin",
            "name": "Biotin",
            "synonyms": ["vitamin H"],
            "molar_mass": "244.31 g/mol",
        },
        {
            "code": "cholecalciferol",
            "name": "Cholecalciferol",
            "synonyms": ["vitamin D3"],
            "iu": {"mass": "0.025 mcg", "source": "NIH ODS Vitamin D fact sheet"},
        },
        {
            "code": "d_alpha_tocopherol",
            "name": "d-alpha-Tocopherol",
            "iu": {"mass": "0.67 mg", "source": "NIH ODS Vitamin E fact sheet"},
        },
        {
            "code": "dl_alpha_tocopherol",
            "name": "dl-alpha-Tocopherol",
            "iu": {"mass": "0.9 mg", "source": "NIH ODS Vitamin E fact sheet"},
        },
        {"code": "zinc", "name": "Zinc", "molar_mass": "65.38 g/mol", "valence": 2},
        {
            "code": "zinc_sulfate_heptahydrate",
            "name": "Zinc sulfate heptahydrate",
            "molar_mass": "287.56 g/mol",
            "valence": 2,
            "elemental": {"substance": "zinc", "atoms": 1, "source": SOURCE},
        },
        {
            "code": "magnesium_sulfate_heptahydrate",
            "name": "Magnesium sulfate heptahydrate",
            "molar_mass": "246.47 g/mol",
            "valence": 2,
        },
        {"code": "hyaluronidase", "name": "Hyaluronidase", "measure": "activity"},
        {
            "code": "sodium_chloride",
            "name": "Sodium chloride",
            "role": "diluent",
            "molar_mass": "58.44 g/mol",
            "valence": 1,
        },
        {
            "code": "methylparaben",
            "name": "Methylparaben",
            "role": "excipient",
            "allergen_groups": ["parabens"],
        },
        {"code": "caffeine", "name": "Caffeine"},
        {
            "code": "natural_rubber_latex",
            "name": "Natural rubber latex",
            "role": "excipient",
            "allergen_groups": ["natural_rubber_latex"],
        },
        {
            "code": "benzyl_alcohol",
            "name": "Benzyl alcohol",
            "role": "excipient",
            "allergen_groups": ["benzyl_alcohol"],
        },
        {"code": "water_for_injection", "name": "Water for injection", "role": "diluent"},
        {"code": "glutathione", "name": "Glutathione"},
    ],
    "product": [
        {
            "code": "lido2_5ml_amp",
            "name": "Lidocaine HCl 2% 5 mL ampoule",
            "container": "single_dose",
            "container_volume": "5 mL",
            "strength": [{"substance": "lidocaine_hcl", "per_ml": "20 mg/mL"}],
        },
        {
            "code": "lido1_20ml_mdv",
            "name": "Lidocaine HCl 1% 20 mL multi-dose vial",
            "container": "multi_dose",
            "container_volume": "20 mL",
            "strength": [{"substance": "lidocaine_hcl", "per_ml": "10 mg/mL"}],
            "excipient": [{"substance": "methylparaben"}],
        },
        {
            "code": "lido_epi_amp",
            "name": "Lidocaine 1% with epinephrine 1:100000 5 mL",
            "container": "single_dose",
            "container_volume": "5 mL",
            "strength": [
                {"substance": "lidocaine_hcl", "per_ml": "10 mg/mL"},
                {"substance": "epinephrine", "per_ml": "1:100000"},
            ],
        },
        {
            "code": "biotin_1ml_amp",
            "name": "Biotin 5 mg/mL 1 mL ampoule",
            "container": "single_dose",
            "container_volume": "1 mL",
            "strength": [{"substance": "biotin", "per_ml": "5 mg/mL"}],
        },
        {
            "code": "vitd_1ml_amp",
            "name": "Cholecalciferol 100000 IU/mL 1 mL ampoule",
            "container": "single_dose",
            "container_volume": "1 mL",
            "strength": [{"substance": "cholecalciferol", "per_ml": "2.5 mg/mL"}],
        },
        {
            "code": "mgso4_50pct_10ml",
            "name": "Magnesium sulfate 50% 10 mL vial",
            "container": "single_dose",
            "container_volume": "10 mL",
            "strength": [{"substance": "magnesium_sulfate_heptahydrate", "per_ml": "500 mg/mL"}],
        },
        {
            "code": "hyaluronidase_150",
            "name": "Hyaluronidase 150 IU/mL 1 mL vial",
            "container": "single_dose",
            "container_volume": "1 mL",
            "strength": [{"substance": "hyaluronidase", "per_ml": "150 IU/mL"}],
        },
        {
            "code": "sodium_chloride_09_10ml_vial",
            "name": "Sodium chloride 0.9% 10 mL ampoule",
            "container": "single_dose",
            "container_volume": "10 mL",
            "diluent": True,
            "strength": [{"substance": "sodium_chloride", "per_ml": "0.9 %"}],
        },
        {
            "code": "saline_latex_stopper",
            "name": "Sodium chloride 0.9% vial, latex stopper",
            "container": "single_dose",
            "container_volume": "10 mL",
            "diluent": True,
            "latex_stopper": True,
            "strength": [{"substance": "sodium_chloride", "per_ml": "0.9 %"}],
        },
        {
            "code": "bacteriostatic_water",
            "name": "Bacteriostatic water 30 mL",
            "container": "multi_dose",
            "container_volume": "30 mL",
            "diluent": True,
            "excipient": [{"substance": "benzyl_alcohol"}],
        },
        {
            "code": "glutathione_powder",
            "name": "Glutathione 600 mg powder",
            "form": "powder",
            "reconstitute_with": "bacteriostatic_water",
            "container": "single_dose",
            "container_volume": "4 mL",
            "strength": [{"substance": "glutathione", "per_ml": "150 mg/mL"}],
        },
    ],
}


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return catalog_from_records(RECORDS)
