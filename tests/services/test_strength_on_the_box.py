"""A product received by the name on its box weighs the strength and size typed with the name:
"Xylocaine 1% 10 mL" is the 1% 10 mL vial, not the 2% one nor the 1% 50 mL one; a strength no
product of that name has is refused saying which there are; several that agree stay several."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mesomix.domain.box import box_numbers
from mesomix.domain.units import format_amount
from mesomix.services.errors import ServiceError
from tests.factories import lot_row, snapshot

PLAIN_1PCT_20 = "xylocaine_1pct_20ml_mdv"
EPI_1PCT_20 = "xylocaine_1pct_epi100k_20ml_mdv"


def cells(product: str, containers: str = "3") -> dict[str, str]:
    return {
        "product": product,
        "lot_number": "XY-1",
        "expiry": "2028-03-31",
        "containers": containers,
        "supplier": "",
        "unit_cost": "",
    }


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Xylocaine 1% 10 mL", "xylocaine_1pct_10ml_mdv"),
        ("Xylocaine 2 % 10 ml", "xylocaine_2pct_10ml_mdv"),  # a space before %, ml
        ("xylocaine 20 mg/mL 10mL", "xylocaine_2pct_10ml_mdv"),  # 2% = 20 mg/mL (w/v)
        ("Xylocaine 10 mg/ml 10 mL", "xylocaine_1pct_10ml_mdv"),
        ("lidocaine 1% 2 mL", "lidocaine_1pct_2ml_amp"),
        ("lidocaine 1% 5 mL", "lidocaine_1pct_5ml_amp"),
        ("lidocaine 10 mg/mL 5mL", "lidocaine_1pct_5ml_amp"),
        ("lidocaine 2% 5 mL", "lidocaine_2pct_5ml_amp"),
        ("Xylocaine 1% with epinephrine 1:100,000 50 mL", "xylocaine_1pct_epi100k_50ml_mdv"),
        ("Xylocaine 1% 1:100,000 20 mL", EPI_1PCT_20),  # the 1% is lidocaine's
        ("Juvederm lidocaine 0.3% 0.4 mL", "juvederm_ultra_xc_0_4ml_syringe"),
        ("cyanocobalamin 1000 mcg/mL 10 mL", "cyanocobalamin_1000mcg_10ml_mdv"),
        ("procain 0.5% 5 ml", "procain_steigerwald_05pct_5ml_amp"),
        ("pascorbin 750 mg", "pascorbin_750mg_5ml_amp"),  # what one ampoule holds
        ("Pascorbin 7.5 g", "pascorbin_7_5g_50ml_vial"),
        ("sodium bicarbonate 8.4% 10 mL", "sodium_bicarbonate_84pct_10ml_syringe"),
        (
            "sodium bicarbonate 1 mEq/mL 10 mL",
            "sodium_bicarbonate_84pct_10ml_syringe",
        ),  # the name's
        # typos in the name still forgiven
        ("Xylocain 1% 10 mL", "xylocaine_1pct_10ml_mdv"),
        ("Xilocaine 2% 10 mL", "xylocaine_2pct_10ml_mdv"),
        ("lidocain 2% 5ml", "lidocaine_2pct_5ml_amp"),
        # the code and the whole name still work
        ("xylocaine_1pct_10ml_mdv", "xylocaine_1pct_10ml_mdv"),
        (
            "Xylocaine (lidocaine HCl) 1% 10 mL multiple-dose vial (contains methylparaben 1 mg/mL)",
            "xylocaine_1pct_10ml_mdv",
        ),
        ("Xylocaine (lidocaine HCl) 2% 10 mL multiple-dose vial", "xylocaine_2pct_10ml_mdv"),
    ],
)
def test_the_strength_and_size_typed_choose_the_product(clinic, typed, code):
    choice = clinic.stock.which_product(typed)
    assert (choice.code, choice.problem) == (code, "")


@pytest.mark.parametrize(
    ("typed", "candidates"),
    [
        ("lidocaine 2% 2 mL", {"lidocaine_2pct_2ml_amp", "lidocaine_hospira_2pct_2ml_amp"}),
        # both with epinephrine, 1:200,000 without methylparaben and 1:100,000 with: not typed
        (
            "Xylocaine with epinephrine 2% 20 mL",
            {"xylocaine_mpf_2pct_epi200k_20ml_sdv", "xylocaine_2pct_epi100k_20ml_mdv"},
        ),
        # sodium chloride beside no active at all is no "active more": never guessed
        (
            "Bacteriostatic 30 mL",
            {"bacteriostatic_water_30ml_mdv", "bacteriostatic_sodium_chloride_09_30ml_mdv"},
        ),
        (
            "lidocaine 0.3% 0.8 mL",
            {"juvederm_ultra_xc_0_8ml_syringe", "juvederm_ultra_plus_xc_0_8ml_syringe"},
        ),
    ],
)
def test_several_products_with_the_numbers_typed_stay_several(clinic, typed, candidates):
    choice = clinic.stock.which_product(typed)
    assert choice.code == "" and {code for code, _ in choice.candidates} == candidates
    assert choice.problem.startswith(f"'{typed}' fits {len(candidates)} products")


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Xylocaine 1% 50 mL", "xylocaine_1pct_50ml_mdv"),
        ("Xylocaine 1% 20 mL", PLAIN_1PCT_20),
        ("Xylocaine 2% 50 mL", "xylocaine_2pct_50ml_mdv"),
        ("Xylocaine 10 mg/mL 50 mL", "xylocaine_1pct_50ml_mdv"),
        ("lidocaine 1% 50 mL", "xylocaine_1pct_50ml_mdv"),
        # and the plain 2% 20 mL beside both 2% 20 mL vials with epinephrine
        ("Xylocaine 2% 20 mL", "xylocaine_2pct_20ml_mdv"),
    ],
)
def test_a_box_that_does_not_say_epinephrine_is_the_product_without_it(clinic, typed, code):
    """'Xylocaine 1% 50 mL' agrees with the plain vial and the one with epinephrine 1:100,000:
    a box with epinephrine says so, so the name typed without it is the plain vial."""
    choice = clinic.stock.which_product(typed)
    assert (choice.code, choice.problem, choice.candidates) == (code, "", ())


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Xylocaine with epinephrine 1% 50 mL", "xylocaine_1pct_epi100k_50ml_mdv"),
        ("Xylocaine with adrenaline 1% 50 mL", "xylocaine_1pct_epi100k_50ml_mdv"),
        ("Xylocaine 1% epinephrine 20 mL", EPI_1PCT_20),
        ("xylocaine epi 1% 20 mL", EPI_1PCT_20),
        ("lidocaine adrenaline 1% 50 mL", "xylocaine_1pct_epi100k_50ml_mdv"),
        ("Xylocaine 2% with epinefrine 50 mL", "xylocaine_2pct_epi100k_50ml_mdv"),  # a typo
    ],
)
def test_a_box_that_says_epinephrine_or_adrenaline_is_the_product_with_it(clinic, typed, code):
    choice = clinic.stock.which_product(typed)
    assert (choice.code, choice.problem, choice.candidates) == (code, "", ())


MPF_EPI_1PCT_30 = "xylocaine_mpf_1pct_epi200k_30ml_sdv"


@pytest.mark.parametrize(
    ("name", "numbers"),
    [
        ("Xylocaine", "1% 30 mL"),
        ("Xylocaine", "10 mg/mL 30 mL"),
        ("Xylocaine MPF", "1% 30 mL"),  # the catalogue's MPF vials all have epinephrine; boxes not
    ],
)
def test_a_product_with_epinephrine_is_never_chosen_by_a_name_that_does_not_say_it(
    clinic, name, numbers
):
    """No plain Xylocaine is 1% 30 mL: the only product with these numbers is the MPF vial with
    epinephrine and sulfite. A box with epinephrine says so, so it is refused, named, with the
    words that would choose it — never booked as the box without them."""
    choice = clinic.stock.which_product(f"{name} {numbers}")
    assert (choice.code, choice.candidates) == ("", ())
    first, line = choice.problem.splitlines()
    assert first == (
        f"no plain {name} is {numbers}; one with epinephrine has these numbers — "
        "type 'with epinephrine', or its code, if it is the one:"
    )
    assert line.startswith("  Xylocaine MPF 1% with epinephri") and line.endswith(MPF_EPI_1PCT_30)


@pytest.mark.parametrize(
    "typed",
    [
        "Xylocaine with epinephrine 1% 30 mL",
        "Xylocaine adrenaline 1% 30 mL",
        "xylocaine epi 1% 30 mL",
        "Xylocaine 1% 1:200,000 30 mL",  # the epinephrine's strength says it
        "Xylocaine MPF with epinefrine 1% 30 mL",  # a typo the search forgives
        MPF_EPI_1PCT_30,
    ],
)
def test_the_product_with_epinephrine_is_chosen_when_what_is_typed_says_it(clinic, typed):
    choice = clinic.stock.which_product(typed)
    assert (choice.code, choice.problem) == (MPF_EPI_1PCT_30, "")


def test_a_name_alone_that_finds_only_a_product_with_epinephrine_does_not_choose_it(clinic):
    choice = clinic.stock.which_product("Xylocaine MPF 30")  # no unit: a word of the name
    assert choice.code == "" and choice.problem.endswith(f"· {MPF_EPI_1PCT_30}")
    assert "type 'with epinephrine', or its code" in choice.problem


def test_a_filler_with_lidocaine_is_not_chosen_by_a_lidocaine_strength_alone(clinic):
    """'lidocaine 0.3% 1 mL' agrees only with Restylane Kysse, hyaluronic acid with lidocaine:
    refused, since 'lidocaine' finds plain lidocaine; its brand name still chooses it."""
    choice = clinic.stock.which_product("lidocaine 0.3% 1 mL")
    assert choice.code == "" and "one with sodium hyaluronate" in choice.problem
    assert (
        clinic.stock.which_product("Restylane 20 mg/mL 1 mL").code == "restylane_kysse_1ml_syringe"
    )
    assert clinic.stock.which_product("Kysse").code == "restylane_kysse_1ml_syringe"


def test_only_an_active_more_is_decided_by_the_words_never_a_preservative(clinic):
    """The pure rule: of products agreeing with the numbers, one with an active more than
    another is left when no word may name that active, kept alone when a word surely does;
    a preservative-free twin and the vial with methylparaben stay side by side, and a word
    that may be the active's ("acid", of "adrenaline acid tartrate") decides nothing."""
    from dataclasses import replace

    from mesomix.domain.box import narrowed_by_actives

    catalog = clinic.catalog.catalog()
    plain = catalog.products["xylocaine_1pct_50ml_mdv"]
    epi = catalog.products["xylocaine_1pct_epi100k_50ml_mdv"]
    free = replace(plain, code="xylocaine_pf_1pct_50ml", excipients=())

    def left(typed: str, *products) -> list[str]:
        return [p.code for p in narrowed_by_actives(box_numbers(typed), products, catalog)]

    assert left("Xylocaine 1% 50 mL", plain, epi) == [plain.code]
    assert left("Xylocaine 1% 50 mL", plain, free, epi) == [plain.code, free.code]
    assert left("Xylocaine adrenaline 1% 50 mL", plain, free, epi) == [epi.code]
    assert left("Xylocaine acid 1% 50 mL", plain, epi) == [plain.code, epi.code]
    assert left("Xylocaine 1% 50 mL", epi) == [epi.code]  # alone, it is what agrees
    assert left("Xylocaine 1% 50 mL") == []


def test_every_product_named_stays_of_the_strength_typed(clinic):
    """'lidocaine 2%' names every 2% lidocaine product and none of 1% (the "2" of "2 mL")."""
    choice = clinic.stock.which_product("lidocaine 2%")
    catalog = clinic.catalog.catalog()
    strengths = {
        catalog.products[code].strength_table["lidocaine_hcl"] for code, _ in choice.candidates
    }
    assert choice.code == "" and strengths == {(Decimal(20), "mass")}
    assert "lidocaine_1pct_2ml_amp" not in {code for code, _ in choice.candidates}


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("Xylocaine 3%", "no Xylocaine product is 3%: there are 1% and 2%"),
        ("Xylocaine 1.5% 10 mL", "no Xylocaine product is 1.5%: there are 1% and 2%"),
        (
            "Xylocaine 2% 30 mL",
            "no Xylocaine 2% product is 30 mL: there are 10 mL, 20 mL and 50 mL",
        ),
        ("xylocaine 40 mg/mL", "no xylocaine product is 40 mg/mL: there are 10 mg/mL and 20 mg/mL"),
        ("Pascorbin 800 mg", "no Pascorbin product holds 800 mg: there are 750 mg and 7500 mg"),
        # the name's "benzyl alcohol 15 mg/mL" is not the folic acid's 5 mg/mL
        ("Folic acid 15 mg/mL", "no Folic acid product is 15 mg/mL: there is only 5 mg/mL"),
        # 2% is Restylane Kysse's hyaluronic acid, not its lidocaine (3 mg/mL): not chosen
        (
            "lidocaine 2% 1 mL",
            "no lidocaine 2% product is 1 mL: there are 2 mL, 5 mL, 10 mL, 20 mL and 50 mL",
        ),
        (
            "Xylocaine 1:100,000 20 mL",
            "no Xylocaine product is 1:100,000: there are 1:100 and 1:50; 1:100,000 is the "
            "epinephrine of some: type its name with the strength",
        ),
    ],
)
def test_a_strength_or_size_no_product_has_is_refused_saying_what_there_is(clinic, typed, says):
    choice = clinic.stock.which_product(typed)
    assert (choice.code, choice.problem, choice.candidates) == ("", says, ())


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("Xylocaine 1,5% 10 mL", "'1,5%': decimal comma — write 1.5 with a point"),
        ("Xylocaine 1% 10 ML", "'10 ML': 'ML' would be read as megalitres"),
        ("Xylocaine 2.0% 10 mL", "write 2 without the trailing zero"),
        ("lidocaine .5%", "write a leading zero (0.5)"),
        ("Hylenex 150 units/mL", "write IU for international units"),
        ("Xylocaine 1% 10 cc", "write mL (1 cc is 1 mL)"),
    ],
)
def test_a_number_that_cannot_be_read_is_refused_not_skipped(clinic, typed, says):
    """Skipped, "Xylocaine 1,5%" would be searched as the words 1 and 5: the 1% 50 mL vial."""
    choice = clinic.stock.which_product(typed)
    assert choice.code == "" and says in choice.problem


def test_one_product_with_the_numbers_that_fits_the_name_less_well_is_named_not_chosen(clinic):
    """No lidocaine 1% 30 mL but Xylocaine MPF with epinephrine, found through its lidocaine."""
    choice = clinic.stock.which_product("lidocaine 1% 30 mL")
    assert choice.code == ""
    first, *rest = choice.problem.splitlines()
    assert first == "no lidocaine 1% product is 30 mL: there are 2 mL, 5 mL, 10 mL, 20 mL and 50 mL"
    assert "fits the name less well" in rest[0]
    assert rest[1].endswith("· xylocaine_mpf_1pct_epi200k_30ml_sdv")


@pytest.mark.parametrize(
    ("typed", "code", "volume_ul"),
    [
        ("Xylocaine 1% 10 mL", "xylocaine_1pct_10ml_mdv", 10_000),
        ("Xylocaine with epinephrine 1% 30 mL", MPF_EPI_1PCT_30, 30_000),
    ],
)
def test_receiving_xylocaine_by_its_numbers_books_that_vial(clinic, typed, code, volume_ul):
    done = clinic.stock.receive_typed("nadia", cells(typed))
    lot = lot_row(clinic, done.lot_id)
    assert (lot.product_code, lot.on_hand_ul) == (code, 3 * volume_ul)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("Xylocaine 3% 10 mL", "product: no Xylocaine product is 3%: there are 1% and 2%"),
        ("Xylocaine 1% 30 mL", "product: no plain Xylocaine is 1% 30 mL; one with epinephrine"),
    ],
)
def test_receiving_a_product_the_numbers_do_not_choose_is_refused_and_writes_nothing(
    clinic, typed, says
):
    before = snapshot(clinic)
    with pytest.raises(ServiceError) as refused:
        clinic.stock.receive_typed("nadia", cells(typed))
    assert says in str(refused.value)
    assert snapshot(clinic) == before


def test_every_product_typed_by_its_first_word_strength_and_size_is_it_or_among_several(clinic):
    """Across the catalogue: the first word of the name with the product's own strength and
    container volume chooses it, or names it among several — or, for a product with an active
    more than a plainer one (epinephrine), chooses the plainer one or refuses naming it when no
    plainer one has the numbers (never choosing it unsaid), and finds it once the other actives
    are named too; never another product. Three times its strength never chooses a product
    without that strength."""
    catalog = clinic.catalog.catalog()
    refused_naming_it = set()
    for product in catalog.products.values():
        word = product.name.split()[0]
        volume = format_amount(Decimal(product.container_volume_ul) / 1000, "volume")
        for substance, (per_ml, dimension) in list(product.strength_table.items())[:1]:
            strength = f"{format_amount(per_ml, dimension)}/mL"
            if Decimal(strength.split()[0]) != per_ml:
                continue  # not shown exactly in three decimals
            choice = clinic.stock.which_product(f"{word} {strength} {volume}")
            found = {choice.code} | {code for code, _ in choice.candidates}
            if product.code not in found:
                chosen = catalog.products[choice.code] if choice.code else None
                if chosen is None:  # refused, naming it and the active to type
                    assert choice.problem.startswith(f"no plain {word} is"), choice.problem
                    assert choice.problem.endswith(f"· {product.code}"), choice.problem
                    refused_naming_it.add(product.code)
                else:
                    assert set(chosen.strength_table) < set(product.strength_table), chosen.code
                    assert all(
                        chosen.strength_table[s] == product.strength_table[s]
                        for s in chosen.strength_table
                    )
                plainer = set(chosen.strength_table) if chosen else {substance}
                more = [
                    catalog.substances[s].short_name
                    for s in product.strength_table
                    if s not in plainer
                ]
                choice = clinic.stock.which_product(f"{word} {' '.join(more)} {strength} {volume}")
                found = {choice.code} | {code for code, _ in choice.candidates}
                assert product.code in found, (product.code, more, choice.problem)
            wrong = f"{format_amount(per_ml * 3, dimension)}/mL"
            chosen = clinic.stock.which_product(f"{word} {wrong} {volume}").code
            if chosen:
                assert catalog.products[chosen].strength_table[substance] == (per_ml * 3, dimension)
    # the one with epinephrine that no plain vial of its numbers stands beside
    assert refused_naming_it == {"xylocaine_mpf_1pct_epi200k_30ml_sdv"}


@pytest.mark.parametrize(
    ("typed", "rest", "numbers"),
    [
        (
            "Xylocaine 1% 10 mL",
            "Xylocaine",
            [("strength", "10", "mass"), ("volume", "10", "volume")],
        ),
        ("lidocaine 20 mg/2 ml", "lidocaine", [("strength", "10", "mass")]),
        (
            "Xylocaine 1:100,000 1:200000",
            "Xylocaine",
            [("strength", "0.01", "mass"), ("strength", "0.005", "mass")],
        ),
        ("B12 1000 mcg", "B12", [("content", "1", "mass")]),  # B12 is a name, not a number
        ("Vitamin C 1000 ampoule, 5 mL", "Vitamin C 1000 ampoule", [("volume", "5", "volume")]),
        ("Procain 0.5%-Steigerwald", "Procain -Steigerwald", [("strength", "5", "mass")]),
    ],
)
def test_box_numbers_reads_strengths_and_sizes_and_leaves_the_name(typed, rest, numbers):
    read = box_numbers(typed)
    got = [(n.kind, n.value, n.dimension) for n in read.typed]
    assert got == [(kind, Decimal(value), dimension) for kind, value, dimension in numbers]
    assert (read.rest, read.unreadable) == (rest, "")
