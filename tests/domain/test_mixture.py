"""Drafts become plans: what to draw from which product, and findings for what is wrong."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from mesomix.domain.findings import Severity
from mesomix.domain.mixture import DraftIngredient, DraftMixture, plan_mixture
from mesomix.domain.mixture.plan import Delivered
from mesomix.domain.units import format_quantity
from mesomix.reference import catalog_from_records
from tests.domain.conftest import RECORDS

CATALOG = catalog_from_records(RECORDS)


def plan_of(*ingredients, final="", diluent=None, stock=None):
    draft = DraftMixture(
        ingredients=tuple(DraftIngredient(*i) for i in ingredients),
        final_volume=final,
        diluent=diluent,
    )
    return plan_mixture(draft, CATALOG, stock)


def codes(plan):
    return [f.code for f in plan.findings]


def test_a_simple_mixture_plans_draws_and_qs():
    plan = plan_of(("lidocaine", "40 mg"), ("biotin", "5 mg"), final="8 mL")
    assert not plan.blocked
    lido, biotin, saline = plan.draws
    assert (lido.product.code, lido.volume_ul) == ("lido1_20ml_mdv", 4000)  # no waste from a vial
    assert (biotin.product.code, biotin.volume_ul, biotin.containers) == ("biotin_1ml_amp", 1000, 1)
    assert (saline.ingredient, saline.product.code, saline.volume_ul) == (
        None,
        "sodium_chloride_09_10ml_vial",
        3000,
    )
    assert sum(d.volume_ul for d in plan.draws) == plan.final_volume_ul == 8000
    assert format_quantity(plan.totals["lidocaine_hcl"]) == "40 mg"
    assert format_quantity(lido.delivered[0].concentration) == "5 mg/mL"


def test_stock_decides_between_products():
    in_stock = {"lido2_5ml_amp": 50_000, "lido1_20ml_mdv": 0}
    plan = plan_of(("lidocaine", "40 mg"), stock=in_stock)
    assert plan.draws[0].product.code == "lido2_5ml_amp"
    assert plan.draws[0].volume_ul == 2000


def test_single_substance_product_preferred_over_a_combination():
    plan = plan_of(("lidocaine", "10 mg"))
    assert plan.draws[0].product.code != "lido_epi_amp"


def test_product_named_directly_and_read_as_its_first_substance():
    plan = plan_of(("Lidocaine 1% with epinephrine 1:100000 5 mL", "20 mg"))
    draw = plan.draws[0]
    assert draw.product.code == "lido_epi_amp" and draw.volume_ul == 2000
    assert {d.substance.code: format_quantity(d.amount) for d in draw.delivered} == {
        "lidocaine_hcl": "20 mg",
        "epinephrine": "0.02 mg",
    }
    assert "amount.read_as" in codes(plan)


def test_a_volume_of_a_substance_is_read_as_a_volume_of_a_product():
    plan = plan_of(("biotin", "0.5 mL"))
    assert plan.draws[0].volume_ul == 500
    assert "amount.read_as" in codes(plan)


def test_unknown_substance_blocks_and_suggests():
    plan = plan_of(("lidocane", "40 mg"))
    assert plan.blocked
    finding = plan.findings[0]
    assert finding.code == "ingredient.unknown" and finding.ingredient == 0
    assert "did you mean 'lidocaine'" in finding.message.lower()


def test_bad_amount_blocks_with_the_parser_message():
    plan = plan_of(("lidocaine", "40 ML"))
    assert [f.code for f in plan.findings if f.severity is Severity.BLOCK] == ["amount.invalid"]
    assert "megalitres" in plan.findings[0].message
    assert not plan.findings[0].overridable


def test_iu_for_a_substance_without_iu_blocks():
    plan = plan_of(("biotin", "1000 IU"))
    assert codes(plan) == ["amount.unit_mismatch"]
    assert "no IU definition" in plan.findings[0].message


def test_dimension_no_product_can_supply():
    plan = plan_of(("hyaluronidase", "5 mg"))
    assert codes(plan) == ["amount.unit_mismatch"]


def test_no_product_supplies_the_substance():
    plan = plan_of(("caffeine", "10 mg"))
    assert codes(plan) == ["product.none"]


def test_ingredients_above_the_final_volume_block():
    plan = plan_of(("lidocaine", "100 mg"), final="5 mL")
    assert "mixture.over_final_volume" in codes(plan)
    assert plan.blocked


def test_too_small_to_measure_blocks():
    plan = plan_of(("biotin", "0.01 mg"))
    assert codes(plan) == ["draw.too_small"]
    assert "below 0.01 mL" in plan.findings[0].message


def test_rounding_to_the_syringe_is_said():
    plan = plan_of(("biotin", "1.234 mg"))
    assert plan.draws[0].volume_ul == 250
    assert "draw.rounded" in codes(plan)


def test_empty_mixture_and_missing_pieces():
    assert codes(plan_of()) == ["mixture.empty"]
    assert "ingredient.missing" in codes(plan_of(("", "5 mg")))
    assert "amount.invalid" in codes(plan_of(("biotin", "")))
    assert "final_volume.invalid" in codes(plan_of(("biotin", "5 mg"), final="5 mg"))
    assert "diluent.unknown" in codes(plan_of(("biotin", "5 mg"), final="5 mL", diluent="nope"))


def test_not_enough_stock_blocks_with_whole_ampoules_counted():
    plan = plan_of(("biotin", "6 mg"), stock={"biotin_1ml_amp": 1000})
    assert "stock.insufficient" in codes(plan)
    assert "2 mL needed, 1 mL in usable lots" in plan.findings[-1].message


def test_not_enough_stock_names_the_rows_that_draw_the_product():
    """Which row to change: the ingredient by its place, or the diluent, however its name was
    typed (a code in capitals reads as the substance)."""
    stock = {"biotin_1ml_amp": 0, "sodium_chloride_09_10ml_vial": 0}
    plan = plan_of(
        ("biotin", "1 mg"), ("BIOTIN", "1 mg"), final="5 mL",
        diluent="sodium_chloride_09_10ml_vial", stock=stock,
    )  # fmt: skip
    short = [f.message for f in plan.findings if f.code == "stock.insufficient"]
    assert len(short) == 2
    assert any("for ingredient 1 and ingredient 2:" in message for message in short), short
    assert any("for the diluent:" in message for message in short), short


amounts = st.decimals(min_value=Decimal("0.1"), max_value=Decimal(60), places=2)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["lidocaine", "biotin", "vitamin D3"]), amounts), max_size=5
    ),
    st.integers(1, 30),
)
def test_plan_invariants(items, final_ml):
    ingredients = [(what, f"{value.normalize():f} mg") for what, value in items]
    plan = plan_of(*ingredients, final=f"{final_ml} mL")
    drawn = sum(d.volume_ul for d in plan.draws)
    if not plan.blocked:
        assert drawn == plan.final_volume_ul == final_ml * 1000
        for draw in plan.draws:
            assert draw.volume_ul >= 10 and draw.volume_ul % 10 == 0
            assert draw.containers * draw.product.container_volume_ul >= draw.volume_ul
    else:
        assert all(f.message for f in plan.findings)
    for finding in plan.findings:
        assert finding.ingredient is None or 0 <= finding.ingredient < len(items)


def test_a_combination_is_never_picked_silently_for_a_single_substance():
    plan = plan_of(("lidocaine", "20 mg"), stock={"lido_epi_amp": 50_000})
    assert plan.draws[0].product.code != "lido_epi_amp"
    assert "stock.insufficient" in codes(plan)


def test_a_substance_only_sold_combined_warns_naming_the_other_actives():
    plan = plan_of(("epinephrine", "0.01 mg"))
    warning = next(f for f in plan.findings if f.code == "product.combination")
    assert warning.severity is Severity.WARN and "Lidocaine" in warning.message


def test_a_volume_of_a_substance_sold_in_several_strengths_is_ambiguous():
    plan = plan_of(("lidocaine", "1 mL"))
    assert codes(plan) == ["amount.volume_ambiguous"] and plan.blocked


def test_the_qs_must_be_a_diluent():
    plan = plan_of(("biotin", "5 mg"), final="10 mL", diluent="lido2_5ml_amp")
    assert "diluent.not_a_diluent" in codes(plan) and plan.blocked


def test_rounding_that_moves_the_dose_warns_then_blocks():
    warned = plan_of(("biotin", "0.33 mg"))  # 0.066 mL -> 0.07 mL: +6 %
    assert [f.severity for f in warned.findings if f.code == "draw.rounding_changes_dose"] == [
        Severity.WARN
    ]
    blocked = plan_of(("biotin", "0.07 mg"))  # 0.014 mL -> 0.01 mL: -29 %
    assert "draw.rounding_changes_dose" in codes(blocked) and blocked.blocked


def test_a_final_volume_a_syringe_cannot_measure_is_refused():
    plan = plan_of(("biotin", "5 mg"), final="0.995 mL")
    assert "final_volume.unmeasurable" in codes(plan) and plan.blocked


def test_an_ambiguous_name_is_not_guessed():
    from mesomix.reference import load_catalog

    shipped = load_catalog()
    plan = plan_mixture(DraftMixture((DraftIngredient("B12", "500 mcg"),)), shipped)
    (finding,) = plan.findings
    assert finding.code == "ingredient.ambiguous"
    assert "Cyanocobalamin" in finding.message and "Hydroxocobalamin" in finding.message


def test_a_name_typed_in_part_says_which_names_it_is_part_of():
    """Not "not in the catalogue" when it is: the names it fits, to take one whole."""
    (part,) = [
        f for f in plan_of(("sodium chl", "1 mL")).findings if f.code == "ingredient.unknown"
    ]
    assert part.message.startswith(
        "'sodium chl' is part of 3 names of substances and products — type"
    )
    assert "Sodium chloride 0.9% 10 mL ampoule" in part.message
    (unknown,) = [f for f in plan_of(("zzqx", "1 mL")).findings if f.code == "ingredient.unknown"]
    assert unknown.message == "'zzqx' is not a substance or product in the catalogue"


@settings(max_examples=300, deadline=None)
@given(
    value=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**7), places=4),
    final_ul=st.integers(min_value=10, max_value=500_000),
    dimension=st.sampled_from(["mass", "IU", "mEq", "mmol"]),  # what a substance delivers
)
def test_a_concentration_shown_without_pint_reads_as_pint_shows_it(value, final_ul, dimension):
    """Labels show each concentration through Decimals alone; it must read as before."""
    substance = CATALOG.substances["biotin"]
    delivered = Delivered(substance, value, dimension, final_ul)
    assert delivered.concentration_text() == format_quantity(delivered.concentration, 3)
    assert delivered.concentration_text(4) == format_quantity(delivered.concentration, 4)
    assert Delivered(substance, value, dimension, 0).concentration_text() == ""
