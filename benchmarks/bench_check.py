"""Checking a 10-ingredient mixture for a patient with 20 allergies, against the same arithmetic
done on pre-built pint Quantities.

The baseline is the least any checker must do: for each ingredient divide the amount by the
product's strength, convert to mL, add the volumes, take the q.s., and work out each final
concentration. mesomix does that and also reads the typed text, resolves names, chooses products
(steering clear of the patient's allergens), rounds to the syringe, matches every active and
excipient against 20 allergies through allergen groups, sums doses against their limits, and
writes findings.
"""

from __future__ import annotations

from decimal import Decimal

from benchmarks.common import Figure, per_call
from mesomix.domain.allergy import Allergy
from mesomix.domain.checks import PatientFacts, check_mixture
from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.domain.units import Q
from mesomix.reference import load_catalog

INGREDIENTS = [
    ("lidocaine", "20 mg"),
    ("tranexamic acid", "50 mg"),
    ("dexpanthenol", "125 mg"),
    ("cyanocobalamin", "500 mcg"),
    ("ascorbic acid", "150 mg"),
    ("thiamine", "25 mg"),
    ("pyridoxine", "25 mg"),
    ("folic acid", "1 mg"),
    ("l-carnitine", "100 mg"),
    ("glutathione", "150 mg"),
]
FINAL = "12 mL"
GOAL = 1.5
ALLERGIES = (
    *(Allergy(id=i, substance=code, verification="unconfirmed", criticality="low") for i, code in enumerate(
        ["procaine_hcl", "methylparaben", "sodium_metabisulfite", "benzyl_alcohol", "natural_rubber_latex",
         "hyaluronidase", "biotin", "caffeine", "dmae", "collagenase"])),
    *(Allergy(id=10 + i, group=code, verification="confirmed", criticality="high") for i, code in enumerate(
        ["ester_local_anaesthetics", "parabens", "sulfites", "soy", "hyaluronidase_venom", "thimerosal"])),
    *(Allergy(id=16 + i, text=text) for i, text in enumerate(["peanut", "bee sting", "penicillin", "nickel"])),
)  # fmt: skip
PATIENT = PatientFacts("P-BENCH", "Benchmark Patient", Decimal(70), ALLERGIES)


def run() -> Figure:
    catalog = load_catalog()
    draft = DraftMixture(
        ingredients=tuple(DraftIngredient(w, a) for w, a in INGREDIENTS), final_volume=FINAL
    )
    plan = check_mixture(draft, catalog, None, PATIENT)
    assert len(PATIENT.allergies) == 20
    assert not plan.blocked, [f.message for f in plan.findings]

    # The baseline's inputs are built beforehand: the amounts and the chosen products' strengths.
    amounts, strengths = [], []
    for draw in plan.draws:
        if draw.ingredient is None:
            continue
        delivered = draw.delivered[0]
        amounts.append(delivered.amount)
        strengths.append(draw.product.strength_of(delivered.substance.code).per_ml)
    final = Q(12, "milliliter")

    def baseline() -> object:
        volumes = [
            (amount / strength).to("milliliter")
            for amount, strength in zip(amounts, strengths, strict=True)
        ]
        total = sum(volumes, Q(Decimal(0), "milliliter"))
        qs = final - total
        concentrations = [amount / final for amount in amounts]
        return qs.magnitude > 0, concentrations

    def check() -> object:
        return check_mixture(draft, catalog, None, PATIENT)

    ours, base = per_call(check), per_call(baseline)
    ratio = ours / base
    return Figure(
        "check 10 ingredients, 20 allergies",
        ours * 1e6,
        base * 1e6,
        "µs",
        f"≤ {GOAL}×",
        ratio <= GOAL,
        "baseline: the same arithmetic on pre-built pint Quantities",
    )


if __name__ == "__main__":
    figure = run()
    print(f"{figure.name}: {figure.value:.0f} µs vs {figure.baseline:.0f} µs = {figure.ratio:.2f}×")
