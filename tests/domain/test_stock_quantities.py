"""Stock taken off or put on a lot as a person types it: a volume, or whole containers."""

from __future__ import annotations

import pytest

from mesomix.domain.inventory import (
    Shelved,
    StockChangeError,
    check_whole_containers,
    open_volume_ul,
    stock_volume_ul,
)

AMPOULE = 2_000  # µL in one 2 mL ampoule
ANY = Shelved("Saline 2 mL", AMPOULE)  # a name that says no kind of container
AMPOULES = Shelved("Lidocaine Hydrochloride Injection 2% 2 mL ampoule", AMPOULE)


@pytest.mark.parametrize(
    ("typed", "ul"),
    [
        ("2 mL", 2_000),
        ("0.5 mL", 500),
        ("1 ampoule", 2_000),
        ("3 ampoules", 6_000),
        ("2 Vials", 4_000),
        ("1 container", 2_000),
        ("4 ampules", 8_000),
        ("1vial", 2_000),
    ],
)
def test_a_volume_or_whole_containers_is_read_in_microlitres(typed, ul):
    assert stock_volume_ul(typed, ANY) == ul


@pytest.mark.parametrize(
    ("typed", "product", "says"),
    [
        ("1.5 vials", ANY, "'1.5 vials' is not a whole number of containers"),
        ("0 vials", ANY, "not a whole number of containers"),
        ("1,000 vials", ANY, "not a whole number"),
        ("100001 vials", ANY, "more than 100,000 containers"),
        ("1 vial", Shelved("Saline", 0), "container size is not known"),
        ("1 amp", ANY, "ampere"),
        ("2", ANY, "volume"),
        ("2 mg", ANY, "volume: "),
        ("1 vial", AMPOULES, "this lot holds ampoules, not vials: type e.g. 1 ampoule"),
        ("2 bags", AMPOULES, "not bags"),
    ],
)
def test_what_is_not_a_volume_or_whole_containers_is_refused_in_words(typed, product, says):
    with pytest.raises(StockChangeError, match=says):
        stock_volume_ul(typed, product)


@pytest.mark.parametrize("typed", ["2 ampoules", "2 ampules", "2 Ampoules", "2 containers"])
def test_the_products_own_container_word_or_container_is_taken(typed):
    assert stock_volume_ul(typed, AMPOULES) == 4_000


def test_single_dose_containers_move_whole():
    check_whole_containers(-4_000, AMPOULE, "K1")
    check_whole_containers(2_000, AMPOULE, "K1")
    for part in (-1_000, 500):
        with pytest.raises(StockChangeError, match="single-dose containers of 2 mL: give whole"):
            check_whole_containers(part, AMPOULE, "K1")


@pytest.mark.parametrize("typed", ["0", "0 mL", "0ml", " empty ", "EMPTY"])
def test_an_opened_container_may_be_counted_empty(typed):
    assert open_volume_ul(typed, 10_000) == 0


def test_an_opened_container_holds_no_more_than_a_full_one():
    assert open_volume_ul("7.5 mL", 10_000) == 7_500
    with pytest.raises(StockChangeError, match="holds at most 10 mL"):
        open_volume_ul("12 mL", 10_000)
    with pytest.raises(StockChangeError, match="'1 vial' counts containers: type what is left"):
        open_volume_ul("1 vial", 10_000)
